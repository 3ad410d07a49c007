package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// serverReport holds the load tests of both servers.
type serverReport struct {
	generator    string
	glancedAuth  string // how glanced authenticated, and why when not as asked
	glanceConf   string // the Glance worker set-up, from its config
	glancedProcs int
	rows         []loadRow
	rss          []rssRow
}

type loadRow struct {
	server, endpoint string
	keepAlive        bool
	conns            int
	res              loadResult
}

type rssRow struct {
	what         string
	before, peak int64 // bytes; peak is after the load
	after        int64
}

// loadResult is one load test: requests/s and the latency distribution.
type loadResult struct {
	requests    int64
	rps         float64
	p50, p90    time.Duration
	p99, max    time.Duration
	errors      int64 // non-2xx answers and socket errors
	errorDetail string
	err         error
}

func benchServer(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, peer *api, set *seedSet, work string) (*serverReport, error) {
	rep := &serverReport{generator: c.load, glancedProcs: c.glancedProcs}
	rep.glanceConf = glanceWorkers(cloud.Dir)

	gd, err := startGlanced(ctx, c, cloud, bins, work, set.tag, rep)
	if err != nil {
		return nil, err
	}
	defer gd.stop()

	glancePID, _ := readPID(filepath.Join(cloud.Dir, "glance.pid"))
	glanceBefore, _ := treeRSS(glancePID)
	glancedBefore := procStatus(gd.cmd.Process.Pid, "VmRSS")

	targets := []struct {
		name string
		api  *api
		set  *seedSet
	}{
		{"Glance " + glanceVersion(ctx), peer, set},
		{"glanced (" + rep.glancedAuth + ")", gd.api, gd.set},
	}
	for _, t := range targets {
		for _, ep := range []struct{ name, path string }{
			{"GET /v2/images?tag=… (list of " + fmt.Sprint(len(t.set.ids)) + ")", "/v2/images?tag=" + t.set.tag},
			{"GET /v2/images/{id} (show)", "/v2/images/" + t.set.ids[0]},
		} {
			// A first request checks the answer and fills the token validation caches.
			if _, err := t.api.do(ctx, "GET", ep.path, "", nil, http.StatusOK); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			for _, keep := range c.keepAlive {
				for _, n := range c.conns {
					logf("load: %s, %s, %s, %d concurrent, %v", t.name, ep.name, connMode(keep), n, c.duration)
					u := t.api.base + ep.path
					// A short untimed run first, so that both servers start warm.
					loadTest(ctx, c.load, u, t.api.token, n, min(2*time.Second, c.duration), keep)
					res := loadTest(ctx, c.load, u, t.api.token, n, c.duration, keep)
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					if res.err != nil {
						logf("  failed: %v", res.err)
					} else {
						logf("  %.0f req/s, p50 %v, p99 %v, %d errors", res.rps, res.p50, res.p99, res.errors)
					}
					rep.rows = append(rep.rows, loadRow{server: t.name, endpoint: ep.name, keepAlive: keep, conns: n, res: res})
				}
			}
		}
	}
	glanceAfter, procs := treeRSS(glancePID)
	rep.rss = []rssRow{
		{what: fmt.Sprintf("Glance API (glance-api, %d processes: parent and workers)", procs), before: glanceBefore, after: glanceAfter},
		{what: "glanced", before: glancedBefore, after: procStatus(gd.cmd.Process.Pid, "VmRSS"),
			peak: procStatus(gd.cmd.Process.Pid, "VmHWM")},
	}
	return rep, nil
}

// glanced is our server, started for the run.
type glanced struct {
	cmd  *exec.Cmd
	api  *api
	set  *seedSet
	done chan error
}

func (g *glanced) stop() {
	if g == nil || g.cmd.Process == nil {
		return
	}
	g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
}

