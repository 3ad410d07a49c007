package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The command and option names of python-glanceclient 4.1 are kept in a
// fixture per image API version, one line per command: "NAME: OPTION OPTION
// ...", with the global options under globalKey. The tests below compare them
// with ours; TestPythonGlanceclientNamesDrift checks the fixtures against
// /usr/bin/glance.

const (
	namesFixture   = "testdata/glanceclient-4.1.names"
	namesFixtureV1 = "testdata/glanceclient-4.1-v1.names"
	globalKey      = "(global)"
	pyGlance       = "/usr/bin/glance"
)

var updateNames = flag.Bool("update", false, "rewrite "+namesFixture+" and "+namesFixtureV1+" from "+pyGlance)

// namesSpec is what the name tests need to know about one API version.
type namesSpec struct {
	version     string // "1" or "2"
	fixture     string
	minCommands int // fewer parsed means the help layout changed
	ourCommands map[string]bool
	ourOptions  map[string][]string
}

var (
	namesV2 = namesSpec{"2", namesFixture, 60, ourCommands, ourOptions}
	namesV1 = namesSpec{"1", namesFixtureV1, 11, map[string]bool{"completion": true, "token-cache-clear": true}, map[string][]string{
		"":           ourOptions[""],
		"image-list": {"-f", "--format", "-c", "--column"}, "image-show": {"-f", "--format", "-c", "--column"},
		"image-create": {"-f", "--format", "-c", "--column"}, "image-update": {"-f", "--format", "-c", "--column"},
		"member-list": {"-f", "--format", "-c", "--column"},
	}}
	namesSpecs = []namesSpec{namesV2, namesV1}
)

// notImplemented are python-glanceclient commands this client does not
// have yet (the library has no API for them).
var notImplemented = map[string]bool{}

// ourCommands are deliberate additions.
// add-location is python-glanceclient 4.7's (image API 2.17); location-list
// lists through the same API (GET /images/{id}/locations).
var ourCommands = map[string]bool{"completion": true, "token-cache-clear": true, "add-location": true, "location-list": true}

// ourOptions are deliberate additions, by command ("" for global ones).
var ourOptions = map[string][]string{
	"":                        {"--os-cloud", "--os-interface", "--os-identity-api-version", "--no-token-cache"},
	"image-list":              {"--name", "--status", "-f", "--format", "-c", "--column"},
	"image-create":            {"--human-readable", "-f", "--format", "-c", "--column", "--size", "--decompress", "--skip-format-check"},
	"image-upload":            {"--decompress", "--skip-format-check"},
	"image-stage":             {"--decompress", "--skip-format-check"},
	"image-update":            {"--human-readable", "-f", "--format", "-c", "--column"},
	"image-show":              {"-f", "--format", "-c", "--column"},
	"image-download":          {"--resume", "--sparse", "--parallel", "--prefer"},
	"image-import":            {"-f", "--format", "-c", "--column", "--wait"},
	"image-create-via-import": {"-f", "--format", "-c", "--column", "--wait", "--size", "--decompress", "--skip-format-check"},
	"image-tag-update":        {"-f", "--format", "-c", "--column"},
	"image-tasks":             {"-f", "--format", "-c", "--column"},
	"member-create":           {"-f", "--format", "-c", "--column"},
	"member-get":              {"-f", "--format", "-c", "--column"},
	"member-list":             {"-f", "--format", "-c", "--column"},
	"member-update":           {"-f", "--format", "-c", "--column"},
	"import-info":             {"-f", "--format", "-c", "--column"},
	"stores-info":             {"-f", "--format", "-c", "--column"},
	"explain":                 {"-f", "--format", "-c", "--column"},
	"task-show":               {"-f", "--format", "-c", "--column"},
	"task-list":               {"-f", "--format", "-c", "--column"},
	"task-create":             {"-f", "--format", "-c", "--column", "--wait"},
	"cache-list":              {"-f", "--format", "-c", "--column"},
	"location-add":            {"-f", "--format", "-c", "--column"},
	"location-update":         {"-f", "--format", "-c", "--column"},
	"usage":                   {"-f", "--format", "-c", "--column"},
}

var optionRE = regexp.MustCompile(`(?:^|[\s\[,])(--?[a-zA-Z][a-zA-Z0-9_-]*)`)

// helpOptions extracts the option names from an argparse help text: its
// usage block and the option lines of the sections below it.
func helpOptions(help string) []string {
	block, rest, _ := strings.Cut(help, "\n\n")
	for _, line := range strings.Split(rest, "\n") {
		if trimmed := strings.TrimLeft(line, " "); strings.HasPrefix(trimmed, "-") && len(line) > len(trimmed) {
			block += "\n" + trimmed
		}
	}
	var opts []string
	for _, m := range optionRE.FindAllStringSubmatch(block, -1) {
		if !slices.Contains(opts, m[1]) {
			opts = append(opts, m[1])
		}
	}
	return opts
}

