package server

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/go-glance/glance/internal/policy"
	"github.com/go-glance/glance/internal/store"
)

// ProtectionsConfig names Glance's property protection file.
type ProtectionsConfig struct {
	// File is an INI file of sections named by regular expressions over
	// property names, each with create, read, update and delete entries
	// (Glance's property_protection_file); "" turns protections off.
	File string
	// Format is "roles" (default: the entries list roles, "@" for anyone,
	// "!" for no one) or "policies" (each entry names one policy rule).
	Format string
}

var propOps = []string{"create", "read", "update", "delete"}

// propRule is one section of the file.
type propRule struct {
	expr string
	re   *regexp.Regexp
	ops  map[string][]string // by operation: roles (lower case), or one rule name
}

// propRules are the property protections in force. The first section
// whose expression matches a property name (anywhere in it, as Python's
// re.search) decides; a property no section matches is refused to all.
type propRules struct {
	policies bool
	rules    []propRule
	pol      *policy.Enforcer
}

// loadPropRules reads the protection file; like Glance, it refuses to start
// with a file that is missing, malformed or lacks an operation.
func loadPropRules(cfg ProtectionsConfig, pol *policy.Enforcer) (*propRules, error) {
	if cfg.File == "" {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("property protection file %s: invalid configuration: %s", cfg.File, fmt.Sprintf(format, args...))
	}
	p := &propRules{pol: pol}
	switch strings.ToLower(cfg.Format) {
	case "", "roles":
	case "policies":
		p.policies = true
	default:
		return nil, bad("rule format %q is not roles or policies", cfg.Format)
	}
	data, err := os.ReadFile(cfg.File)
	if err != nil {
		return nil, fmt.Errorf("property protection file: %w", err)
	}
	sections, err := parseINI(data)
	if err != nil {
		return nil, bad("%v", err)
	}
	// Glance's own os_glance_ properties are anyone's to set, and come
	// first so that no section of the file shadows them; the file's own
	// os_glance sections are dropped.
	p.rules = append(p.rules, propRule{expr: "os_glance.*", re: regexp.MustCompile("os_glance.*"),
		ops: map[string][]string{"create": {"@"}, "read": {"@"}, "update": {"@"}, "delete": {"@"}}})
	for _, sec := range sections {
		if strings.HasPrefix(sec.name, "os_glance") {
			continue
		}
		re, err := regexp.Compile(sec.name)
		if err != nil {
			return nil, bad("malformed property protection rule %s: %v", sec.name, err)
		}
		r := propRule{expr: sec.name, re: re, ops: map[string][]string{}}
		for _, op := range propOps {
			v, ok := sec.values[op]
			if !ok {
				return nil, bad("[%s] has no %s entry", sec.name, op)
			}
			if r.ops[op], err = p.parseEntry(sec.name, op, v); err != nil {
				return nil, bad("%v", err)
			}
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

func (p *propRules) parseEntry(section, op, v string) ([]string, error) {
	if v == "" {
		return nil, nil // no one
	}
	if p.policies {
		if strings.Contains(v, ",") {
			return nil, fmt.Errorf("[%s] %s: multiple policies %q are not allowed; combine them in the policy file", section, op, v)
		}
		return []string{v}, nil
	}
	var roles []string
	for _, r := range strings.Split(v, ",") {
		roles = append(roles, strings.ToLower(strings.TrimSpace(r)))
	}
	if oneOf("@", roles) && oneOf("!", roles) {
		return nil, fmt.Errorf("malformed rule in [%s] %s=%s: '@' and '!' are mutually exclusive", section, op, v)
	}
	return roles, nil
}

// allowed reports whether c may do op (create, read, update, delete) to
// the custom property key.
func (p *propRules) allowed(c *caller, key, op string) bool {
	for _, r := range p.rules {
		if !r.re.MatchString(key) {
			continue
		}
		entry := r.ops[op]
		switch {
		case len(entry) == 0, oneOf("!", entry):
			return false
		case oneOf("@", entry):
			return true
		case p.policies:
			return p.pol.AllowedUnregistered(entry[0], c.credentials(), policy.Fields{})
		}
		for _, role := range entry {
			if c.Roles[role] {
				return true
			}
		}
		return false
	}
	return false
}

// readable returns im as c may see it: without the custom properties c
// may not read. im itself is returned when nothing is hidden.
func (s *Server) readable(c *caller, im *store.Image) *store.Image {
	if s.props == nil {
		return im
	}
	var out *store.Image
	for k := range im.Properties {
		if !s.props.allowed(c, k, "read") {
			if out == nil {
				out = im.Clone()
			}
			delete(out.Properties, k)
		}
	}
	if out == nil {
		return im
	}
	return out
}

// reservedProperty is Glance's answer to a protected property.
func reservedProperty(key string) error {
	return errorf(http.StatusForbidden, "Attribute '%s' is reserved.", key)
}

// protectCreate checks that c may create each custom property of a new image.
func (s *Server) protectCreate(c *caller, im *store.Image) error {
	if s.props == nil {
		return nil
	}
	for k := range im.Properties {
		if !s.props.allowed(c, k, "create") {
			return reservedProperty(k)
		}
	}
	return nil
}

// hideUnreadable takes the properties c may not read out of im (a PATCH
// works on what its caller sees) and returns them, for restoreHidden.
func (s *Server) hideUnreadable(c *caller, im *store.Image) map[string]string {
	if s.props == nil {
		return nil
	}
	hidden := map[string]string{}
	for k, v := range im.Properties {
		if !s.props.allowed(c, k, "read") {
			hidden[k] = v
			delete(im.Properties, k)
		}
	}
	return hidden
}

// restoreHidden puts back the hidden properties a PATCH did not set anew.
func restoreHidden(im *store.Image, hidden map[string]string) {
	for k, v := range hidden {
		if _, set := im.Properties[k]; !set {
			im.Properties[k] = v
		}
	}
}

// protectPatch checks one PATCH operation on a custom property, as
// Glance's protected properties proxy does: setting an existing
// (readable) property is an update, setting another one a create, and
// removing one a delete. Operations that fail for other reasons (a
// property that is not there to replace or remove) are left to applyPatch.
func (s *Server) protectPatch(c *caller, im *store.Image, op patchOp, v20 bool) error {
	if s.props == nil || store.IsBase(op.key) {
		return nil
	}
	_, exists := im.Properties[op.key]
	var action string
	switch {
	case op.op == "remove" && exists:
		action = "delete"
	case op.op == "remove", op.op == "replace" && !exists, op.op == "add" && exists && v20:
		return nil
	case exists:
		action = "update"
	default:
		action = "create"
	}
	if !s.props.allowed(c, op.key, action) {
		return reservedProperty(op.key)
	}
	return nil
}

// iniSection is one [section] of an INI file, keys lower-cased.
type iniSection struct {
	name   string
	values map[string]string
}

// parseINI reads the INI dialect of Python's configparser as Glance uses
// it: [sections], "key = value" or "key: value", comment lines starting
// with # or ;, and indented continuation lines.
func parseINI(data []byte) ([]iniSection, error) {
	var out []iniSection
	var cur *iniSection
	lastKey := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			lastKey = ""
		case raw[0] == ' ' || raw[0] == '\t':
			if cur == nil || lastKey == "" {
				return nil, fmt.Errorf("line %d: continuation without a key", n)
			}
			cur.values[lastKey] += "\n" + line
		case line[0] == '[' && line[len(line)-1] == ']':
			name := line[1 : len(line)-1]
			for _, s := range out {
				if s.name == name {
					return nil, fmt.Errorf("line %d: section [%s] appears twice", n, name)
				}
			}
			out = append(out, iniSection{name: name, values: map[string]string{}})
			cur, lastKey = &out[len(out)-1], ""
		default:
			i := strings.IndexAny(line, "=:")
			if cur == nil || i <= 0 {
				return nil, fmt.Errorf("line %d: expected [section] or key = value", n)
			}
			lastKey = strings.ToLower(strings.TrimSpace(line[:i]))
			cur.values[lastKey] = strings.TrimSpace(line[i+1:])
		}
	}
	return out, sc.Err()
}

// protectChange checks a whole-image property change (v1's update) as
// protectPatch checks one operation: each property added is a create, each
// changed an update and each removed a delete.
func (s *Server) protectChange(c *caller, before, after map[string]string) error {
	if s.props == nil {
		return nil
	}
	for k, v := range after {
		old, had := before[k]
		switch {
		case !had && !s.props.allowed(c, k, "create"), had && old != v && !s.props.allowed(c, k, "update"):
			return reservedProperty(k)
		}
	}
	for k := range before {
		if _, kept := after[k]; !kept && !s.props.allowed(c, k, "delete") {
			return reservedProperty(k)
		}
	}
	return nil
}