// startGlanced starts glanced in the asked auth mode against the peer's
// Keystone and seeds it like Glance; when keystone mode fails it falls back
// to noauth and says why in rep.glancedAuth.
func startGlanced(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, work, tag string, rep *serverReport) (*glanced, error) {
	mode := c.glancedAuth
	for {
		g, err := tryGlanced(ctx, c, cloud, bins, work, tag, mode)
		if err == nil {
			if rep.glancedAuth == "" {
				rep.glancedAuth = mode
				if mode == "keystone" {
					rep.glancedAuth = "keystone, validation cache 5m"
				}
			}
			return g, nil
		}
		if mode != "keystone" || ctx.Err() != nil {
			return nil, fmt.Errorf("glanced (%s): %w", mode, err)
		}
		logf("glanced in keystone mode failed (%v); trying noauth", err)
		rep.glancedAuth = "noauth, since keystone mode failed: " + err.Error()
		mode = "noauth"
	}
}

// tryGlanced starts glanced in mode, with env added to its environment
// (cloud is needed in keystone mode only), and seeds c.images images.
func tryGlanced(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, work, tag, mode string, env ...string) (*glanced, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(work, "glanced-"+mode)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	args := []string{"--listen", addr, "--data-dir", data, "--auth", mode}
	token := ""
	if mode == "keystone" {
		// keystonemiddleware in Glance keeps validated tokens 300 s by default: the same here.
		g := cloud.Glance
		args = append(args, "--keystone-auth-url", cloud.KeystoneURL, "--keystone-username", g.Name,
			"--keystone-password", g.Password, "--keystone-project-name", g.Project,
			"--keystone-user-domain-name", g.Domain, "--keystone-project-domain-name", g.Domain,
			"--keystone-cache-ttl", "5m")
		if token, err = keystoneToken(ctx, cloud.KeystoneURL, cloud.AlphaMember); err != nil {
			return nil, err
		}
		secrets = append(secrets, token)
	}
	log, err := os.Create(filepath.Join(work, "glanced-"+mode+".log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bins.glanced, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = cleanEnv(filepath.Join(work, "home-glanced"))
	if c.glancedProcs > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", c.glancedProcs))
	}
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &glanced{cmd: cmd, api: &api{base: "http://" + addr, token: token}, done: make(chan error, 1)}
	go func() { g.done <- cmd.Wait() }()
	fail := func(err error) (*glanced, error) {
		g.stop()
		out, _ := os.ReadFile(log.Name())
		return nil, fmt.Errorf("%w; its log ends:\n%s", err, lastLines(string(out), 5))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := g.api.do(ctx, "GET", "/versions", "", nil, http.StatusOK, http.StatusMultipleChoices); err == nil {
			break
		}
		select {
		case err := <-g.done:
			g.done <- err
			return fail(fmt.Errorf("exited: %v", err))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fail(errors.New("no answer on /versions after 30 s"))
		}
	}
	ids, err := g.api.seed(ctx, tag, c.images)
	if err != nil {
		return fail(fmt.Errorf("seeding: %w", err))
	}
	g.set = &seedSet{tag: tag, ids: ids}
	return g, nil
}

func connMode(keepAlive bool) string {
	if keepAlive {
		return "keep-alive"
	}
	return "new connection per request"
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// glanceWorkers describes how the peer's Glance serves: its worker count.
func glanceWorkers(dir string) string {
	f, err := os.Open(filepath.Join(dir, "glance-api.conf"))
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "workers" {
			return "workers = " + strings.TrimSpace(v)
		}
	}
	return "workers unset (one per CPU)"
}

func glanceVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", "glance-api").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func readPID(name string) (int, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// procStatus reads a size field (VmRSS, VmHWM) of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// treeRSS adds up the resident sets of pid and its children: glance-api
// forks its workers from a parent process.
func treeRSS(pid int) (total int64, procs int) {
	if pid <= 0 {
		return 0, 0
	}
	total, procs = procStatus(pid, "VmRSS"), 1
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses: state, ppid, ...
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += procStatus(child, "VmRSS")
			procs++
		}
	}
	return total, procs
}
