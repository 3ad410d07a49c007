package v1header

import "testing"

func TestRoundTrip(t *testing.T) {
	for in, enc := range map[string]string{"plain name": "plain name", "café": "caf%C3%A9", "100%": "100%25",
		" edge ": "%20edge%20", "tab\there": "tab%09here", "": ""} {
		if got := EncodeValue(in); got != enc {
			t.Errorf("EncodeValue(%q) = %q, want %q", in, got, enc)
		}
		if NeedsEncoding(in) != (enc != in) {
			t.Errorf("NeedsEncoding(%q) = %v", in, NeedsEncoding(in))
		}
		if back := DecodeValue(enc); back != in {
			t.Errorf("DecodeValue(%q) = %q, want %q", enc, back, in)
		}
	}
	// python-glanceclient's encoding of everything, and bare '%' from old clients.
	for in, want := range map[string]string{"my%20image%2Fx": "my image/x", "50%": "50%", "%zz": "%zz"} {
		if got := DecodeValue(in); got != want {
			t.Errorf("DecodeValue(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"os_distro": "os_distro", "a b": "a%20b", "clé": "cl%C3%A9", "50%": "50%25"} {
		if got := EncodeName(in); got != want {
			t.Errorf("EncodeName(%q) = %q, want %q", in, got, want)
		}
	}
}