// helpCommands extracts the subcommand names listed by `glance help`.
func helpCommands(help string, atLeast int) ([]string, error) {
	_, rest, _ := strings.Cut(help, "<subcommand>\n")
	section, _, _ := strings.Cut(rest, "\nOptions:")
	var cmds []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "    ") && len(line) > 4 && line[4] != ' ' {
			cmds = append(cmds, strings.Fields(line)[0])
		}
	}
	// Fewer means the help layout changed and the parse is wrong.
	if len(cmds) < atLeast {
		return nil, fmt.Errorf("parsed only %d commands from `glance help`", len(cmds))
	}
	return cmds, nil
}

// pyNames are the command and option names of one python-glanceclient.
type pyNames struct {
	commands []string            // in help order, without globalKey
	options  map[string][]string // by command, globalKey for global options
}

// namesFromHelp builds pyNames from the top-level help and a source of
// per-command help texts.
func namesFromHelp(top string, atLeast int, cmdHelp func(cmd string) (string, error)) (*pyNames, error) {
	cmds, err := helpCommands(top, atLeast)
	if err != nil {
		return nil, err
	}
	n := &pyNames{commands: cmds, options: map[string][]string{globalKey: helpOptions(top)}}
	for _, c := range cmds {
		help, err := cmdHelp(c)
		if err != nil {
			return nil, fmt.Errorf("help %s: %w", c, err)
		}
		n.options[c] = helpOptions(help)
	}
	return n, nil
}

// format renders n in the fixture's format.
func (n *pyNames) format(version string) []byte {
	var b bytes.Buffer
	b.WriteString("# Command and option names of python-glanceclient 4.1, image API v" + version + ".\n")
	b.WriteString("# Regenerate: go test -run NamesDrift -update ./internal/cli\n")
	for _, c := range append([]string{globalKey}, n.commands...) {
		b.WriteString(strings.TrimRight(c+": "+strings.Join(n.options[c], " "), " ") + "\n")
	}
	return b.Bytes()
}

// parseNames reads the fixture's format.
func parseNames(data []byte, atLeast int) (*pyNames, error) {
	n := &pyNames{options: map[string][]string{}}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, opts, ok := strings.Cut(line, ":")
		if !ok || cmd == "" || strings.ContainsAny(cmd, " \t") {
			return nil, fmt.Errorf("line %d: want \"COMMAND: OPTION ...\", got %q", i+1, line)
		}
		if _, dup := n.options[cmd]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", i+1, cmd)
		}
		n.options[cmd] = strings.Fields(opts)
		if cmd != globalKey {
			n.commands = append(n.commands, cmd)
		}
	}
	if _, ok := n.options[globalKey]; !ok {
		return nil, fmt.Errorf("no %s line", globalKey)
	}
	if len(n.commands) < atLeast {
		return nil, fmt.Errorf("only %d commands", len(n.commands))
	}
	return n, nil
}

func loadNames(t *testing.T, spec namesSpec) *pyNames {
	t.Helper()
	data, err := os.ReadFile(spec.fixture)
	if err != nil {
		t.Fatal(err)
	}
	n, err := parseNames(data, spec.minCommands)
	if err != nil {
		t.Fatalf("%s: %v", spec.fixture, err)
	}
	return n
}

// livePyNames runs python-glanceclient's `glance help` and `glance help CMD`
// for every command, with a fresh HOME (so no cached ~/.glanceclient schemas)
// and no OS_AUTH_URL, so that it uses its bundled image API v2 schemas.
func livePyNames(ctx context.Context, t *testing.T, spec namesSpec) (*pyNames, error) {
	env := []string{
		"HOME=" + t.TempDir(),
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"COLUMNS=80",
		"OS_IMAGE_API_VERSION=" + spec.version,
	}
	help := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, pyGlance, append([]string{"help"}, args...)...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%s help %s: %w: %s", pyGlance, strings.Join(args, " "), err, stderr.String())
		}
		return string(out), nil
	}
	top, err := help()
	if err != nil {
		return nil, err
	}
	cmds, err := helpCommands(top, spec.minCommands)
	if err != nil {
		return nil, err
	}
	// Each run starts a Python interpreter (most of a second): run a few at once.
	texts := make(map[string]string, len(cmds))
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, max(2, runtime.NumCPU()))
	)
	for _, c := range cmds {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			text, err := help(c)
			mu.Lock()
			defer mu.Unlock()
			texts[c] = text
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return namesFromHelp(top, spec.minCommands, func(c string) (string, error) { return texts[c], nil })
}

