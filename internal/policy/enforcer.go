package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Options configure an Enforcer the way glance-api.conf's [oslo_policy]
// section configures oslo.policy.
type Options struct {
	// File is the policy file (policy_file), YAML or JSON. A missing file is
	// skipped, as oslo.policy does; Sources tells what was read.
	File string
	// Dirs are policy directories (policy_dirs): their files, in name order,
	// apply after File. A missing directory is skipped.
	Dirs []string
	// EnforceScope refuses a rule to a token whose scope its scope_types do
	// not list (enforce_scope). oslo.policy 4.0.0, which Debian's Glance 25.1
	// runs, defaults it to false; later releases default it to true.
	EnforceScope bool
	// DeprecatedDefaults or-s each rule's deprecated default with its new
	// one, as enforce_new_defaults = false does (Glance then also needs its
	// enforce_secure_rbac off, and applies owner checks of its own).
	DeprecatedDefaults bool
	// DefaultRule names the rule that references to unknown rules fall back
	// to (policy_default_rule); "" means "default".
	DefaultRule string
	// Defaults are the registered rules; nil means Glance 25.1's.
	Defaults []Default
}

// ErrDenied is matched (errors.Is) by every *Denied.
var ErrDenied = errors.New("policy denied")

// Denied is Authorize's answer when the policy refuses. Glance answers 403
// (or 404 for an image the caller may not see) with Error() as explanation.
type Denied struct {
	Rule  string
	Scope bool // refused for the token's scope, before the rule was checked
}

func (d *Denied) Error() string {
	return fmt.Sprintf("You are not authorized to complete %s action.", d.Rule)
}

// Is makes errors.Is(err, ErrDenied) hold.
func (d *Denied) Is(target error) bool { return target == ErrDenied }

// ErrNotRegistered is returned for a rule name Glance does not register: a
// programming error (Glance raises PolicyNotRegistered, a 500).
var ErrNotRegistered = errors.New("policy rule not registered")

// rule is one rule in force.
type rule struct {
	name   string
	root   *node
	def    *Default // nil for a rule only a policy file defines
	source string   // the file that set it, "" for a default
}

// Enforcer decides Glance's rules for a caller and a target. It is immutable
// and safe for concurrent use; to reload a policy file, build a new one.
type Enforcer struct {
	rules        map[string]*rule
	enforceScope bool
	sources      []string
	warnings     []string
}

var anonymous Credentials

// New builds an Enforcer from the registered defaults and the policy files.
// A file that cannot be read or parsed, a rule that does not parse, and rules
// that refer to each other in a loop are errors naming the file and rule.
func New(opts Options) (*Enforcer, error) {
	e := &Enforcer{rules: map[string]*rule{}, enforceScope: opts.EnforceScope}
	overrides, err := e.loadFiles(opts)
	if err != nil {
		return nil, err
	}
	defaults := opts.Defaults
	if defaults == nil {
		defaults = append(append([]Default(nil), glanceDefaults...), newerDefaults...)
	}
	for i := range defaults {
		d := &defaults[i]
		if _, dup := e.rules[d.Name]; dup {
			return nil, fmt.Errorf("policy: rule %q registered twice", d.Name)
		}
		r := &rule{name: d.Name, def: d}
		if o, ok := overrides[d.Name]; ok {
			r.root, r.source = o.root, o.source
		} else if r.root, err = defaultTree(d, opts.DeprecatedDefaults); err != nil {
			return nil, fmt.Errorf("policy: default rule %q: %w", d.Name, err)
		}
		e.rules[d.Name] = r
	}
	for name, o := range overrides {
		if _, ok := e.rules[name]; !ok {
			e.rules[name] = o
		}
	}
	fallback := cmp(opts.DefaultRule, "default")
	e.link(fallback)
	if err := e.checkLoops(); err != nil {
		return nil, err
	}
	return e, nil
}

