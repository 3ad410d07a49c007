package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

type report struct {
	started, finished time.Time
	cfg               *config
	cloud             *testenv.Cloud
	machine           machine
	cli               *cliReport
	server            *serverReport
	transfer          *transferReport
	scale             *scaleReport
	growth            *growthReport
	cluster           *clusterReport
}

type machine struct {
	cpu, kernel        string
	cores              int
	memory             string
	loadStart, loadEnd string
	hashRounds         string
	versions           [][2]string
}

func machineInfo(ctx context.Context, cloud *testenv.Cloud) machine {
	m := machine{cores: runtime.NumCPU(), loadStart: readLoadAvg()}
	m.cpu = firstField("/proc/cpuinfo", "model name", ":")
	var kb int64
	if _, err := fmt.Sscanf(firstField("/proc/meminfo", "MemTotal", ":"), "%d kB", &kb); err == nil {
		m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if cloud != nil {
		m.hashRounds = firstField(filepath.Join(cloud.Dir, "keystone.conf"), "password_hash_rounds", "=")
		if m.hashRounds == "" {
			m.hashRounds = "Keystone's default (bcrypt cost 12)"
		} else {
			m.hashRounds = "bcrypt cost " + m.hashRounds
		}
	}
	first := func(name string, args ...string) string {
		out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if line == "" {
			return "not installed"
		}
		return line
	}
	dpkg := func(pkg string) string {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", pkg).Output()
		if err != nil {
			return "not installed"
		}
		return string(out)
	}
	m.versions = [][2]string{
		{"Go", runtime.Version()},
		{"python-glanceclient (/usr/bin/glance)", first("/usr/bin/glance", "--version") + " (Debian " + dpkg("python3-glanceclient") + ")"},
		{"openstackclient", first("/usr/bin/openstack", "--version") + " (Debian " + dpkg("python3-openstackclient") + ")"},
		{"Keystone", "Debian keystone " + dpkg("keystone")},
		{"Glance", "Debian glance-api " + dpkg("glance-api")},
		{"curl", first("curl", "--version")},
		{"hyperfine", first("hyperfine", "--version")},
		{"wrk", first("wrk", "-v")},
		{"nginx (cluster section)", first("/usr/sbin/nginx", "-v")},
		{"PostgreSQL (cluster section)", first("psql", "--version")},
	}
	return m
}

func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// firstField returns the value of the first "key<sep>value" line of a file.
func firstField(name, key, sep string) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (r *report) write(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprint(w, redact(fmt.Sprintf(format+"\n", args...))) }
	m := r.machine
	p("# Benchmarks: glance and glanced beside the OpenStack tools")
	p("")
	how := "`bench/run.sh`"
	if r.cloud == nil {
		how = "the harness (`go run ./bench`)"
	}
	p("One run of %s on %s, %s (took %s).", how,
		r.started.Format("2006-01-02 15:04 MST"), r.cfg.describe(), r.finished.Sub(r.started).Round(time.Second))
	if r.cloud != nil {
		p("Everything ran on this machine, against the same Keystone and Glance on loopback.")
	} else {
		p("Everything ran on this machine, on loopback.")
	}
	p("")
	p("| Machine | |")
	p("|---|---|")
	p("| CPU | %s, %d CPUs (nproc) |", m.cpu, m.cores)
	p("| Memory | %s |", m.memory)
	p("| Kernel | Linux %s |", m.kernel)
	p("| Load average (1, 5, 15 min) | %s at the start, %s at the end |", m.loadStart, m.loadEnd)
	for _, v := range m.versions {
		p("| %s | %s |", v[0], v[1])
	}
	p("")
	if r.cloud != nil {
		p("The peer: Keystone %s (one uwsgi process, SQLite, Fernet tokens, password hashing %s); "+
			"Glance %s (%s, SQLite, file store, keystonemiddleware with its in-process token cache).",
			r.cloud.KeystoneURL, m.hashRounds, r.cloud.GlanceURL, glanceWorkers(r.cloud.Dir))
		p("")
	}
	if r.cli != nil {
		r.writeCLI(p)
	}
	if r.server != nil {
		r.writeServer(p)
	}
	if r.transfer != nil {
		r.writeTransfer(p)
	}
	if r.scale != nil {
		r.writeScale(p)
	}
	if r.growth != nil {
		r.writeGrowth(p)
	}
	if r.cluster != nil {
		r.writeCluster(p)
	}
	return nil
}

