package policy

import (
	"fmt"
	"strings"
)

type op uint8

const (
	opTrue    op = iota // "@", or the empty rule
	opFalse             // "!"
	opNot               // not X
	opAnd               // (A and B ...)
	opOr                // (A or B ...)
	opRule              // rule:NAME
	opRole              // role:NAME, case-insensitive
	opLiteral           // 'literal':%(key)s
	opCred              // credential:%(key)s
	opNever             // a check on a credential Glance does not pass (always false)
)

// node is one element of a parsed rule. Rules are parsed once, at load; the
// evaluation walks the tree and allocates nothing on the common paths.
type node struct {
	op    op
	kids  []*node    // opNot, opAnd, opOr
	text  string     // the check as written
	name  string     // opRule: the rule referred to
	ref   *rule      // opRule: the rule it resolves to, set when an Enforcer links its rules
	cred  credential // opCred
	lit   string     // opLiteral: the literal as Python's str() prints it
	match template   // opRole, opLiteral, opCred: the right side
}

func (n *node) format(b *strings.Builder) {
	switch n.op {
	case opTrue:
		b.WriteByte('@')
	case opFalse:
		b.WriteByte('!')
	case opNot:
		b.WriteString("not ")
		n.kids[0].format(b)
	case opAnd, opOr:
		sep := " and "
		if n.op == opOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.format(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(n.text)
	}
}

// eval decides the node for credentials c on target t.
func (n *node) eval(c *Credentials, t Target) bool {
	switch n.op {
	case opTrue:
		return true
	case opNot:
		return !n.kids[0].eval(c, t)
	case opAnd:
		for _, k := range n.kids {
			if !k.eval(c, t) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.eval(c, t) {
				return true
			}
		}
		return false
	case opRule:
		return n.ref != nil && n.ref.root.eval(c, t)
	case opRole:
		return n.evalRole(c, t)
	case opLiteral:
		eq, _ := n.match.compare(t, n.lit)
		return eq
	case opCred:
		return c.match(n.cred, &n.match, t)
	}
	return false // opFalse, opNever
}

func (n *node) evalRole(c *Credentials, t Target) bool {
	want := n.match.lit
	if n.match.parts != nil {
		var ok bool
		if want, ok = n.match.render(t); !ok {
			return false
		}
	}
	for _, r := range c.Roles {
		if lowerEqual(want, r) {
			return true
		}
	}
	return false
}

// lowerEqual compares as Python's a.lower() == b.lower(), without allocating
// for ASCII text.
func lowerEqual(a, b string) bool {
	if !isASCII(a) || !isASCII(b) {
		//lint:ignore SA6005 Python lower-cases both sides, which is not Unicode case folding
		return strings.ToLower(a) == strings.ToLower(b)
	}
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// parseLeaf parses one check word, as oslo.policy's _parse_check does.
func parseLeaf(text string) (*node, error) {
	switch text {
	case "!":
		return &node{op: opFalse, text: text}, nil
	case "@":
		return &node{op: opTrue, text: text}, nil
	}
	kind, match, found := strings.Cut(text, ":")
	if !found {
		return nil, &SyntaxError{Msg: fmt.Sprintf("check %q has no ':'", text)}
	}
	switch kind {
	case "rule":
		return &node{op: opRule, text: text, name: match}, nil
	case "http", "https":
		return nil, &UnsupportedError{Check: text, Msg: "http(s) checks ask a web service; glanced does not call out"}
	}
	tmpl, err := parseTemplate(match)
	if err != nil {
		return nil, &UnsupportedError{Check: text, Msg: err.Error()}
	}
	n := &node{op: opRole, text: text, match: tmpl}
	if kind == "role" {
		return n, nil
	}
	return n, n.setLeft(kind)
}

// setLeft classifies the left side of a generic check as oslo.policy does:
// a Python literal is compared as text, anything else names a credential.
func (n *node) setLeft(kind string) error {
	if lit, ok, err := pyLiteral(kind); ok {
		n.op, n.lit = opLiteral, lit
		return nil
	} else if err != nil {
		return &UnsupportedError{Check: n.text, Msg: err.Error()}
	}
	first, rest, dotted := strings.Cut(kind, ".")
	if !isPyName(first) || (dotted && !isDottedName(rest)) {
		return &UnsupportedError{Check: n.text, Msg: fmt.Sprintf("left side %q is neither a Python literal nor a credential name", kind)}
	}
	key, known := credKeys[first]
	switch {
	case known && dotted:
		return &UnsupportedError{Check: n.text, Msg: fmt.Sprintf("credential %q has no fields", first)}
	case known:
		n.op, n.cred = opCred, key
	default:
		// Glance's credentials have no such key: oslo.policy answers false.
		n.op = opNever
	}
	return nil
}

func isDottedName(s string) bool {
	for part := range strings.SplitSeq(s, ".") {
		if !isPyName(part) {
			return false
		}
	}
	return true
}

// template is the right side of a check: text with %(key)s references that
// oslo.policy fills from the target with Python's % operator.
type template struct {
	lit   string  // the text, when there is no reference
	parts []tpart // nil when there is no reference
}

type tpart struct {
	s   string // literal text, or the key
	key bool
}

// parseTemplate accepts "%%" and "%(key)s"; any other conversion would be
// formatted by Python in ways Glance's policies never use, or raise.
func parseTemplate(s string) (template, error) {
	if !strings.Contains(s, "%") {
		return template{lit: s}, nil
	}
	var parts []tpart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, tpart{s: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '%':
			lit.WriteByte('%')
			i++
		case i+1 < len(s) && s[i+1] == '(':
			end := closingParen(s, i+1)
			if end < 0 {
				return template{}, fmt.Errorf("unterminated %%( in %q", s)
			}
			if end+1 >= len(s) || s[end+1] != 's' {
				return template{}, fmt.Errorf("format %q in %q: glanced understands %%(name)s and %%%% only", s[i:min(end+2, len(s))], s)
			}
			flush()
			parts = append(parts, tpart{s: s[i+2 : end], key: true})
			i = end + 1
		default:
			return template{}, fmt.Errorf("lone %% in %q: glanced understands %%(name)s and %%%% only", s)
		}
	}
	flush()
	if len(parts) == 1 && !parts[0].key {
		return template{lit: parts[0].s}, nil
	}
	return template{parts: parts}, nil
}

// closingParen returns the index of the ')' that closes the '(' at open,
// counting nested pairs as Python's formatter does, or -1.
func closingParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func lookup(t Target, key string) (string, bool) {
	if t == nil {
		return "", false
	}
	return t.Lookup(key)
}

// compare reports whether the filled template equals s. ok is false when a
// key is missing from the target, where oslo.policy answers false whatever s.
func (m *template) compare(t Target, s string) (eq, ok bool) {
	if m.parts == nil {
		return m.lit == s, true
	}
	eq, rest := true, s
	for _, p := range m.parts {
		v := p.s
		if p.key {
			var found bool
			if v, found = lookup(t, p.s); !found {
				return false, false
			}
		}
		if eq && strings.HasPrefix(rest, v) {
			rest = rest[len(v):]
		} else {
			eq = false
		}
	}
	return eq && rest == "", true
}

// render fills the template; it allocates, and serves the rare role names
// built from the target.
func (m *template) render(t Target) (string, bool) {
	if m.parts == nil {
		return m.lit, true
	}
	var b strings.Builder
	for _, p := range m.parts {
		v := p.s
		if p.key {
			var found bool
			if v, found = lookup(t, p.s); !found {
				return "", false
			}
		}
		b.WriteString(v)
	}
	return b.String(), true
}
