package webfetch

import (
	"errors"
	"strings"
	"testing"
)

// refusedHosts are host forms that reach, or may reach, the local machine
// or an internal network, each written as a URI host.
var refusedHosts = []string{
	"127.0.0.1", "127.255.255.254", "localhost", "LOCALHOST.", "api.localhost",
	"[::1]", "[0:0:0:0:0:0:0:1]", "0.0.0.0", "[::]", "0", "0.1.2.3",
	"127.1", "127.0.1", "2130706433", "0x7f.1", "0x7f000001", "0X7F.0.0.1", "017700000001",
	"0177.0.0.1", "127.000.000.001", "127.0.0.1.", "127.0x0.0.1", "1.2.3.4.5",
	"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]",
	"[2002:7f00:1::]", "[::ffff:169.254.169.254]", "[fe80::1%25lo]", "[fe80::1]",
	"169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1",
	"[fd00::1]", "[fec0::1]", "224.0.0.1", "[ff02::1]", "255.255.255.255", "240.0.0.1",
}

func TestCheckRefuses(t *testing.T) {
	cases := []string{
		"", "http://", "http:opaque", "//example.com/x", "example.com/x", "/x",
		"file:///etc/passwd", "ftp://example.com/image", "gopher://example.com/",
		"HTTP://user:pass@example.com/", "http://user@example.com/", "http://:@example.com/",
		"http://example.com:8080/", "https://example.com:8443/", "http://example.com:0/",
		"http://example.com:65536/", "http://example.com:22/", "http://127.0.0.1:15000/v3",
		"http://ex ample.com/", "http://exa!mple.com/", "http://пример.рф/", "http://１２７.０.０.１/",
		"http://a..b/", "http://.example.com/", "http://example.123/", "http://" + strings.Repeat("a", 64) + ".com/",
	}
	for _, h := range refusedHosts {
		cases = append(cases, "http://"+h+"/x", "https://"+h+":443/x")
	}
	f := DefaultFilter()
	for _, raw := range cases {
		u, err := f.Check(raw)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("Check(%q) = %v, %v; want a *FilterError", raw, u, err)
		}
	}
}

func TestCheckAccepts(t *testing.T) {
	for _, raw := range []string{
		"http://example.com/image.qcow2", "https://example.com:443/x?y=1", "http://EXAMPLE.com./x",
		"http://example.com:80", "HTTPS://Images.Example.COM/a", "http://93.184.216.34/x",
		"http://[2001:db8::1]/x", "http://8.8.8.8:443/", "http://mirror_1.example/x", "http://0x.example/x",
		"http://10.example/x", "http://x.0a/",
	} {
		if _, err := DefaultFilter().Check(raw); err != nil {
			t.Errorf("Check(%q): %v", raw, err)
		}
	}
}

// TestGlanceListRules: for each of schemes, hosts and ports a non-empty
// allowed list wins over the disallowed one, as in Glance.
func TestGlanceListRules(t *testing.T) {
	cases := []struct {
		f    Filter
		uri  string
		pass bool
	}{
		{Filter{AllowedSchemes: []string{"https"}, DisallowedSchemes: []string{"https"}}, "https://example.com/", true},
		{Filter{AllowedSchemes: []string{"https"}}, "http://example.com/", false},
		{Filter{DisallowedSchemes: []string{"HTTP"}}, "http://example.com/", false},
		{Filter{DisallowedSchemes: []string{"http"}}, "https://example.com/", true},
		{Filter{AllowedSchemes: []string{"ftp"}}, "ftp://example.com/", false}, // never fetched
		{Filter{AllowedHosts: []string{"Mirror.Example."}}, "http://mirror.example/x", true},
		{Filter{AllowedHosts: []string{"mirror.example"}}, "http://MIRROR.example./x", true},
		{Filter{AllowedHosts: []string{"mirror.example"}}, "http://other.example/x", false},
		{Filter{AllowedHosts: []string{"a.example"}, DisallowedHosts: []string{"a.example"}}, "http://a.example/", true},
		{Filter{DisallowedHosts: []string{"bad.example"}}, "http://BAD.example./x", false},
		{Filter{DisallowedHosts: []string{"bad.example"}}, "http://good.example/x", true},
		{Filter{DisallowedHosts: []string{"2001:db8::1"}}, "http://[2001:db8:0::1]/x", false},
		{Filter{AllowedPorts: []int{8080}, DisallowedPorts: []int{8080}}, "http://example.com:8080/", true},
		{Filter{AllowedPorts: []int{8080}}, "http://example.com/", false}, // effective port 80
		{Filter{DisallowedPorts: []int{8080}}, "http://example.com:8080/", false},
		{Filter{DisallowedPorts: []int{8080}}, "http://example.com:8081/", true},
		{Filter{}, "http://example.com:1/", true},
		// Naming a host in AllowedHosts lifts the address range rules for it.
		{Filter{AllowedHosts: []string{"127.0.0.1"}}, "http://127.0.0.1:15000/", true},
		{Filter{AllowedHosts: []string{"[::1]"}}, "http://[::1]/", true},
		{Filter{AllowedHosts: []string{"localhost"}}, "http://localhost/", true},
		{Filter{AllowedHosts: []string{"127.0.0.1"}}, "http://localhost/", false},
		{Filter{AllowedHosts: []string{"127.0.0.1"}}, "http://127.1/", false},
		{Filter{DisallowedHosts: []string{"example.com"}}, "http://127.0.0.1/", false},
		{Filter{AllowPrivate: true}, "http://10.1.2.3/", true},
		{Filter{AllowPrivate: true}, "http://[fd00::1]/", true},
		{Filter{AllowPrivate: true}, "http://127.0.0.1/", false},
		{Filter{AllowPrivate: true}, "http://169.254.169.254/", false},
		{Filter{AllowedHosts: []string{"mirror.example"}}, "http://user:pw@mirror.example/", false},
	}
	for _, c := range cases {
		_, err := c.f.Check(c.uri)
		if (err == nil) != c.pass {
			t.Errorf("%+v Check(%q) = %v, want pass=%v", c.f, c.uri, err, c.pass)
		}
	}
}

func TestFilterErrorHidesCredentials(t *testing.T) {
	for _, raw := range []string{
		"http://alice:s3cret@example.com/x", "http://alice:s3cret@exa mple.com/x",
		"alice:s3cret@example.com", "http://alice:s3/cret@example.com/", "ftp://alice:s3cret@h/",
		"http://alice:s3cret@[::1/",
	} {
		_, err := DefaultFilter().Check(raw)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Fatalf("Check(%q) = %v, want a *FilterError", raw, err)
		}
		if strings.Contains(fe.URI, "s3") || strings.Contains(err.Error(), "s3") {
			t.Errorf("Check(%q): message shows the password: %q", raw, err)
		}
	}
	_, err := DefaultFilter().Check("http://alice:s3cret@example.com/image")
	if want := "URI does not pass filtering: http://example.com/image"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want it to start with %q", err, want)
	}
}
