package cli

import (
	"fmt"
	"strings"
)

// boolWords are the spellings oslo's bool_from_string accepts.
var (
	trueWords  = []string{"1", "t", "true", "on", "y", "yes"}
	falseWords = []string{"0", "f", "false", "off", "n", "no"}
)

func isBoolWord(s string) bool {
	_, err := parseBool(s)
	return err == nil
}

// parseBool is strict: anything but the known words is an error, so that
// --protected maybe does not silently mean false.
func parseBool(s string) (bool, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for _, w := range trueWords {
		if l == w {
			return true, nil
		}
	}
	for _, w := range falseWords {
		if l == w {
			return false, nil
		}
	}
	return false, fmt.Errorf("%q is not a boolean: use True or False", s)
}

// triBool is a [True|False] option: unset, true or false. A bare flag means
// True, as argparse's nargs='?' with const=True does.
type triBool struct{ v *bool }

func (b *triBool) String() string {
	if b.v == nil {
		return ""
	}
	if *b.v {
		return "True"
	}
	return "False"
}

func (b *triBool) Set(s string) error {
	v, err := parseBool(s)
	if err != nil {
		return err
	}
	b.v = &v
	return nil
}

func (b *triBool) Type() string { return "pybool" }

// nargs collects an option that takes several words (--tags a b c) or is
// repeated.
type nargs struct{ v *[]string }

func (n *nargs) String() string { return strings.Join(*n.v, ",") }
func (n *nargs) Set(s string) error {
	*n.v = append(*n.v, s)
	return nil
}
func (n *nargs) Type() string { return "nargs" }

// choice is a string option limited to some values, checked at parse time
// (argparse's choices: a bad value is a usage error).
type choice struct {
	v       *string
	choices []string
}

func (c *choice) String() string { return *c.v }
func (c *choice) Set(s string) error {
	for _, x := range c.choices {
		if s == x {
			*c.v = s
			return nil
		}
	}
	return fmt.Errorf("invalid choice: '%s' (choose from %s)", s, quoteList(c.choices))
}
func (c *choice) Type() string { return "string" }

// choices is a repeatable choice option.
type choices struct {
	v       *[]string
	choices []string
}

func (c *choices) String() string { return strings.Join(*c.v, ",") }
func (c *choices) Set(s string) error {
	var one string
	if err := (&choice{v: &one, choices: c.choices}).Set(s); err != nil {
		return err
	}
	*c.v = append(*c.v, one)
	return nil
}
func (c *choices) Type() string { return "string" }

// parseKeyValues splits key=value pairs; what is the option name for errors.
func parseKeyValues(pairs []string, what string) (map[string]string, error) {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageErrorf("argument %s: expected key=value, got %q", what, p)
		}
		m[k] = v
	}
	return m, nil
}
