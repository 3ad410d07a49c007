// Command bench measures, in one run on one machine, the glance CLI against
// openstackclient, python-glanceclient and curl, and glanced against the real
// Glance, all talking to the same Keystone, and prints a markdown report.
//
// It is not part of go test: timings belong in a quiet, separate run. Use
// bench/run.sh, which also starts a peer and installs hyperfine and wrk.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

type config struct {
	peerDir      string
	out          string
	runs         int
	rssRuns      int
	images       int
	duration     time.Duration
	conns        []int
	keepAlive    []bool // connection modes of the load tests
	transferMiB  int
	transferRuns int
	// transferPython and transferCurl choose the transfer tables: beside
	// python-glanceclient, beside curl.
	transferPython, transferCurl bool
	// parallelMiB is the image of the parallel-range test (0 skips it),
	// throttleMiB the proxy's cap per connection, parallelRanges the ranges.
	parallelMiB, throttleMiB, parallelRanges int
	timer                                    string // auto, hyperfine or go
	load                                     string // auto, wrk or go
	glancedAuth                              string // keystone or noauth
	glancedProcs                             int    // GOMAXPROCS of glanced; 0 leaves Go's default
	sections                                 map[string]bool

	// The growth sections: Glance and glanced on scaleImages images at
	// scaleConns; glanced grown to growthCounts images, with images of
	// growthSizes MiB, and concN uploads of concMiB at once; plots in plotDir.
	scaleImages               int
	scaleConns                []int
	growthCounts, growthSizes []int
	concN, concMiB            int
	plotDir                   string

	// The cluster section: the folder of a running scripts/cluster-up.sh
	// and the images it seeds there and in each single glanced.
	clusterDir    string
	clusterImages int
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var c config
	var conns, modes, only string
	defPeer := os.Getenv("GLANCE_PEER_DIR")
	if defPeer == "" {
		defPeer = os.Getenv("GLANCE_PEER_ENV")
	}
	if defPeer == "" {
		defPeer = testenv.DefaultDir
	}
	flag.StringVar(&c.peerDir, "peer", defPeer, "folder of the running peer (openstack-up.sh's DIR)")
	flag.StringVar(&c.out, "o", "", "also write the report to this file")
	flag.IntVar(&c.runs, "runs", 10, "timed runs per CLI command")
	flag.IntVar(&c.rssRuns, "rss-runs", 3, "checked runs per CLI command for peak RSS (before the timed ones)")
	flag.IntVar(&c.images, "images", 20, "images to seed in each server")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each load test")
	flag.StringVar(&conns, "conns", "1,8", "concurrent connections of the load tests, comma-separated")
	flag.StringVar(&modes, "conn-modes", "keep-alive,close", "connection modes of the load tests: keep-alive, close (a new connection per request), or both")
	flag.IntVar(&c.transferMiB, "transfer-mib", 256, "image size for the upload/download test; 0 skips it")
	flag.IntVar(&c.transferRuns, "transfer-runs", 3, "runs per transfer command")
	flag.BoolVar(&c.transferPython, "transfer-python", true, "time transfers beside python-glanceclient (on Glance)")
	flag.BoolVar(&c.transferCurl, "transfer-curl", true, "time transfers beside curl (on Glance and glanced)")
	flag.IntVar(&c.parallelMiB, "parallel-mib", 256, "image size for the parallel-range download through a capped proxy; 0 skips it")
	flag.IntVar(&c.throttleMiB, "throttle-mib", 32, "the proxy's bandwidth cap per connection, MiB/s")
	flag.IntVar(&c.parallelRanges, "parallel-ranges", 4, "ranges of the parallel download")
	flag.StringVar(&c.timer, "timer", "auto", "CLI timer: hyperfine, go, or auto (hyperfine when installed)")
	flag.StringVar(&c.load, "load", "auto", "load generator: wrk, go, or auto (wrk when installed)")
	flag.StringVar(&c.glancedAuth, "glanced-auth", "keystone", "glanced's auth mode: keystone (falls back to noauth if it fails) or noauth")
	flag.IntVar(&c.glancedProcs, "glanced-procs", 1, "GOMAXPROCS for glanced (1 matches the peer's single Glance worker; 0 is Go's default, every CPU)")
	flag.StringVar(&only, "only", "cli,server,transfer,scale,growth", "sections to run, comma-separated (cluster, which needs -cluster-dir, runs only when named)")
	var scaleConns, counts, sizes string
	flag.IntVar(&c.scaleImages, "scale-images", 1000, "images in each server for the scale section")
	flag.StringVar(&scaleConns, "scale-conns", "1,8,32", "concurrent connections of the scale section")
	flag.StringVar(&counts, "growth-images", "10,100,1000,10000,100000", "image counts glanced grows through, comma-separated, increasing")
	flag.StringVar(&sizes, "growth-mib", "1,4,16,64,256,1024,4096", "image sizes of the growth section, MiB, comma-separated")
	flag.IntVar(&c.concN, "concurrent", 8, "uploads (then downloads) at once in the growth section; 0 skips them")
	flag.IntVar(&c.concMiB, "concurrent-mib", 256, "size of each of the concurrent uploads, MiB")
	flag.StringVar(&c.plotDir, "plots", "bench/plots", "folder for the growth section's plots (PNG)")
	flag.StringVar(&c.clusterDir, "cluster-dir", "", "folder of a running scripts/cluster-up.sh (noauth) for the cluster section")
	flag.IntVar(&c.clusterImages, "cluster-images", 1000, "images seeded in the cluster and in each single glanced of the cluster section")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	if c.runs < 1 || c.rssRuns < 1 || c.images < 1 || c.transferRuns < 1 {
		return errors.New("-runs, -rss-runs, -images and -transfer-runs must be at least 1")
	}
	var err error
	if c.conns, err = parseInts(conns); err != nil {
		return fmt.Errorf("-conns: %w", err)
	}
	for name, x := range map[string]struct {
		s   string
		dst *[]int
	}{"-scale-conns": {scaleConns, &c.scaleConns}, "-growth-images": {counts, &c.growthCounts}, "-growth-mib": {sizes, &c.growthSizes}} {
		if *x.dst, err = parseInts(x.s); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if !slices.IsSorted(c.growthCounts) {
		return errors.New("-growth-images must increase")
	}
	for _, m := range strings.Split(modes, ",") {
		switch strings.TrimSpace(m) {
		case "keep-alive":
			c.keepAlive = append(c.keepAlive, true)
		case "close":
			c.keepAlive = append(c.keepAlive, false)
		default:
			return fmt.Errorf("-conn-modes: unknown mode %q (keep-alive, close)", m)
		}
	}
	c.sections = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains([]string{"cli", "server", "transfer", "scale", "growth", "cluster"}, s) {
			return fmt.Errorf("-only: unknown section %q (cli, server, transfer, scale, growth, cluster)", s)
		}
		c.sections[s] = true
	}
	if c.sections["cluster"] && (c.clusterDir == "" || c.clusterImages < 1) {
		return errors.New("-only cluster needs -cluster-dir (a folder of scripts/cluster-up.sh) and -cluster-images of at least 1")
	}
	for name, v := range map[string]string{"-timer": c.timer, "-load": c.load} {
		if v != "auto" && v != "go" && v != "hyperfine" && v != "wrk" {
			return fmt.Errorf("%s: unknown value %q", name, v)
		}
	}
	if c.timer == "auto" {
		c.timer = "go"
		if _, err := exec.LookPath("hyperfine"); err == nil {
			c.timer = "hyperfine"
		}
	}
	if c.load == "auto" {
		c.load = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			c.load = "wrk"
		}
	}
	if c.glancedAuth != "keystone" && c.glancedAuth != "noauth" {
		return fmt.Errorf("-glanced-auth: want keystone or noauth, not %q", c.glancedAuth)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return bench(ctx, &c)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// bench runs the sections and writes the report. The peer is needed by
// every section but the cluster's.
func bench(ctx context.Context, c *config) error {
	var cloud *testenv.Cloud
	if c.needsPeer() {
		var err error
		if cloud, err = testenv.Load(c.peerDir); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		logf("peer %s: Keystone %s, Glance %s", c.peerDir, cloud.KeystoneURL, cloud.GlanceURL)
	}
	work, err := os.MkdirTemp("", "glance-bench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	r := &report{started: time.Now(), cfg: c, cloud: cloud}
	r.machine = machineInfo(ctx, cloud)
	bins, err := buildBinaries(ctx, work)
	if err != nil {
		return err
	}
	r.machine.versions = append([][2]string{{"glance (this project)", bins.version}}, r.machine.versions...)
	tag := fmt.Sprintf("go-glance-bench-%d", time.Now().UnixNano())
	if cloud != nil {
		if err := benchPeer(ctx, c, cloud, bins, tag, work, r); err != nil {
			return err
		}
	}
	if c.sections["cluster"] {
		if r.cluster, err = benchCluster(ctx, c, bins, tag, work); err != nil {
			return err
		}
	}
	r.finished = time.Now()
	r.machine.loadEnd = readLoadAvg()
	return r.save(c.out)
}

func (c *config) needsPeer() bool {
	for s := range c.sections {
		if s != "cluster" {
			return true
		}
	}
	return false
}

// benchPeer runs the sections on the peer; the images it seeds there are
// removed whatever happens.
func benchPeer(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, tag, work string, r *report) (err error) {
	alpha := cloud.AlphaMember
	tok, err := keystoneToken(ctx, cloud.KeystoneURL, alpha)
	if err != nil {
		return fmt.Errorf("token for %s: %w", alpha.Name, err)
	}
	secrets = append(secrets, tok)
	peer := &api{base: cloud.GlanceURL, token: tok}

	// Cleanup runs on a fresh context: an interrupt must not leave images behind.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if n, cerr := peer.sweep(cctx, tag); cerr != nil {
			logf("cleanup: %v (images named %s-* may remain in project %s)", cerr, tag, alpha.Project)
			if err == nil {
				err = cerr
			}
		} else {
			logf("cleanup: deleted %d images", n)
		}
	}()

	logf("seeding %d images tagged %s in project %s", c.images, tag, alpha.Project)
	ids, err := peer.seed(ctx, tag, c.images)
	if err != nil {
		return fmt.Errorf("seeding Glance: %w", err)
	}
	set := &seedSet{tag: tag, ids: ids}

	if c.sections["cli"] {
		if r.cli, err = benchCLI(ctx, c, cloud, bins, peer, set, work); err != nil {
			return err
		}
	}
	if c.sections["server"] {
		if r.server, err = benchServer(ctx, c, cloud, bins, peer, set, work); err != nil {
			return err
		}
	}
	if c.sections["transfer"] && c.transferMiB > 0 {
		if r.transfer, err = benchTransfer(ctx, c, cloud, bins, peer, tag, work); err != nil {
			return err
		}
	}
	return benchGrowthSections(ctx, c, cloud, bins, peer, tag, work, r)
}

