package policy

import (
	"errors"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "@"},
		{"@", "@"},
		{"!", "!"},
		{"role:admin", "role:admin"},
		{"  role:admin\t", "role:admin"},
		// and binds tighter than or, not tighter than both.
		{"role:a or role:b and role:c", "(role:a or (role:b and role:c))"},
		{"role:a and role:b or role:c", "((role:a and role:b) or role:c)"},
		{"not role:a and role:b", "(not role:a and role:b)"},
		{"not (role:a and role:b)", "not (role:a and role:b)"},
		{"not not role:a", "not not role:a"},
		{"role:a or not role:b", "(role:a or not role:b)"},
		{"role:a or role:b or role:c", "(role:a or role:b or role:c)"},
		{"role:a and role:b and role:c", "(role:a and role:b and role:c)"},
		// Parentheses group without making nodes of their own; a group that
		// is an operand stays nested.
		{"((role:a))", "role:a"},
		{"(role:a or role:b) or role:c", "((role:a or role:b) or role:c)"},
		{"(role:a and role:b) and role:c", "((role:a and role:b) and role:c)"},
		// oslo.policy's tree after "or": the group absorbs the and-chain.
		{"role:a or (role:b and role:c) and role:d", "(role:a or (role:b and role:c and role:d))"},
		// Operators in any case; parentheses glued to words; any blank.
		{"role:a AND role:b Or NOT role:c", "((role:a and role:b) or not role:c)"},
		{"(role:a or (role:b))", "(role:a or role:b)"},
		{"role:a\nor\u00a0role:b\x1for\u3000role:c", "(role:a or role:b or role:c)"},
		// Checks keep their text, %(key)s references and quotes included.
		{"project_id:%(project_id)s", "project_id:%(project_id)s"},
		{"('public':%(visibility)s)", "'public':%(visibility)s"},
		{`"shared":%(visibility)s`, `"shared":%(visibility)s`},
		{"role:admin:extra", "role:admin:extra"},
		{"rule:", "rule:"},
		{"is_admin:True", "is_admin:True"},
	}
	for _, tt := range tests {
		x, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := x.String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	syntax := []string{
		" ", "(", ")", "()", "and", "or", "not", "role:a and", "role:a or or role:b", "role:a role:b",
		"(role:a", "role:a)", "noColon", "role:a and noColon", "'quoted'", `"q"`, "'a':'b'",
		"role:a and (role:b", "not and role:a", "(role:a or(role:b))", // "or(role:b" is one word
	}
	for _, in := range syntax {
		_, err := Parse(in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError", in, err)
		}
	}
	unsupported := []string{
		"http://example.com/%(x)s", "https:x", "%(x)s:y", "a-b:c", "role:admin%", "role:%(r)d",
		"project_id:%(x)r", "roles.x:y", "project_id.x:y", "[1]:x", "1j:x", "b'x':x", "'a:x", "016:x",
		"'\\N{BULLET}':x", "not:x", "lambda:x", "'a':%(",
	}
	for _, in := range unsupported {
		_, err := Parse(in)
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v, want an UnsupportedError", in, err)
		}
	}
	// A rule with both kinds of fault reports the syntax first.
	var se *SyntaxError
	if _, err := Parse("a-b:c role:x"); !errors.As(err, &se) {
		t.Errorf("Parse with both faults = %v, want the SyntaxError", err)
	}
}

func TestPyLiteral(t *testing.T) {
	// Expected values printed by Python 3.11: str(ast.literal_eval(s)).
	lits := map[string]string{
		"True": "True", "None": "None", "'public'": "public", `"x y"`: "x y", "'a''b'": "ab",
		`'a'"b"`: "ab", `r'x\y'`: `x\y`, `'x\\y'`: `x\y`, `'\x41\101\u0041'`: "AAA", `'\q'`: `\q`,
		`u'A'`: "A", `'''A'''`: "A", `'\n'`: "\n", `''`: "",
		"1e16": "1e+16", "1e15": "1000000000000000.0", "0.0001": "0.0001", "0.00001": "1e-05",
		"1e400": "inf", "-0.0": "-0.0", "0x10": "16", "1_6": "16", "0o20": "16", "0b1_0": "2", ".5": "0.5",
		"5.": "5.0", "1.5e300": "1.5e+300", "123456789.123456789": "123456789.12345679", "1e-320": "1e-320",
		"2.5e-5": "2.5e-05", "00": "0", "-0": "0", "+7": "7", "1E5_0": "1e+50", "0_0": "0", "0.1": "0.1",
		"-1": "-1", "12345678901234567890123": "12345678901234567890123",
	}
	for in, want := range lits {
		got, ok, err := pyLiteral(in)
		if !ok || err != nil || got != want {
			t.Errorf("pyLiteral(%q) = %q, %v, %v; want %q", in, got, ok, err, want)
		}
	}
	for _, in := range []string{"project_id", "true", "user.name", "-a", "a-b", "%(x)s"} {
		if _, ok, err := pyLiteral(in); ok || err != nil {
			t.Errorf("pyLiteral(%q) = %v, %v; want no literal and no error", in, ok, err)
		}
	}
	for _, in := range []string{"'a", "016", "1__0", "0x", "1e", "1j", "b'x'", "f'x'", "[1]", "...", "'x'y", "--1", `'\x4'`} {
		if _, ok, err := pyLiteral(in); ok || err == nil {
			t.Errorf("pyLiteral(%q) = %v, %v; want an error", in, ok, err)
		}
	}
}

func TestTemplate(t *testing.T) {
	target := Fields{"a": "1", "b": "two", "a(b)": "nested"}
	tests := []struct {
		tmpl, s string
		eq, ok  bool
	}{
		{"%(a)s", "1", true, true},
		{"x%(a)s-%(b)s", "x1-two", true, true},
		{"x%(a)s-%(b)s", "x1-tw", false, true},
		{"x%(a)s-%(b)s", "x1-twoo", false, true},
		{"%(b)s%(missing)s", "two", false, false},
		{"%(missing)s", "None", false, false},
		{"100%%", "100%", true, true},
		{"%(a(b))s", "nested", true, true},
		{"plain", "plain", true, true},
	}
	for _, tt := range tests {
		m, err := parseTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("parseTemplate(%q): %v", tt.tmpl, err)
		}
		if eq, ok := m.compare(target, tt.s); eq != tt.eq || ok != tt.ok {
			t.Errorf("%q against %q = %v, %v; want %v, %v", tt.tmpl, tt.s, eq, ok, tt.eq, tt.ok)
		}
	}
}