func TestPythonGlanceclientNamesDrift(t *testing.T) {
	t.Parallel() // tens of seconds of Python start-ups
	if _, err := os.Stat(pyGlance); err != nil {
		t.Skipf("python-glanceclient (%s) is NOT installed: the names fixtures are not checked against it, the compatibility tests rely on them as they are", pyGlance)
	}
	for _, spec := range namesSpecs {
		t.Run("v"+spec.version, func(t *testing.T) {
			t.Parallel()
			checkNamesDrift(t, spec)
		})
	}
}

func checkNamesDrift(t *testing.T, spec namesSpec) {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute) // two versions at once, on a busy machine
	defer cancel()
	live, err := livePyNames(ctx, t, spec)
	if err != nil {
		t.Fatal(err)
	}
	got := live.format(spec.version)
	if *updateNames {
		if err := os.WriteFile(spec.fixture, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", spec.fixture)
		return
	}
	want, err := os.ReadFile(spec.fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s (another python-glanceclient version?) differs from %s; review, then regenerate with -update:\n%s",
			pyGlance, spec.fixture, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

func testRoot(version string) *cobra.Command {
	a := &app{io: &IOStreams{}, getenv: func(string) string { return "" }, version: version}
	return a.newRootFor(version)
}

// flagNames lists --name and -x of a flag set.
func flagNames(fs ...*pflag.FlagSet) []string {
	var names []string
	for _, f := range fs {
		f.VisitAll(func(fl *pflag.Flag) {
			names = append(names, "--"+fl.Name)
			if fl.Shorthand != "" {
				names = append(names, "-"+fl.Shorthand)
			}
		})
	}
	return names
}

func TestCommandNamesMatchPythonGlanceclient(t *testing.T) {
	for _, spec := range namesSpecs {
		t.Run("v"+spec.version, func(t *testing.T) { checkCommandNames(t, spec) })
	}
}

func checkCommandNames(t *testing.T, spec namesSpec) {
	root := testRoot(spec.version)
	ours := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		ours[c.Name()] = c
		for _, al := range c.Aliases {
			ours[al] = c
		}
	}
	py := loadNames(t, spec).commands
	for _, name := range py {
		if _, ok := ours[name]; !ok && !notImplemented[name] {
			t.Errorf("python-glanceclient command %s is missing", name)
		}
		if _, ok := ours[name]; ok && notImplemented[name] {
			t.Errorf("command %s is implemented: remove it from notImplemented", name)
		}
	}
	for name, c := range ours {
		if name != c.Name() {
			continue
		}
		if !slices.Contains(py, name) && !spec.ourCommands[name] {
			t.Errorf("command %s is not in python-glanceclient and not listed as an addition", name)
		}
	}
}

func TestOptionNamesMatchPythonGlanceclient(t *testing.T) {
	for _, spec := range namesSpecs {
		t.Run("v"+spec.version, func(t *testing.T) { checkOptionNames(t, spec) })
	}
}

func checkOptionNames(t *testing.T, spec namesSpec) {
	root := testRoot(spec.version)
	names := loadNames(t, spec)
	global := flagNames(root.PersistentFlags())
	global = append(global, "--help", "-h", "--version")
	// Global options.
	pyGlobal := names.options[globalKey]
	for _, opt := range pyGlobal {
		// -f is --force before the command (see rewriteArgs).
		if opt == "-f" {
			continue
		}
		if !slices.Contains(global, opt) {
			t.Errorf("global option %s of python-glanceclient is missing", opt)
		}
	}
	for _, opt := range flagNames(root.PersistentFlags()) {
		if !slices.Contains(pyGlobal, opt) && !slices.Contains(spec.ourOptions[""], opt) && !isHiddenAlias(root.PersistentFlags(), opt) {
			t.Errorf("global option %s is not python-glanceclient's and not listed as an addition", opt)
		}
	}
	// Command options.
	for _, name := range names.commands {
		if notImplemented[name] || name == "help" || name == "bash-completion" {
			continue
		}
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd == root {
			t.Errorf("command %s not found", name)
			continue
		}
		have := flagNames(cmd.LocalFlags())
		py := names.options[name]
		for _, opt := range py {
			if !slices.Contains(have, opt) {
				t.Errorf("%s: option %s of python-glanceclient is missing", name, opt)
			}
		}
		for _, opt := range have {
			if !slices.Contains(py, opt) && !slices.Contains(spec.ourOptions[name], opt) && opt != "--help" && opt != "-h" {
				t.Errorf("%s: option %s is not python-glanceclient's and not listed as an addition", name, opt)
			}
		}
	}
}

// isHiddenAlias reports the hidden spellings kept for compatibility.
func isHiddenAlias(fs *pflag.FlagSet, opt string) bool {
	f := fs.Lookup(strings.TrimPrefix(opt, "--"))
	return f != nil && f.Hidden
}
