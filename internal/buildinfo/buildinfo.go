// Package buildinfo tells which build of glance or glanced is running, from
// what the Go toolchain recorded in the binary (runtime/debug.ReadBuildInfo):
// the main module's version and the VCS commit it was built from.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Info is what a binary knows of its build.
type Info struct {
	Module   string // the main module's version: a tag (v1.2.3), a pseudo-version or "(devel)"
	Commit   string // VCS revision, "" if not recorded
	Time     string // commit time (RFC 3339), "" if not recorded
	Modified bool   // the work tree had uncommitted changes
	Go       string // toolchain version
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Version, Go: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// Version is the line `glance --version` prints: first the version alone,
// as python-glanceclient prints its own (so scripts that read the first
// word keep working), then, when the binary records them, the module
// version and commit in parentheses:
//
//	0.1.0 (module v0.1.1-0.20261202132207-008fe06abcde+dirty, commit 008fe06abcde, modified)
//
// The first word is the module's version when the binary was built from a
// release tag, else base (the library's version).
func (in Info) Version(base string) string {
	v := base
	if release(in.Module) {
		v = strings.TrimPrefix(in.Module, "v")
	}
	var extra []string
	if in.Module != "" && in.Module != "(devel)" && strings.TrimPrefix(in.Module, "v") != v {
		extra = append(extra, "module "+in.Module)
	}
	if in.Commit != "" {
		extra = append(extra, "commit "+short(in.Commit))
	}
	if in.Modified {
		extra = append(extra, "modified")
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}

// release reports whether v is a plain release tag, vMAJOR.MINOR.PATCH.
func release(v string) bool {
	rest, ok := strings.CutPrefix(v, "v")
	parts := strings.Split(rest, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
