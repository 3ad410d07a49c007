package cli

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// run executes the command line in-process with no environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, Err: &errOut}
	code = Main(context.Background(), args, io, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestRewriteArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		// -f before the command is python-glanceclient's --force.
		{[]string{"-f", "image-list"}, []string{"--force", "image-list"}},
		{[]string{"--os-region-name", "-f", "image-list"}, []string{"--os-region-name", "-f", "image-list"}},
		{[]string{"image-show", "-f", "json", "x"}, []string{"image-show", "-f", "json", "x"}},
		// --tags takes several words.
		{[]string{"image-create", "--tags", "a", "b", "--name", "n"}, []string{"image-create", "--tags=a", "--tags=b", "--name", "n"}},
		// [True|False] options take the next word when it is a boolean.
		{[]string{"image-list", "--hidden", "false"}, []string{"image-list", "--hidden=false"}},
		{[]string{"image-update", "--protected", "True", "img"}, []string{"image-update", "--protected=True", "img"}},
		{[]string{"image-update", "--protected", "img"}, []string{"image-update", "--protected", "img"}},
		{[]string{"-d", "image-list", "--include-stores"}, []string{"-d", "image-list", "--include-stores"}},
	} {
		a := &app{io: &IOStreams{}, getenv: func(string) string { return "" }}
		got := a.rewriteArgs(a.newRoot(), tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("rewriteArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"True", "true", "1", "yes", "ON", "t", "y"} {
		if v, err := parseBool(s); err != nil || !v {
			t.Errorf("parseBool(%q) = %v, %v", s, v, err)
		}
	}
	for _, s := range []string{"False", "0", "no", "off", "f", "N"} {
		if v, err := parseBool(s); err != nil || v {
			t.Errorf("parseBool(%q) = %v, %v", s, v, err)
		}
	}
	for _, s := range []string{"maybe", "", "2"} {
		if _, err := parseBool(s); err == nil {
			t.Errorf("parseBool(%q) accepted", s)
		}
	}
}

func TestLooksLikeID(t *testing.T) {
	for s, want := range map[string]bool{
		"60eb83a9-ff1a-402a-9570-47a4c4ecbf25": true,
		"60EB83A9FF1A402A957047A4C4ECBF25":     true,
		"cirros":                               false,
		"60eb83a9-ff1a-402a-9570-47a4c4ecbf2":  false,
		"":                                     false,
	} {
		if got := looksLikeID(s); got != want {
			t.Errorf("looksLikeID(%q) = %v", s, got)
		}
	}
}

func TestParseKeyValues(t *testing.T) {
	m, err := parseKeyValues([]string{"a=b", "c=d=e", "f="}, "--property")
	if err != nil || m["a"] != "b" || m["c"] != "d=e" || m["f"] != "" {
		t.Errorf("got %v, %v", m, err)
	}
	if _, err := parseKeyValues([]string{"nokey"}, "--property"); err == nil {
		t.Error("nokey accepted")
	}
	if _, err := parseKeyValues([]string{"=v"}, "--property"); err == nil {
		t.Error("=v accepted")
	}
}

func TestExitCodesWithoutNetwork(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--version"}, 0, ""},
		{[]string{}, 0, ""},
		{[]string{"nosuch"}, 2, "invalid choice: 'nosuch'"},
		{[]string{"image-show"}, 2, "the following arguments are required: <IMAGE_ID>"},
		{[]string{"image-show", "a", "b"}, 2, "unrecognized arguments: b"},
		{[]string{"image-list", "--sort-dir", "up"}, 2, "invalid choice: 'up'"},
		{[]string{"image-list", "--limit", "x"}, 2, "invalid argument"},
		{[]string{"image-create", "--protected", "maybe"}, 2, "not a boolean"},
		{[]string{"image-create", "--property", "x"}, 2, "expected key=value"},
		{[]string{"help", "nosuch"}, 1, "'nosuch' is not a valid subcommand"},
		// Nothing to authenticate with: a clear error, exit 1.
		{[]string{"image-list"}, 1, "auth URL"},
		{[]string{"--os-image-api-version", "3", "image-list"}, 1, "Invalid API version"},
		{[]string{"--os-image-api-version", "1", "image-list", "--is-public", "maybe"}, 2, "not a boolean"},
		{[]string{"--os-image-api-version", "1", "member-list"}, 1, "Specify --image-id or --tenant-id"},
		{[]string{"--os-image-api-version", "1", "image-upload"}, 2, "invalid choice: 'image-upload'"},
	} {
		code, _, stderr := run(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.err) {
			t.Errorf("glance %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.err)
		}
	}
}

func TestDownloadRefusesTerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, Err: &errOut, OutTTY: true}
	code := Main(context.Background(), []string{"image-download", "x"}, io, func(string) string { return "" })
	if code != 1 || !strings.Contains(errOut.String(), "No redirection or local file specified") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestCurlLineRedacts(t *testing.T) {
	body := `{"auth":{"identity":{"methods":["password","token"],"password":{"user":{"name":"u","password":"s3cr\"et"}},"token":{"id":"tok-123"}}}}`
	req, _ := http.NewRequest("POST", "http://k:5000/v3/auth/tokens", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", "tok-abc")
	line := curlLine(req)
	for _, secret := range []string{"s3cr", "tok-123", "tok-abc"} {
		if strings.Contains(line, secret) {
			t.Errorf("%q leaks in %s", secret, line)
		}
	}
	for _, want := range []string{"curl -g -i -X POST http://k:5000/v3/auth/tokens", "{SHA1}", `"password":"***"`, `"name":"u"`} {
		if !strings.Contains(line, want) {
			t.Errorf("%q missing in %s", want, line)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/v2/images": "http://h/v2/images",
		"a b":                "'a b'",
		"it's":               `'it'\''s'`,
		"":                   "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
