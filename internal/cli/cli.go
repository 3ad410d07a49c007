// Package cli implements the glance command, a drop-in replacement for
// python-glanceclient's glance: the same commands, options, environment
// variables, output and exit codes, plus name lookup, output formats, a
// curl-style --debug and shell completion.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/auth"
)

// IOStreams are the standard streams of one run and what is known about
// them. Tests build their own to run commands in-process.
type IOStreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTTY, OutTTY and ErrTTY report terminals.
	InTTY, OutTTY, ErrTTY bool
	// InData reports whether In carries data (a pipe or a regular file),
	// as opposed to a terminal, /dev/null or a closed descriptor.
	InData bool
	// ReadPassword reads a line from the terminal without echo; nil when
	// there is no terminal to ask.
	ReadPassword func(prompt string) (string, error)
}

// System returns the process's streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	s.InTTY = term.IsTerminal(int(os.Stdin.Fd()))
	s.OutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	s.ErrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	if fi, err := os.Stdin.Stat(); err == nil && !s.InTTY {
		m := fi.Mode()
		s.InData = m.IsRegular() || m&os.ModeNamedPipe != 0 || m&os.ModeSocket != 0
	}
	if s.InTTY {
		s.ReadPassword = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	return s
}

// app is the state of one run: streams, global options and, once a
// command needs it, the Image API client.
type app struct {
	io     *IOStreams
	getenv func(string) string
	g      globalOptions
	// version is the image API major version the commands are for: "1",
	// or "2" (also when empty).
	version string

	specs map[*cobra.Command]*cmdSpec // how each command was declared

	client  *glance.Client
	session *auth.Session
	stall   time.Duration // --timeout or clouds.yaml's api_timeout, once resolved
}

// Main runs the glance command line and returns the process exit code:
// 0 on success, 1 on failure, 2 for usage errors and 130 when ctx was
// cancelled (Ctrl-C).
func Main(ctx context.Context, args []string, streams *IOStreams, getenv func(string) string) int {
	if getenv == nil {
		getenv = os.Getenv
	}
	version, err := apiVersion(args, getenv)
	if err != nil {
		fmt.Fprintln(streams.Err, err)
		return exitError
	}
	a := &app{io: streams, getenv: getenv, version: version}
	root := a.newRootFor(version)
	args = a.rewriteArgs(root, args)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	cmd, err := root.ExecuteContextC(ctx)
	return a.exitCode(ctx, cmd, err)
}

func (a *app) exitCode(ctx context.Context, cmd *cobra.Command, err error) int {
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ctx.Err()) || strings.Contains(err.Error(), "context canceled")) {
		fmt.Fprintln(a.io.Err, "... terminating glance client")
		return exitInterrupted
	}
	if err == nil {
		return exitOK
	}
	var se silentError
	if errors.As(err, &se) {
		return exitError
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		if cmd == nil {
			cmd = &cobra.Command{Use: "glance"}
		}
		fmt.Fprintf(a.io.Err, "usage: %s\n", strings.TrimSuffix(cmd.UseLine(), " [flags]"))
		fmt.Fprintf(a.io.Err, "%s: error: %s\n", cmd.CommandPath(), err.Error())
		fmt.Fprintf(a.io.Err, "Try '%s' for more information.\n", helpHint(cmd))
		return exitUsage
	}
	fmt.Fprintln(a.io.Err, describe(err))
	return exitError
}

func helpHint(cmd *cobra.Command) string {
	if cmd.HasParent() {
		return "glance help " + cmd.Name()
	}
	return "glance help"
}

// isCobraUsage recognizes the argument errors cobra and pflag produce
// themselves.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag", "bad flag syntax", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// rewriteArgs adapts argparse habits that pflag does not share, so scripts
// written for python-glanceclient parse the same way:
//   - a global -f before the command is --force (-f is --format after it);
//   - --tags a b c takes several words;
//   - a [True|False] option takes its value as the next word (--hidden false).
func (a *app) rewriteArgs(root *cobra.Command, args []string) []string {
	out := make([]string, 0, len(args))
	i := 0
	global := root.PersistentFlags()
	// Global options before the command.
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" || !strings.HasPrefix(arg, "-") || arg == "-" {
			break
		}
		if arg == "-f" {
			out = append(out, "--force")
			continue
		}
		out = append(out, arg)
		if strings.Contains(arg, "=") {
			continue
		}
		var f *pflag.Flag
		if strings.HasPrefix(arg, "--") {
			f = global.Lookup(normalizeName(strings.TrimPrefix(arg, "--")))
		} else if len(arg) == 2 {
			f = global.ShorthandLookup(arg[1:])
		}
		if f != nil && f.NoOptDefVal == "" && f.Value.Type() != "bool" && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	if i >= len(args) {
		return out
	}
	cmd, _, err := root.Find(args[i:])
	if err != nil || cmd == root {
		return append(out, args[i:]...)
	}
	flags := cmd.Flags()
	lookup := func(arg string) *pflag.Flag {
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if f := flags.Lookup(normalizeName(name)); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(normalizeName(name))
	}
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		out = append(out, arg)
		if !strings.HasPrefix(arg, "--") || strings.Contains(arg, "=") {
			continue
		}
		f := lookup(arg)
		if f == nil {
			continue
		}
		switch f.Value.Type() {
		case "pybool":
			if i+1 < len(args) && isBoolWord(args[i+1]) {
				out[len(out)-1] = arg + "=" + args[i+1]
				i++
			}
		case "nargs":
			// Take every following word up to the next option.
			out = out[:len(out)-1]
			taken := 0
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				taken++
				out = append(out, arg+"="+args[i])
			}
			if taken == 0 {
				out = append(out, arg) // let pflag report the missing value
			}
		}
	}
	return out
}

// normalizeName accepts the underscore spellings (--os_auth_token) that
// python-glanceclient keeps as hidden aliases.
func normalizeName(name string) string { return strings.ReplaceAll(name, "_", "-") }

func normalize(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(normalizeName(name))
}