// save prints the report and writes it to out too, unless out is empty.
func (r *report) save(out string) error {
	var w io.Writer = os.Stdout
	var f *os.File
	if out != "" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = io.MultiWriter(os.Stdout, f)
	}
	if err := r.write(w); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		logf("report written to %s", out)
	}
	return nil
}

// binaries are this project's commands, built fresh for the run.
type binaries struct {
	glance, glanced string
	version         string // glance --version and the commit
}

func buildBinaries(ctx context.Context, work string) (*binaries, error) {
	b := &binaries{glance: filepath.Join(work, "glance"), glanced: filepath.Join(work, "glanced")}
	for pkg, out := range map[string]string{"./cmd/glance": b.glance, "./cmd/glanced": b.glanced} {
		logf("go build %s", pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
		}
	}
	v, _ := exec.CommandContext(ctx, b.glance, "--version").Output()
	b.version = strings.TrimSpace(string(v))
	if commit, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		b.version += " (commit " + strings.TrimSpace(string(commit))
		if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			b.version += ", work tree modified"
		}
		b.version += ")"
	}
	return b, nil
}

func logf(format string, args ...any) {
	fmt.Fprint(os.Stderr, redact(fmt.Sprintf("bench: "+format+"\n", args...)))
}

// secrets are the tokens of the run, kept out of the report and the log.
var secrets []string

func redact(s string) string {
	for _, t := range secrets {
		s = strings.ReplaceAll(s, t, "<token>")
	}
	return s
}
