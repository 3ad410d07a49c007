package server

import (
	"flag"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/buildinfo"
)

// Version is what `glanced --version` prints: the version, then the
// build's module version and commit, as `glance --version` does.
func Version() string { return buildinfo.Read().Version(glance.Version) }

// wantsVersion reports whether args ask for the version (--version or
// -version anywhere before "--").
func wantsVersion(args []string) bool {
	for _, a := range args {
		if a == "--version" || a == "-version" || a == "--version=true" || a == "-version=true" {
			return true
		}
		if a == "--" {
			break
		}
	}
	return false
}

// FlagSet returns glanced's flags, for generated documentation (the man
// page and completions); it parses nothing.
func FlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("glanced", flag.ContinueOnError)
	defineFlags(fs)
	return fs
}