func cmp(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// defaultTree parses a registered default; with deprecated defaults allowed,
// a changed default becomes (new or old), as oslo.policy builds it.
func defaultTree(d *Default, deprecated bool) (*node, error) {
	x, err := Parse(d.Check)
	if err != nil || !deprecated || d.Deprecated == "" || d.Deprecated == d.Check {
		return exprRoot(x), err
	}
	old, err := Parse(d.Deprecated)
	if err != nil {
		return nil, err
	}
	return &node{op: opOr, kids: []*node{x.root, old.root}}, nil
}

func exprRoot(x *Expr) *node {
	if x == nil {
		return nil
	}
	return x.root
}

// link points every rule: check at the rule it names, or, when no rule has
// that name, at the fallback rule (oslo.policy's default_rule), or nowhere
// (false) when that is missing too.
func (e *Enforcer) link(fallback string) {
	for _, name := range e.Rules() {
		r := e.rules[name]
		walk(r.root, func(n *node) {
			if n.op == opNever {
				e.warnings = append(e.warnings, fmt.Sprintf("rule %q: check %q tests a credential Glance does not pass and never matches", name, n.text))
			}
			if n.op != opRule {
				return
			}
			if n.ref = e.rules[n.name]; n.ref == nil {
				n.ref = e.rules[fallback]
				e.warnings = append(e.warnings, fmt.Sprintf("rule %q refers to undefined rule %q, which falls back to %q", name, n.name, fallback))
			}
		})
	}
}

func walk(n *node, f func(*node)) {
	f(n)
	for _, k := range n.kids {
		walk(k, f)
	}
}

// checkLoops refuses rules that reach themselves through rule: checks;
// oslo.policy would recurse until Python gives up.
func (e *Enforcer) checkLoops() error {
	const (
		unseen = iota
		active
		done
	)
	state := map[*rule]int{}
	var path []string
	var visit func(r *rule) error
	visit = func(r *rule) error {
		switch state[r] {
		case active:
			i := slices.Index(path, r.name)
			return fmt.Errorf("policy: rules refer to each other in a loop: %s -> %s", strings.Join(path[i:], " -> "), r.name)
		case done:
			return nil
		}
		state[r] = active
		path = append(path, r.name)
		var err error
		walk(r.root, func(n *node) {
			if err == nil && n.op == opRule && n.ref != nil {
				err = visit(n.ref)
			}
		})
		path = path[:len(path)-1]
		state[r] = done
		return err
	}
	for _, name := range e.Rules() {
		if err := visit(e.rules[name]); err != nil {
			return err
		}
	}
	return nil
}

type verdict uint8

const (
	allow verdict = iota
	deny
	denyScope
	unregistered
)

func (e *Enforcer) decide(name string, c *Credentials, t Target) verdict {
	r := e.rules[name]
	if r == nil || r.def == nil {
		return unregistered
	}
	if c == nil {
		c = &anonymous
	}
	if e.enforceScope && r.def.Scopes != nil && !slices.Contains(r.def.Scopes, c.Scope()) {
		return denyScope
	}
	if r.root.eval(c, t) {
		return allow
	}
	return deny
}

// Allowed reports whether rule allows credentials c on target t (nil: an
// empty target). It allocates nothing on the paths Glance's defaults take.
func (e *Enforcer) Allowed(rule string, c *Credentials, t Target) bool {
	return e.decide(rule, c, t) == allow
}

// AllowedUnregistered is Allowed for any rule in force, whether Glance
// registers it or only a policy file defines it, as oslo.policy's enforce
// with registered=False (property protections in the policies format use
// it); scope is not checked. An undefined rule allows nothing.
func (e *Enforcer) AllowedUnregistered(rule string, c *Credentials, t Target) bool {
	r := e.rules[rule]
	if r == nil || r.root == nil {
		return false
	}
	if c == nil {
		c = &anonymous
	}
	return r.root.eval(c, t)
}

// Authorize is Allowed with the reason: nil, a *Denied (errors.Is ErrDenied),
// or an error wrapping ErrNotRegistered for a name Glance does not register.
func (e *Enforcer) Authorize(rule string, c *Credentials, t Target) error {
	switch e.decide(rule, c, t) {
	case allow:
		return nil
	case deny:
		return &Denied{Rule: rule}
	case denyScope:
		return &Denied{Rule: rule, Scope: true}
	}
	return fmt.Errorf("%w: %q", ErrNotRegistered, rule)
}

// IsAdmin evaluates context_is_admin as Glance does when it builds a request
// context, with the context itself as target. Glance's is_admin lets the
// caller see and change every image and namespace whatever the other rules.
func (e *Enforcer) IsAdmin(c *Credentials) bool {
	r := e.rules["context_is_admin"]
	if c == nil {
		c = &anonymous
	}
	return r != nil && r.root.eval(c, contextTarget(c))
}

// Rules returns the names of all rules in force, registered or defined by a
// policy file, sorted.
func (e *Enforcer) Rules() []string {
	names := make([]string, 0, len(e.rules))
	for n := range e.rules {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Check returns the rule in force for name in oslo.policy's canonical form
// (see Expr.String), and the file that set it ("" for Glance's default).
func (e *Enforcer) Check(name string) (check, source string, ok bool) {
	r := e.rules[name]
	if r == nil {
		return "", "", false
	}
	return (&Expr{root: r.root}).String(), r.source, true
}

// Sources returns the policy files read, in the order applied.
func (e *Enforcer) Sources() []string { return slices.Clone(e.sources) }

// Warnings returns what oslo.policy would log as suspicious but accepts:
// references to undefined rules, checks on credentials Glance never passes.
func (e *Enforcer) Warnings() []string { return slices.Clone(e.warnings) }
