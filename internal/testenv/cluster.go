package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is the set of glanced nodes behind nginx that
// scripts/cluster-up.sh starts, as its DIR/env and DIR/nodes tell.
type Cluster struct {
	Dir      string
	URL      string // the front end (nginx)
	Database string // postgres or sqlite (both nodes on one file)
	Auth     string // noauth or keystone (on the peer in PeerDir)
	PeerDir  string
	Swift    *ObjectStore // the cluster's Swift, with its s3api
	// LeaseTTL and JanitorInterval are the nodes' settings (zero when
	// cluster-up.sh did not note them).
	LeaseTTL, JanitorInterval time.Duration

	mu    sync.Mutex
	Nodes []*Node
}

// A Node is one glanced of the cluster.
type Node struct {
	URL string
	PID int
	Cmd string // runs it again (with its settings and secrets)
}

var (
	clusterOnce sync.Once
	cluster     *Cluster
	clusterErr  error
)

// GetCluster returns the running cluster, found through GLANCE_CLUSTER_ENV
// (the folder cluster-up.sh wrote). Without one the test skips loudly, or
// fails when GLANCE_REQUIRE_CLUSTER=1 (as scripts/test.sh sets when it
// started the cluster).
func GetCluster(t testing.TB) *Cluster {
	t.Helper()
	clusterOnce.Do(func() { cluster, clusterErr = loadCluster(os.Getenv("GLANCE_CLUSTER_ENV")) })
	if clusterErr != nil {
		msg := "INTEGRATION TEST SKIPPED: no glanced cluster; run scripts/test.sh or scripts/cluster-up.sh DIR with GLANCE_CLUSTER_ENV=DIR (" + clusterErr.Error() + ")"
		if os.Getenv("GLANCE_REQUIRE_CLUSTER") == "1" {
			t.Fatal(strings.Replace(msg, "SKIPPED", "FAILED (GLANCE_REQUIRE_CLUSTER=1)", 1))
		}
		t.Skip(msg)
	}
	return cluster
}

// LoadCluster reads the cluster cluster-up.sh wrote in dir, for programs
// that are not tests (the benchmark harness).
func LoadCluster(dir string) (*Cluster, error) { return loadCluster(dir) }

func loadCluster(dir string) (*Cluster, error) {
	if dir == "" || dir == "none" {
		return nil, fmt.Errorf("GLANCE_CLUSTER_ENV=%q", dir)
	}
	m, err := readEnvFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, URL: m["OS_IMAGE_URL"], Database: m["CLUSTER_DB"], Auth: m["CLUSTER_AUTH"], PeerDir: m["CLUSTER_PEER"]}
	for key, d := range map[string]*time.Duration{"CLUSTER_LEASE_TTL": &c.LeaseTTL, "CLUSTER_JANITOR_INTERVAL": &c.JanitorInterval} {
		if v := m[key]; v != "" {
			if *d, err = time.ParseDuration(v); err != nil {
				return nil, fmt.Errorf("%s/env: %s: %w", dir, key, err)
			}
		}
	}
	if c.Swift, err = loadSwift(filepath.Join(dir, "swift")); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "nodes"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s/nodes: %q: %w", dir, sc.Text(), err)
		}
		c.Nodes = append(c.Nodes, &Node{URL: fields[0], PID: pid, Cmd: strings.Join(fields[2:], " ")})
	}
	if len(c.Nodes) < 2 || c.URL == "" {
		return nil, fmt.Errorf("%s: want OS_IMAGE_URL in env and two nodes in nodes", dir)
	}
	if err := ping(c.URL + "/versions"); err != nil {
		return nil, fmt.Errorf("the cluster's front end does not answer: %w", err)
	}
	return c, nil
}

// Kill kills node n with SIGKILL and waits for it to be gone.
func (c *Cluster) Kill(t testing.TB, n int) {
	t.Helper()
	c.mu.Lock()
	pid := c.Nodes[n].PID
	c.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d (node %d): %v", pid, n, err)
	}
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("node %d (%d) still runs after kill -9", n, pid)
}

// Start starts node n again with its command line, in a session of its
// own as cluster-up.sh does (cluster-down.sh stops it), and waits until it
// answers.
func (c *Cluster) Start(t testing.TB, n int) {
	t.Helper()
	node := c.Nodes[n]
	cmd := exec.Command("/bin/sh", "-c", "exec "+node.Cmd)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %d: %v", n, err)
	}
	go cmd.Wait() // reap it when it ends
	c.mu.Lock()
	node.PID = cmd.Process.Pid
	err := c.writeNodes()
	c.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for ping(node.URL+"/versions") != nil {
		if time.Now().After(deadline) {
			t.Fatalf("node %d did not answer at %s within 60 s after its start", n, node.URL)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// writeNodes rewrites DIR/nodes with the PIDs of now, for the tests and
// scripts that read it next.
func (c *Cluster) writeNodes() error {
	var b strings.Builder
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "%s %d %s\n", n.URL, n.PID, n.Cmd)
	}
	tmp := filepath.Join(c.Dir, ".nodes.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, "nodes"))
}

// Hold locks the cluster until t ends: exclusive for a test that kills or
// restarts nodes, shared for one that only needs them up, so that test
// binaries run at once (go test runs packages in parallel) do not meet.
func (c *Cluster) Hold(t testing.TB, exclusive bool) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(c.Dir, "test.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// Postgres runs pg_ctl action (stop, start) on the cluster's PostgreSQL in
// DIR/pg, as cluster-up.sh runs it (as user postgres when root), and waits
// for it to finish.
func (c *Cluster) Postgres(t testing.TB, action string) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("no pg_ctl under /usr/lib/postgresql")
	}
	slices.Sort(bins) // one version in practice; the newest otherwise
	args := []string{"-D", filepath.Join(c.Dir, "pg"), "-w", "-t", "60"}
	switch action {
	case "stop":
		args = append(args, "-m", "fast", "stop")
	case "start":
		args = append(args, "-l", filepath.Join(c.Dir, "log", "postgresql.log"), "start")
	default:
		t.Fatalf("pg_ctl %s: want stop or start", action)
	}
	cmd := exec.Command(bins[len(bins)-1], args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bins[len(bins)-1]}, args...)...)
	}
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %s: %v\n%s", action, err, out)
	}
}
