package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// SyntaxError reports a check string that oslo.policy cannot parse either:
// oslo.policy logs it and replaces the whole rule with "!" (never), glanced
// refuses to load it.
type SyntaxError struct {
	Rule string // the check string
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("cannot parse %q: %s", e.Rule, e.Msg) }

// UnsupportedError reports a check that oslo.policy would accept but that can
// only fail or raise when evaluated (a malformed left side, a format other than
// %(name)s, a field of a credential that has none) or that needs a service
// glanced does not call (http and https checks). glanced refuses to load it.
type UnsupportedError struct {
	Check string // the single check concerned
	Msg   string
}

func (e *UnsupportedError) Error() string { return fmt.Sprintf("check %q: %s", e.Check, e.Msg) }

// Expr is a parsed check string, such as
// "role:admin or (role:member and project_id:%(project_id)s)".
type Expr struct{ root *node }

// String returns the expression in oslo.policy's canonical form: "@" for
// always, "!" for never, "not X", and "(A and B)" / "(A or B)" for groups,
// with checks as written. It is what oslo.policy's str() of the rule gives.
func (x *Expr) String() string {
	var b strings.Builder
	x.root.format(&b)
	return b.String()
}

// Parse parses a check string in oslo.policy's language. The empty string is
// "always"; "not" binds tighter than "and", which binds tighter than "or";
// operators are case-insensitive; parentheses group. A word is split at its
// first ':' into a kind and a match: rule:NAME, role:NAME, or a generic check
// whose left side is a Python literal ('public', "x", True, 1) or a credential
// name, and whose right side may hold %(key)s references into the target.
func Parse(rule string) (*Expr, error) {
	if rule == "" {
		return &Expr{root: &node{op: opTrue}}, nil
	}
	toks, leafErr := tokenize(rule)
	p := parser{toks: toks}
	root, err := p.parse()
	if err != nil {
		return nil, &SyntaxError{Rule: rule, Msg: err.Error()}
	}
	if leafErr != nil {
		var se *SyntaxError
		if errors.As(leafErr, &se) {
			se.Rule = rule
		}
		return nil, leafErr
	}
	return &Expr{root: root}, nil
}

type tokKind uint8

const (
	tokCheck tokKind = iota
	tokAnd
	tokOr
	tokNot
	tokOpen
	tokClose
	tokString // a quoted word: the language has no use for it, so it never parses
)

type token struct {
	kind tokKind
	text string
	leaf *node // for tokCheck
}

func (t token) describe() string {
	switch t.kind {
	case tokCheck:
		return fmt.Sprintf("check %q", t.text)
	case tokString:
		return fmt.Sprintf("quoted word %q", t.text)
	case tokOpen:
		return `"("`
	case tokClose:
		return `")"`
	}
	return fmt.Sprintf("%q", t.text)
}

// isSpace is Python's str.isspace, which oslo.policy's tokenizer splits on:
// Go's unicode.IsSpace plus the four ASCII separators U+001C..U+001F.
func isSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// tokenize splits a rule the way oslo.policy does: on whitespace, then each
// word loses leading '(' and trailing ')' as separate tokens. It returns the
// first error found in a check word (syntax before unsupported), so that Parse
// can report the structure's error first.
func tokenize(rule string) ([]token, error) {
	var toks []token
	var synErr, unsupErr error
	for word := range strings.FieldsFuncSeq(rule, isSpace) {
		rest := strings.TrimLeft(word, "(")
		for range len(word) - len(rest) {
			toks = append(toks, token{kind: tokOpen, text: "("})
		}
		core := strings.TrimRight(rest, ")")
		switch lower := strings.ToLower(core); {
		case core == "":
		case lower == "and":
			toks = append(toks, token{kind: tokAnd, text: core})
		case lower == "or":
			toks = append(toks, token{kind: tokOr, text: core})
		case lower == "not":
			toks = append(toks, token{kind: tokNot, text: core})
		case len(rest) >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[len(rest)-1] == rest[0]:
			// oslo.policy tests the quotes before dropping trailing ')'.
			toks = append(toks, token{kind: tokString, text: rest[1 : len(rest)-1]})
		default:
			leaf, err := parseLeaf(core)
			var se *SyntaxError
			switch {
			case err == nil:
			case errors.As(err, &se):
				synErr = cmpOr(synErr, err)
			default:
				unsupErr = cmpOr(unsupErr, err)
			}
			toks = append(toks, token{kind: tokCheck, text: core, leaf: leaf})
		}
		for range len(rest) - len(core) {
			toks = append(toks, token{kind: tokClose, text: ")"})
		}
	}
	return toks, cmpOr(synErr, unsupErr)
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// parser reads the token list by recursive descent. The grammar is the one
// oslo.policy's shift-reduce parser accepts:
//
//	or   = and { "or" and }
//	and  = unary { "and" unary }
//	unary = "not" unary | "(" or ")" | check
type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *parser) accept(k tokKind) bool {
	if t, ok := p.peek(); ok && t.kind == k {
		p.pos++
		return true
	}
	return false
}

func (p *parser) parse() (*node, error) {
	if len(p.toks) == 0 {
		return nil, errors.New("no check in a rule made of blanks")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t, ok := p.peek(); ok {
		return nil, fmt.Errorf("unexpected %s", t.describe())
	}
	return n, nil
}

func (p *parser) or() (*node, error) {
	first, err := p.and(false)
	if err != nil || !p.accept(tokOr) {
		return first, err
	}
	n := &node{op: opOr, kids: []*node{first}}
	for {
		next, err := p.and(true)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, next)
		if !p.accept(tokOr) {
			return n, nil
		}
	}
}

// and parses a chain of "and". afterOr reproduces a quirk of oslo.policy's
// tree (not of its results): in "A or (B and C) and D" the parenthesized group
// absorbs D, giving (A or (B and C and D)), where a group that starts a rule
// stays nested: ((B and C) and D).
func (p *parser) and(afterOr bool) (*node, error) {
	first, err := p.unary()
	if err != nil || !p.accept(tokAnd) {
		return first, err
	}
	n := &node{op: opAnd, kids: []*node{first}}
	if afterOr && first.op == opAnd {
		n.kids = append([]*node(nil), first.kids...)
	}
	for {
		next, err := p.unary()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, next)
		if !p.accept(tokAnd) {
			return n, nil
		}
	}
}

func (p *parser) unary() (*node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("the rule ends where a check was expected")
	}
	p.pos++
	switch t.kind {
	case tokNot:
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, kids: []*node{inner}}, nil
	case tokOpen:
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.accept(tokClose) {
			if t, ok := p.peek(); ok {
				return nil, fmt.Errorf("expected \")\", found %s", t.describe())
			}
			return nil, errors.New(`missing ")"`)
		}
		return inner, nil
	case tokCheck:
		if t.leaf == nil { // its error is reported by Parse
			return &node{op: opFalse}, nil
		}
		return t.leaf, nil
	}
	return nil, fmt.Errorf("unexpected %s where a check was expected", t.describe())
}
