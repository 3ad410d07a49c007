package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// loadFiles reads opts.File, then the files of opts.Dirs, and returns the
// rules they set, later files overriding earlier ones rule by rule.
func (e *Enforcer) loadFiles(opts Options) (map[string]*rule, error) {
	rules := map[string]*rule{}
	if opts.File != "" {
		if err := e.loadFile(opts.File, rules); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for _, dir := range opts.Dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("policy directory: %w", err)
		}
		for _, ent := range entries { // sorted by name, as oslo.policy sorts
			path := filepath.Join(dir, ent.Name())
			if strings.HasPrefix(ent.Name(), ".") {
				continue
			}
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				continue
			}
			if err := e.loadFile(path, rules); err != nil {
				return nil, err
			}
		}
	}
	return rules, nil
}

func (e *Enforcer) loadFile(path string, into map[string]*rule) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("policy file: %w", err)
	}
	parsed, err := ParseFile(data)
	if err != nil {
		return fmt.Errorf("policy file %s: %w", path, err)
	}
	for name, x := range parsed {
		into[name] = &rule{name: name, root: x.root, source: path}
	}
	e.sources = append(e.sources, path)
	return nil
}

// ParseFile parses the contents of a policy file, JSON or YAML, as
// oslo.policy does: a mapping of rule names to check strings, where a rule
// may also be written in the older list form [["a:b", "c:d"], ["e:f"]]
// (inner lists joined by "and", the outer by "or"), and an empty or
// commented-out file sets no rule. A rule left empty (null) is "always".
func ParseFile(data []byte) (map[string]*Expr, error) {
	var top map[string]any
	var lines map[string]int
	if json.Valid(data) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		if m, ok := v.(map[string]any); ok {
			top = m
		} else if truthy(v) {
			return nil, errors.New("the file is not a mapping of rule names to rules")
		}
	} else {
		var err error
		if top, lines, err = yamlRules(data); err != nil {
			return nil, err
		}
	}
	out := make(map[string]*Expr, len(top))
	for name, v := range top {
		root, err := valueRule(v)
		if err != nil {
			if l, ok := lines[name]; ok {
				return nil, fmt.Errorf("line %d: rule %q: %w", l, name, err)
			}
			return nil, fmt.Errorf("rule %q: %w", name, err)
		}
		out[name] = &Expr{root: root}
	}
	return out, nil
}

// truthy is Python's truth of a parsed document that is not a mapping:
// oslo.policy reads a false one (null, 0, "", []) as no rules.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	}
	return true
}

// yamlRules reads a YAML mapping into plain values, the last of duplicate
// names winning as with PyYAML, and notes the line of each rule.
func yamlRules(data []byte) (map[string]any, map[string]int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil, nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("line %d: the file is not a mapping of rule names to rules", root.Line)
	}
	rules, lines := map[string]any{}, map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return nil, nil, fmt.Errorf("line %d: a rule name must be plain text", k.Line)
		}
		val, err := yamlValue(v, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: rule %q: %w", v.Line, k.Value, err)
		}
		rules[k.Value], lines[k.Value] = val, k.Line
	}
	return rules, lines, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlValue reads a rule's value. Lists nest two deep at most (the older
// list form), which also stops aliases that refer to themselves.
func yamlValue(n *yaml.Node, depth int) (any, error) {
	n = deref(n)
	switch {
	case n.Kind == yaml.SequenceNode && depth >= 2:
		return nil, errors.New("a list rule holds lists of check strings")
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		return n.Value, nil
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return nil, nil
	case n.Kind == yaml.SequenceNode:
		list := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := yamlValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
		return list, nil
	}
	return nil, fmt.Errorf("a rule is a check string (quote it if YAML reads %q as something else)", n.Value)
}

// valueRule turns a parsed rule value into a tree.
func valueRule(v any) (*node, error) {
	switch v := v.(type) {
	case string:
		x, err := Parse(v)
		if err != nil {
			return nil, err
		}
		return x.root, nil
	case nil:
		return &node{op: opTrue}, nil
	case []any:
		return listRule(v)
	}
	return nil, errors.New("a rule is a check string or a list of lists of checks")
}

// listRule reads the older list form: the outer list is "or", each inner
// list "and", each element one check; an empty outer list is "always", and a
// list whose inner lists are all empty is "never".
func listRule(outer []any) (*node, error) {
	if len(outer) == 0 {
		return &node{op: opTrue}, nil
	}
	var ors []*node
	for _, inner := range outer {
		var items []any
		switch in := inner.(type) {
		case nil:
			continue
		case string:
			if in == "" {
				continue
			}
			items = []any{in}
		case []any:
			items = in
		default:
			return nil, errors.New("a list rule holds lists of check strings")
		}
		if len(items) == 0 {
			continue
		}
		var ands []*node
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, errors.New("a list rule holds lists of check strings")
			}
			leaf, err := parseLeaf(s)
			var se *SyntaxError
			if errors.As(err, &se) {
				se.Rule = s
			}
			if err != nil {
				return nil, err
			}
			ands = append(ands, leaf)
		}
		ors = append(ors, group(opAnd, ands))
	}
	if len(ors) == 0 {
		return &node{op: opFalse}, nil
	}
	return group(opOr, ors), nil
}

func group(o op, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	return &node{op: o, kids: kids}
}
