package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

// A command is declared one way, after gh's pkg/cmd: an options struct of
// its own that its flags and positional arguments fill, a cmdSpec that
// names it and declares its arguments as data, and a run function taking
// the options. a.command builds the cobra command from the spec; the help
// renders the positional arguments from the same data.

// cmdSpec declares one command.
type cmdSpec struct {
	// use is the usage line after "glance ", argparse style; short the
	// one-line summary (the command list) and long the help's text when it
	// says more.
	use, short, long string
	aliases          []string
	// args are the positional arguments, in order.
	args []posArg
	// argsCol is the column where the arguments' help starts; 0 puts it
	// two spaces after the longest name.
	argsCol int
	// required are options that must be given (argparse's required=True).
	required []string
	// flags declares the command's options, bound to its options struct.
	flags func(f *pflag.FlagSet)
	// print, when set, adds -f/--format and -c/--column, checked before
	// any request.
	print *printOptions
	// check vets the options once the arguments are bound, before -f is
	// checked and before any request; a usageError exits 2.
	check func(cmd *cobra.Command) error
	// run does the command's work with the Image API client. direct, when
	// set instead, is for commands that need no client (help, completion)
	// or set up what must outlive the request first (a file or stdin to
	// send, closed after it); they reach the client through a.run.
	run    func(ctx context.Context, c *glance.Client) error
	direct func(cmd *cobra.Command) error
}

// posArg is a positional argument.
type posArg struct {
	name, help string
	to         *string   // where its word goes
	rest       *[]string // or, for the last one: every remaining word, one at least
	optional   bool      // the last one may be left out
	choices    []string  // when set, the only values allowed
}

// command builds the cobra command a spec declares.
func (a *app) command(s *cmdSpec) *cobra.Command {
	c := &cobra.Command{
		Use:     s.use,
		Aliases: s.aliases,
		Short:   s.short,
		Long:    s.long,
		Args:    s.validate,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if s.direct != nil {
				return s.direct(cmd)
			}
			return a.run(cmd, s.run)
		},
	}
	if s.flags != nil {
		s.flags(c.Flags())
	}
	if s.print != nil {
		addPrintFlags(c, s.print)
	}
	if a.specs == nil {
		a.specs = map[*cobra.Command]*cmdSpec{}
	}
	a.specs[c] = s
	return c
}

// validate checks and binds the positional arguments, then the required
// options and s.check: argparse's usage errors, before any request.
func (s *cmdSpec) validate(cmd *cobra.Command, argv []string) error {
	var missing []string
	for _, n := range s.required {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	for _, p := range s.args[min(len(argv), len(s.args)):] {
		if !p.optional {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return usageErrorf("the following arguments are required: %s", strings.Join(missing, ", "))
	}
	last := len(s.args) - 1
	if len(argv) > len(s.args) && (last < 0 || s.args[last].rest == nil) {
		return usageErrorf("unrecognized arguments: %s", strings.Join(argv[len(s.args):], " "))
	}
	for i, p := range s.args[:min(len(argv), len(s.args))] {
		if p.choices != nil && !contains(p.choices, argv[i]) {
			return usageErrorf("argument %s: invalid choice: '%s' (choose from %s)", p.name, argv[i], quoteList(p.choices))
		}
		if p.rest != nil {
			*p.rest = argv[i:]
		} else if p.to != nil {
			*p.to = argv[i]
		}
	}
	if s.check != nil {
		return s.check(cmd)
	}
	return nil
}

// argsHelp renders the "Positional arguments" block of a command's help.
func (s *cmdSpec) argsHelp() string {
	col := s.argsCol
	if col == 0 {
		for _, p := range s.args {
			col = max(col, len(p.name)+4)
		}
	}
	var b strings.Builder
	for _, p := range s.args {
		fmt.Fprintf(&b, "  %-*s%s\n", col-2, p.name, p.help)
	}
	return b.String()
}

// imageArg is the usual first argument: an image by ID or name.
func imageArg(help string, to *string) posArg {
	return posArg{name: "<IMAGE_ID>", help: help, to: to}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
