package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// staticZsh writes a zsh completion function listing cmd's flags.
func staticZsh(w io.Writer, cmd *cobra.Command) error {
	name := cmd.Name()
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef %s\n\n_arguments", name)
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		arg := ""
		if f.Value.Type() != "bool" {
			arg = ":" + f.Name + ":"
			if strings.Contains(f.Name, "file") || strings.Contains(f.Name, "dir") || f.Name == "config" {
				arg += "_files"
			}
		}
		fmt.Fprintf(&b, " \\\n  '--%s[%s]%s'", f.Name, zshEscape(firstSentence(f.Usage)), arg)
	})
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// staticFish writes fish completions listing cmd's flags.
func staticFish(w io.Writer, cmd *cobra.Command) error {
	name := cmd.Name()
	var b strings.Builder
	fmt.Fprintf(&b, "# fish completion for %s\ncomplete -c %s -f\n", name, name)
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		req := ""
		if f.Value.Type() != "bool" {
			req = " -r"
		}
		fmt.Fprintf(&b, "complete -c %s -l %s%s -d '%s'\n", name, f.Name, req,
			strings.ReplaceAll(firstSentence(f.Usage), "'", `\'`))
	})
	_, err := io.WriteString(w, b.String())
	return err
}

// firstSentence is a flag's help up to its first bracket or semicolon.
func firstSentence(s string) string {
	if i := strings.IndexAny(s, "[;("); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

var zshEscape = strings.NewReplacer("'", `'\''`, "[", `\[`, "]", `\]`, ":", `\:`).Replace
