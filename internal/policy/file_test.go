package policy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileOverride(t *testing.T) {
	f := writeFile(t, t.TempDir(), "policy.yaml", `# let members publish their images
"publicize_image": "role:member"
`)
	e := mustNew(t, Options{File: f})
	own := image("alpha", "private", alphaMember)
	if !e.Allowed("publicize_image", alphaMember, own) || e.Allowed("publicize_image", alphaReader, own) {
		t.Error(`"publicize_image": "role:member" must let members, not readers, publicize`)
	}
	if check, src, _ := e.Check("publicize_image"); check != "role:member" || src != f {
		t.Errorf("publicize_image = %q from %q", check, src)
	}
	if check, src, _ := e.Check("get_image"); src != "" || !strings.HasPrefix(check, "(role:admin or") {
		t.Errorf("get_image must keep its default: %q from %q", check, src)
	}
	if s := e.Sources(); len(s) != 1 || s[0] != f {
		t.Errorf("sources %q", s)
	}
}

func TestParseFile(t *testing.T) {
	tests := []struct{ name, file, rule, want string }{
		{"json", `{"a": "role:x or role:y", "b": ""}`, "a", "(role:x or role:y)"},
		{"json empty rule", `{"a": "role:x", "b": ""}`, "b", "@"},
		{"yaml null", "a:\nb: role:x\n", "a", "@"},
		{"list", `a: [["role:member", "project_id:%(project_id)s"], ["role:admin"]]`, "a",
			"((role:member and project_id:%(project_id)s) or role:admin)"},
		{"list of strings", `{"a": ["role:x", "role:y"]}`, "a", "(role:x or role:y)"},
		{"list element is one check", `{"a": [["role:x or role:y"]]}`, "a", "role:x or role:y"},
		{"empty list", "a: []\n", "a", "@"},
		{"empty inner lists", "a: [[], []]\n", "a", "!"},
		{"duplicate names", "a: role:x\na: role:y\n", "a", "role:y"},
		{"anchors", "a: &r role:x\nb: *r\n", "b", "role:x"},
		{"tabs in json", "{\n\t\"a\":\t\"role:x\"\n}", "a", "role:x"},
		{"block scalar", "a: >\n  role:x or\n  role:y\n", "a", "(role:x or role:y)"},
	}
	for _, tt := range tests {
		rules, err := ParseFile([]byte(tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := rules[tt.rule]; got == nil || got.String() != tt.want {
			t.Errorf("%s: %s = %v, want %s", tt.name, tt.rule, got, tt.want)
		}
	}
	for _, empty := range []string{"", "# only comments\n#\"a\": \"role:x\"\n", "null", "[]", "{}", "---\n"} {
		if rules, err := ParseFile([]byte(empty)); err != nil || len(rules) != 0 {
			t.Errorf("%q: %d rules, %v; want none", empty, len(rules), err)
		}
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"yaml syntax", "a: [role:x\n", "line"},
		{"bad rule", "ok: role:x\n\"add_image\": \"role:member and\"\n", `line 2: rule "add_image"`},
		{"bad json rule", `{"add_image": "role:a role:b"}`, `rule "add_image"`},
		{"number", "a: 1\n", `rule "a"`},
		{"bool", `{"a": true}`, `rule "a"`},
		{"mapping value", "a: {b: c}\n", `rule "a"`},
		{"list of numbers", "a: [[1]]\n", `rule "a"`},
		{"list check without colon", `a: [["admin"]]`, `rule "a"`},
		{"not a mapping", "- a\n- b\n", "not a mapping"},
		{"json list", `["a"]`, "not a mapping"},
		{"unsupported check", "a: http://example.com\n", `rule "a"`},
		{"lists too deep", "a: [[[role:x]]]\n", `rule "a"`},
		{"alias loop", "a: &x [*x]\n", `rule "a"`},
	}
	for _, tt := range tests {
		_, err := ParseFile([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	f := writeFile(t, t.TempDir(), "policy.json", `{"get_image": "role:reader and"}`)
	if _, err := New(Options{File: f}); err == nil || !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), "get_image") {
		t.Errorf("New must name the file and rule: %v", err)
	}
}

func TestPolicyDirs(t *testing.T) {
	root := t.TempDir()
	main := writeFile(t, root, "policy.yaml", "publicize_image: role:admin or role:member\ncopy_image: role:member\n")
	d1, d2 := filepath.Join(root, "d1"), filepath.Join(root, "d2")
	for _, d := range []string{d1, d2, filepath.Join(d1, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, d1, "10_b.yaml", "publicize_image: role:reader\n")
	writeFile(t, d1, "00_a.yaml", "publicize_image: role:member\ndeactivate: role:admin\n")
	writeFile(t, d1, ".hidden.yaml", "not: [valid\n")
	writeFile(t, d2, "x.json", `{"deactivate": "role:reader"}`)
	e := mustNew(t, Options{File: main, Dirs: []string{d1, filepath.Join(root, "missing"), d2}})
	want := map[string]string{"publicize_image": "role:reader", "copy_image": "role:member", "deactivate": "role:reader"}
	for rule, w := range want {
		if got, _, _ := e.Check(rule); got != w {
			t.Errorf("%s = %q, want %q", rule, got, w)
		}
	}
	if s := e.Sources(); len(s) != 4 || s[0] != main || !strings.HasSuffix(s[1], "00_a.yaml") {
		t.Errorf("sources %q", s)
	}
	if _, err := New(Options{File: filepath.Join(root, "absent.yaml")}); err != nil {
		t.Errorf("a missing policy file is skipped, as oslo.policy does: %v", err)
	}
	if _, err := New(Options{Dirs: []string{main}}); err == nil {
		t.Error("a policy directory that is a file is an error")
	}
}

// TestInstalledPolicyFiles reads the policy files Debian's Glance package
// ships and generates: the commented sample sets nothing, and the generated
// effective policy sets every rule to its default.
func TestInstalledPolicyFiles(t *testing.T) {
	const sample = "/etc/glance/policy.d/00_default_policy.yaml"
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("Glance's sample policy %s is NOT installed (%v): not checked", sample, err)
	}
	e := mustNew(t, Options{Dirs: []string{filepath.Dir(sample)}})
	for _, name := range e.Rules() {
		if _, src, _ := e.Check(name); src != "" {
			t.Errorf("the commented sample set %s", name)
		}
	}
	gen, err := exec.Command("oslopolicy-policy-generator", "--namespace", "glance").Output()
	if err != nil {
		t.Skipf("oslopolicy-policy-generator did NOT run (%v): the generated policy is not checked", err)
	}
	f := writeFile(t, t.TempDir(), "policy.yaml", string(gen))
	generated := mustNew(t, Options{File: f})
	defaults := mustNew(t, Options{})
	for _, d := range glanceDefaults {
		got, src, _ := generated.Check(d.Name)
		want, _, _ := defaults.Check(d.Name)
		if src != f || got != want {
			t.Errorf("%s from the generated policy = %q (from %q), default %q", d.Name, got, src, want)
		}
	}
}
