package policy

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that any text parses to a tree or to a typed error, that
// the canonical form reads back to itself, and that evaluating the rule
// never panics. Seeds: the hand-written cases and testdata/fuzz/FuzzParse.
//
//	go test -fuzz=FuzzParse ./internal/policy
func FuzzParse(f *testing.F) {
	for _, s := range handCases {
		f.Add(s)
	}
	for _, s := range randomCases(50, 7) {
		f.Add(s)
	}
	callers := []*Credentials{admin, alphaReader, betaMember, sysAdmin, {}}
	targets := []Target{nil, Fields{"project_id": "alpha", "visibility": "public"}, image("alpha", "shared", betaMember)}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			var ue *UnsupportedError
			if !errors.As(err, &se) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q): untyped error %v", s, err)
			}
			return
		}
		canon := x.String()
		if y, err := Parse(canon); err == nil && y.String() != canon {
			t.Fatalf("Parse(%q) = %s, which reads back as %s", s, canon, y.String())
		}
		e, err := New(Options{Defaults: []Default{{Name: "case", Check: s},
			{Name: "default", Check: "role:reader"}, {Name: "owner", Check: "project_id:%(project_id)s"}}})
		if err != nil {
			if !strings.Contains(err.Error(), "loop") {
				t.Fatalf("New with %q: %v", s, err)
			}
			return
		}
		for _, c := range callers {
			for _, tg := range targets {
				e.Allowed("case", c, tg)
			}
		}
	})
}

// FuzzParseFile checks that no file content panics the loader.
func FuzzParseFile(f *testing.F) {
	for _, s := range []string{
		"a: role:x\n", `{"a": "role:x"}`, "a: [[\"role:x\"]]\n", "a: &x [*x]\n", "- a\n",
		"a: !!binary aGk=\n", "<<: {a: b}\n", "? [a]\n: b\n", "a:\n  - - role:x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseFile(data)
		if err == nil {
			for _, x := range rules {
				_ = x.String()
			}
		}
	})
}