func (c *config) describe() string {
	if !c.needsPeer() {
		return fmt.Sprintf("the cluster section only (%d images, load tests of %v)", c.clusterImages, c.duration)
	}
	conns := make([]string, len(c.conns))
	for i, n := range c.conns {
		conns[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("%d timed runs per CLI command, %d images, load tests of %v with %s connections",
		c.runs, c.images, c.duration, strings.Join(conns, " and "))
}

func (r *report) writeCLI(p func(string, ...any)) {
	c := r.cli
	timer := "hyperfine -N (no shell, one run per call)"
	if r.cfg.timer == "go" {
		timer = "the harness's own timer (fork, exec, wait)"
	}
	p("## 1. CLI: one command, start to exit")
	p("")
	rss := fmt.Sprintf("the median of the %d checked runs", r.cfg.rssRuns)
	if r.cfg.timer == "go" {
		rss = "the median over all runs"
	}
	p("The commands run in rounds, each round every command once in turn, so that changes in the "+
		"machine's load hit all of them alike: first %d checked rounds (untimed warm-up), then %d "+
		"timed ones. Wall time: the median of the timed runs, timed by %s. Peak RSS (maxrss from "+
		"wait4): %s. The output of every checked run held all %d seeded image IDs (image-list, "+
		"filtered by their tag) or the image's ID (image-show). Password runs log in as alpha-user; "+
		"token runs use a token of alpha-user. Every client starts from an empty HOME of its own "+
		"(python-glanceclient's ~/.glanceclient is removed before each run).",
		r.cfg.rssRuns, r.cfg.runs, timer, rss, r.cfg.images)
	p("")
	p("| Client | Auth | image-list | image-show | Peak RSS, list | Peak RSS, show |")
	p("|---|---|---:|---:|---:|---:|")
	for _, k := range c.order {
		cc := c.cases[k]
		p("| %s | %s | %s | %s | %s | %s |", cc.client, cc.auth, cellTime(cc.list), cellTime(cc.show), cellRSS(cc.list), cellRSS(cc.show))
	}
	p("")
	p("Ratios of the medians (how many times longer the first takes):")
	p("")
	p("| Comparison | image-list | image-show | Goal |")
	p("|---|---:|---:|---|")
	ratioRow := func(label, a, b string, goal string, ok func(float64) bool) {
		ca, cb := c.cases[a], c.cases[b]
		if ca == nil || cb == nil {
			return
		}
		l, s := ratio(ca.list, cb.list), ratio(ca.show, cb.show)
		verdict := "—"
		if ok != nil && l > 0 && s > 0 {
			verdict = goal + ": "
			switch {
			case ok(l) && ok(s):
				verdict += "**met**"
			case ok(l) || ok(s):
				verdict += "met for one command only"
			default:
				verdict += "**not met**"
			}
		}
		p("| %s | %s | %s | %s |", label, fmtRatio(l), fmtRatio(s), verdict)
	}
	ratioRow("openstack ÷ glance, password, token cache off", osc, goNoCache, "", nil)
	ratioRow("openstack ÷ glance, password, warm token cache", osc, goCache, "glance ≥ 20× faster", func(x float64) bool { return x >= 20 })
	ratioRow("python-glanceclient ÷ glance, password, token cache off", pyGlance, goNoCache, "", nil)
	ratioRow("glance (token + image URL) ÷ curl (token)", goToken, curl, "within 2× of curl", func(x float64) bool { return x <= 2 })
	if a, b := c.cases[osc], c.cases[goNoCache]; a != nil && b != nil && a.list.rss > 0 && b.list.rss > 0 {
		p("| peak RSS: openstack ÷ glance (image-list) | %s | %s | — |",
			fmtRatio(float64(a.list.rss)/float64(b.list.rss)), fmtRatio(float64(a.show.rss)/float64(b.show.rss)))
	}
	p("")
	for _, n := range c.notes {
		p("- %s", n)
	}
	if a, b := c.cases[curlAfterRoot], c.cases[curl]; a != nil && b != nil {
		for _, x := range []struct {
			op   string
			a, b result
		}{{"image-list", a.list, b.list}, {"image-show", a.show, b.show}} {
			if x.a.err == nil && x.b.err == nil && x.a.wall-x.b.wall > 20*time.Millisecond {
				p("- curl's %s requests take %s longer after a GET / on the same connection (%s against %s): "+
					"the server holds back its answer on a reused connection (see section 2). A client that "+
					"discovers the API version on the connection it then uses pays this too.",
					x.op, fmtDur(x.a.wall-x.b.wall), fmtDur(x.a.wall), fmtDur(x.b.wall))
			}
		}
	}
	for _, k := range c.order {
		cc := c.cases[k]
		for _, x := range []struct {
			op  string
			res result
		}{{"image-list", cc.list}, {"image-show", cc.show}} {
			if x.res.err != nil {
				p("- %s, %s, %s failed: %s", cc.client, cc.auth, x.op, oneLine(x.res.err.Error()))
			}
		}
	}
	p("")
}

func (r *report) writeServer(p func(string, ...any)) {
	s := r.server
	gen := generatorName(s.generator)
	p("## 2. Server: Glance and glanced under load")
	p("")
	procs := "Go's default GOMAXPROCS, every CPU"
	if s.glancedProcs > 0 {
		procs = fmt.Sprintf("GOMAXPROCS=%d, to match Glance's %s", s.glancedProcs, s.glanceConf)
	}
	p("%s; closed loop: each of the concurrent clients sends its next request when the answer is in, for %v, "+
		"after an untimed warm-up of up to 2 s. \"keep-alive\" reuses each client's connection; "+
		"\"new connection per request\" sends Connection: close and connects again. Every request carries alpha-user's token. "+
		"glanced: %s; %s. Each server holds the same %d seeded images; the list asks for them by tag. "+
		"The load generator shares the %d CPUs with the server.",
		gen, r.cfg.duration, s.glancedAuth, procs, r.cfg.images, r.machine.cores)
	p("")
	p("| Server | Request | Connections | Concurrent | Requests/s | p50 | p90 | p99 | max | Errors |")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, row := range s.rows {
		x := row.res
		if x.err != nil {
			p("| %s | %s | %s | %d | failed: %s | | | | | |", row.server, row.endpoint, connMode(row.keepAlive), row.conns, oneLine(x.err.Error()))
			continue
		}
		errs := fmt.Sprint(x.errors)
		if x.errorDetail != "" {
			errs += " (" + x.errorDetail + ")"
		}
		p("| %s | %s | %s | %d | %.0f | %s | %s | %s | %s | %s |", row.server, row.endpoint, connMode(row.keepAlive), row.conns, x.rps,
			fmtDur(x.p50), fmtDur(x.p90), fmtDur(x.p99), fmtDur(x.max), errs)
	}
	p("")
	// Ratios: the rows come in the same order for both servers.
	half := len(s.rows) / 2
	if half > 0 && len(s.rows) == 2*half {
		p("| Request | Connections | Concurrent | Requests/s, glanced ÷ Glance | p50 latency, Glance ÷ glanced |")
		p("|---|---|---:|---:|---:|")
		for i := range half {
			a, b := s.rows[i], s.rows[half+i]
			if a.res.err != nil || b.res.err != nil || a.res.rps == 0 || b.res.p50 == 0 {
				continue
			}
			p("| %s | %s | %d | %s | %s |", a.endpoint, connMode(a.keepAlive), a.conns, fmtRatio(b.res.rps/a.res.rps), fmtRatio(float64(a.res.p50)/float64(b.res.p50)))
		}
		p("")
	}
	for _, n := range keepAliveStalls(s.rows) {
		p("- %s", n)
	}
	p("")
	p("Resident memory (VmRSS; for glanced also VmHWM, its peak):")
	p("")
	p("| Process | Before the load | After the load | Peak |")
	p("|---|---:|---:|---:|")
	for _, x := range s.rss {
		peak := "—"
		if x.peak > 0 {
			peak = fmt.Sprintf("%.1f MiB", mib(x.peak))
		}
		p("| %s | %.1f MiB | %.1f MiB | %s |", x.what, mib(x.before), mib(x.after), peak)
	}
	p("")
	p("\"Before\" is after seeding and one request; Glance's figure adds its parent process and its worker(s).")
	p("")
}

func (r *report) writeTransfer(p func(string, ...any)) {
	t := r.transfer
	p("## 3. Transfer: %d MiB of random data", t.size>>20)
	p("")
	r.writeBesideCurl(p)
	r.writeParallel(p)
	if len(t.rows) == 0 {
		return
	}
	p("### Beside python-glanceclient, on Glance")
	p("")
	p("Password login (python-glanceclient and glance with the token cache off), median of %d runs each. "+
		"Upload is `image-create --name N --disk-format raw --container-format bare --file F` (create, then upload); "+
		"each upload's size and checksum were checked in Glance, and each download's MD5 against the file. "+
		"Glance's file store and the files are on the same disk; one untimed download ran first (it fills Glance's image cache).",
		r.cfg.transferRuns)
	p("")
	p("| Client | Operation | Median | Throughput | Fastest–slowest | Peak RSS |")
	p("|---|---|---:|---:|---:|---:|")
	for _, row := range t.rows {
		x := row.res
		if x.err != nil {
			p("| %s | %s | failed: %s | | | |", row.client, row.op, oneLine(x.err.Error()))
			continue
		}
		p("| %s | %s | %s | %.0f MiB/s | %s–%s | %.1f MiB |", row.client, row.op, fmtDur(x.wall), row.mibps(t.size),
			fmtDur(x.min), fmtDur(x.max), mib(x.rss))
	}
	p("")
}

// generatorName names the load generator of -load (wrk or go).
func generatorName(load string) string {
	if load == "go" {
		return "the harness's own Go load generator"
	}
	return "wrk (1 thread)"
}

// keepAliveStalls points out the tests whose median latency on kept-alive
// connections is well above that on new ones: the server then holds back
// answers on a reused connection.
func keepAliveStalls(rows []loadRow) []string {
	type key struct {
		server, endpoint string
		conns            int
	}
	fresh := map[key]loadResult{}
	for _, r := range rows {
		if !r.keepAlive && r.res.err == nil {
			fresh[key{r.server, r.endpoint, r.conns}] = r.res
		}
	}
	var notes []string
	for _, r := range rows {
		f, ok := fresh[key{r.server, r.endpoint, r.conns}]
		if !r.keepAlive || r.res.err != nil || !ok {
			continue
		}
		if r.res.p50 > 2*f.p50 && r.res.p50-f.p50 > 20*time.Millisecond {
			notes = append(notes, fmt.Sprintf("%s, %s, %d concurrent: the median answer takes %s on a kept-alive connection "+
				"but %s on a new one. A stall of this size on reused connections fits Nagle's algorithm on the "+
				"server's socket meeting the client's delayed ACK (about 40 ms on Linux).",
				r.server, r.endpoint, r.conns, fmtDur(r.res.p50), fmtDur(f.p50)))
		}
	}
	return notes
}

func cellTime(r result) string {
	if r.err != nil {
		return "failed"
	}
	s := fmtDur(r.wall)
	if r.note != "" {
		s += " (" + r.note + ")"
	}
	return s
}

func cellRSS(r result) string {
	if r.err != nil || r.rss == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MiB", mib(r.rss))
}

func ratio(a, b result) float64 {
	if a.err != nil || b.err != nil || b.wall <= 0 {
		return 0
	}
	return float64(a.wall) / float64(b.wall)
}

func fmtRatio(x float64) string {
	if x <= 0 {
		return "—"
	}
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(redact(s)), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
