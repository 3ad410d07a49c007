package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// cmdBashCompletion prints every command name and option, space-separated,
// for python-glanceclient's bash completion script. `glance completion
// bash|zsh|fish` gives full completion scripts.
func (a *app) cmdBashCompletion() *cobra.Command {
	return a.command(&cmdSpec{
		use:     "bash-completion",
		aliases: []string{"bash_completion"},
		short:   "Print every command and option name, for bash completion scripts.",
		direct: func(cmd *cobra.Command) error {
			words := map[string]bool{}
			for _, c := range cmd.Root().Commands() {
				if c.Hidden || c.Name() == "completion" {
					continue
				}
				words[c.Name()] = true
				c.LocalFlags().VisitAll(func(f *pflag.Flag) {
					if !f.Hidden {
						words["--"+f.Name] = true
					}
				})
			}
			words["--help"], words["-h"] = true, true
			list := make([]string, 0, len(words))
			for w := range words {
				list = append(list, w)
			}
			slices.Sort(list)
			fmt.Fprintln(a.io.Out, strings.Join(list, " "))
			return nil
		},
	})
}
