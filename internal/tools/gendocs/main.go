// Command gendocs writes the manual pages of glance and glanced and the
// shell completion scripts of glance, from their command trees, into a
// release folder:
//
//	go run ./internal/tools/gendocs -o DIR
//
// writes DIR/man/man1/*.1 and DIR/completion/{glance.bash,_glance,glance.fish}
// and {glanced.bash,_glanced,glanced.fish}.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/go-glance/glance/internal/cli"
	"github.com/go-glance/glance/internal/server"
)

func main() {
	out := flag.String("o", "", "output folder")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gendocs -o DIR")
		os.Exit(2)
	}
	if err := generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	man := filepath.Join(dir, "man", "man1")
	comp := filepath.Join(dir, "completion")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	version := server.Version()
	glance := cli.CommandTree()
	glance.InitDefaultCompletionCmd()
	glance.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "GLANCE", Section: "1", Source: "go-glance " + version, Manual: "go-glance manual"}
	if err := doc.GenManTree(glance, hdr, man); err != nil {
		return fmt.Errorf("glance man pages: %w", err)
	}
	glanced := glancedCommand()
	hdr = &doc.GenManHeader{Title: "GLANCED", Section: "1", Source: "go-glance " + version, Manual: "go-glance manual"}
	if err := doc.GenManTree(glanced, hdr, man); err != nil {
		return fmt.Errorf("glanced man page: %w", err)
	}
	return completions(comp, glance, glanced)
}

// completions writes bash, zsh and fish scripts. glance's ask the binary
// (glance __complete) at run time, so they know names and flags of the
// installed version. glanced has no subcommands to ask about: its scripts
// are bash's older, self-contained kind, and zsh and fish ones listing its
// flags.
func completions(dir string, glance, glanced *cobra.Command) error {
	write := func(name string, gen func(f *os.File) error) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := gen(f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		return f.Close()
	}
	for name, gen := range map[string]func(f *os.File) error{
		"glance.bash":  func(f *os.File) error { return glance.GenBashCompletionV2(f, true) },
		"_glance":      func(f *os.File) error { return glance.GenZshCompletion(f) },
		"glance.fish":  func(f *os.File) error { return glance.GenFishCompletion(f, true) },
		"glanced.bash": func(f *os.File) error { return glanced.GenBashCompletion(f) },
		"_glanced":     func(f *os.File) error { return staticZsh(f, glanced) },
		"glanced.fish": func(f *os.File) error { return staticFish(f, glanced) },
	} {
		if err := write(name, gen); err != nil {
			return err
		}
	}
	return nil
}

// glancedCommand describes glanced (a flag-based command) as a cobra
// command, for its man page and completions.
func glancedCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "glanced [flags]",
		Short: "A Glance-compatible image service",
		Long: "glanced serves the OpenStack Image API v2 of Glance 25.1, with metadata in SQLite and image data in " +
			"file stores. Each flag can also be set with the environment variable shown, or in the --config YAML " +
			"file; flags win over variables, variables over the file. Prometheus metrics are served at /metrics " +
			"(see --metrics-listen).",
		Run:               func(*cobra.Command, []string) {},
		DisableAutoGenTag: true,
	}
	c.Flags().AddGoFlagSet(server.FlagSet())
	return c
}
