// Command testreport reads `go test -json` on its standard input and writes a
// short report: a line per package with its counts, the output of every
// failed test, why tests were skipped, the slowest tests, and a closing line
// "N passed, N failed, N skipped". It exits 1 when anything failed.
//
//	go test -json ./... | go run ./scripts/testreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of test2json's output.
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type pkgState struct {
	pass, fail, skip int
	skips            []string            // distinct reasons, in order of first sight
	out              map[string][]string // output of each running test; "" is the package's own
}

type timing struct {
	name    string
	elapsed float64
}

type report struct {
	w                io.Writer
	pkgs             map[string]*pkgState
	pass, fail, skip int
	failedPkgs       int
	slowest          []timing
	sawEvent         bool
	lastHeader       string // the package whose failures were last shown
}

const module = "github.com/go-glance/glance"

// short names a package of this module by its folder.
func short(pkg string) string {
	if pkg == module {
		return "."
	}
	return strings.TrimPrefix(pkg, module+"/")
}

// header names the package before the first failure shown from it.
func (r *report) header(pkg string) {
	if r.lastHeader != pkg {
		fmt.Fprintf(r.w, "=== in %s\n", short(pkg))
		r.lastHeader = pkg
	}
}

func main() {
	r := &report{w: os.Stdout, pkgs: map[string]*pkgState{}}
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if !r.finish() {
		os.Exit(1)
	}
}

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(r.w, "%s\n", line) // not an event: go test's own complaint
			continue
		}
		r.sawEvent = true
		r.handle(e)
	}
	return sc.Err()
}

func (r *report) pkg(name string) *pkgState {
	p := r.pkgs[name]
	if p == nil {
		p = &pkgState{out: map[string][]string{}}
		r.pkgs[name] = p
	}
	return p
}

func (r *report) handle(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.w, e.Output) // compiler errors
		return
	case "output":
		p := r.pkg(e.Package)
		p.out[e.Test] = append(p.out[e.Test], e.Output)
		return
	case "pass", "fail", "skip":
	default:
		return
	}
	p := r.pkg(e.Package)
	if e.Test == "" {
		r.endPackage(e, p)
		return
	}
	out := p.out[e.Test]
	delete(p.out, e.Test)
	switch e.Action {
	case "pass":
		p.pass++
		r.pass++
	case "fail":
		p.fail++
		r.fail++
		r.header(e.Package)
		for _, l := range out {
			fmt.Fprint(r.w, l)
		}
	case "skip":
		p.skip++
		r.skip++
		if why := skipReason(out); why != "" && !contains(p.skips, why) {
			p.skips = append(p.skips, why)
		}
	}
	if !strings.Contains(e.Test, "/") {
		r.slowest = append(r.slowest, timing{short(e.Package) + " " + e.Test, e.Elapsed})
	}
}

func (r *report) endPackage(e event, p *pkgState) {
	switch e.Action {
	case "skip": // no test files
		return
	case "pass":
		fmt.Fprintf(r.w, "ok    %-32s %6.1fs  %d passed, %d skipped\n", short(e.Package), e.Elapsed, p.pass, p.skip)
	case "fail":
		r.failedPkgs++
		// What the package printed outside tests (a panic, a timeout, a failed
		// TestMain) and the output of tests that never finished.
		// go test's own closing lines (PASS, FAIL, ok) are left out.
		for test, out := range p.out {
			r.header(e.Package)
			if test != "" {
				fmt.Fprintf(r.w, "--- unfinished: %s\n", test)
			}
			for _, l := range out {
				if test == "" && (l == "FAIL\n" || l == "PASS\n" || strings.HasPrefix(l, "FAIL\t") || strings.HasPrefix(l, "ok  \t")) {
					continue
				}
				fmt.Fprint(r.w, l)
			}
		}
		fmt.Fprintf(r.w, "FAIL  %-32s %6.1fs  %d passed, %d failed, %d skipped\n", short(e.Package), e.Elapsed, p.pass, p.fail, p.skip)
	}
	for _, why := range p.skips {
		fmt.Fprintf(r.w, "      skipped: %s\n", why)
	}
	delete(r.pkgs, e.Package)
}

// skipReason is what a skipped test said, without test2json's framing lines.
func skipReason(out []string) string {
	var parts []string
	for _, l := range out {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		// "peer_test.go:13: message" -> "message"
		if i := strings.Index(l, ": "); i > 0 && strings.Contains(l[:i], ".go:") {
			l = l[i+2:]
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// finish prints the slowest tests and the closing line, and says whether
// everything passed.
func (r *report) finish() bool {
	sort.Slice(r.slowest, func(i, j int) bool { return r.slowest[i].elapsed > r.slowest[j].elapsed })
	var slow []string
	for _, s := range r.slowest {
		if s.elapsed < 2 || len(slow) == 8 {
			break
		}
		d := time.Duration(s.elapsed * float64(time.Second)).Round(100 * time.Millisecond)
		slow = append(slow, fmt.Sprintf("  %7s  %s", d, s.name))
	}
	if len(slow) > 0 {
		fmt.Fprintf(r.w, "slowest tests:\n%s\n", strings.Join(slow, "\n"))
	}
	fmt.Fprintf(r.w, "%d passed, %d failed, %d skipped\n", r.pass, r.fail, r.skip)
	return r.sawEvent && r.fail == 0 && r.failedPkgs == 0
}
