package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// clusterReport is glanced beyond one machine: one node of a cluster
// (PostgreSQL, Swift) beside both nodes behind nginx, and a single glanced
// on SQLite beside one on the cluster's PostgreSQL, with the same images.
type clusterReport struct {
	dir       string
	images    int
	nodeProcs string // the nodes' GOMAXPROCS, from their environment
	rows      []loadRow
}

// The servers of the cluster section, as the report names them.
const (
	oneNode  = "one node (node1 directly)"
	twoNodes = "two nodes (nginx)"
	onSQLite = "single glanced, SQLite + files"
	onPG     = "single glanced, PostgreSQL + files"
)

// benchCluster seeds c.clusterImages images in the cluster of
// c.clusterDir and loads node1 and the front end; then the same on a
// glanced of its own on SQLite, and on one on a database of its own on the
// cluster's PostgreSQL. The images it seeds in the cluster are removed
// whatever happens.
func benchCluster(ctx context.Context, c *config, bins *binaries, tag, work string) (rep *clusterReport, err error) {
	cl, err := testenv.LoadCluster(c.clusterDir)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if cl.Auth != "noauth" || cl.Database != "postgres" {
		return nil, fmt.Errorf("cluster %s: auth %s, database %s; the cluster section wants noauth and postgres", cl.Dir, cl.Auth, cl.Database)
	}
	rep = &clusterReport{dir: cl.Dir, images: c.clusterImages}
	if rep.nodeProcs, err = nodeProcs(cl, c.glancedProcs); err != nil {
		return nil, err
	}
	ctag := tag + "-cluster"
	front := &api{base: cl.URL}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		n, cerr := front.sweep(cctx, ctag)
		logf("cluster cleanup: deleted %d images", n)
		if cerr != nil && err == nil {
			err = fmt.Errorf("cluster cleanup (images named %s-* may remain): %w", ctag, cerr)
		}
	}()
	logf("cluster: seeding %d images tagged %s through %s", c.clusterImages, ctag, cl.URL)
	ids, err := front.seed(ctx, ctag, c.clusterImages)
	if err != nil {
		return nil, fmt.Errorf("seeding the cluster: %w", err)
	}
	if err := rep.load(ctx, c, oneNode, &api{base: cl.Nodes[0].URL}, ids); err != nil {
		return nil, err
	}
	if err := rep.load(ctx, c, twoNodes, front, ids); err != nil {
		return nil, err
	}
	return rep, rep.singles(ctx, c, cl, bins, ctag, work)
}

// singles loads a glanced of its own on SQLite, then one on a database of
// its own on the cluster's PostgreSQL; both keep images in files.
func (rep *clusterReport) singles(ctx context.Context, c *config, cl *testenv.Cluster, bins *binaries, tag, work string) error {
	if err := rep.single(ctx, c, bins, filepath.Join(work, "cluster-sqlite"), tag, onSQLite); err != nil {
		return err
	}
	db, drop, err := benchDatabase(ctx, cl.Dir)
	if err != nil {
		return err
	}
	defer drop()
	return rep.single(ctx, c, bins, filepath.Join(work, "cluster-postgres"), tag, onPG, "GLANCED_DATABASE="+db)
}

// single starts glanced (noauth, a file store, env added), seeds it and
// loads it.
func (rep *clusterReport) single(ctx context.Context, c *config, bins *binaries, work, tag, server string, env ...string) error {
	cs := *c
	cs.images = c.clusterImages
	logf("cluster: %s, seeding %d images", server, cs.images)
	gd, err := tryGlanced(ctx, &cs, nil, bins, work, tag, "noauth", env...)
	if err != nil {
		return fmt.Errorf("%s: %w", server, err)
	}
	defer gd.stop()
	return rep.load(ctx, c, server, gd.api, gd.set.ids)
}

// load runs the section's requests on a, which holds the images ids.
func (rep *clusterReport) load(ctx context.Context, c *config, server string, a *api, ids []string) error {
	rows, err := loadCells(ctx, c, "cluster", server, a, []endpoint{
		{"show", "/v2/images/" + ids[len(ids)/2]},
		{"list, default page", "/v2/images"},
		{"list, limit=1000", "/v2/images?limit=1000"},
	})
	rep.rows = append(rep.rows, rows...)
	return err
}

// nodeProcs checks that every node runs with the GOMAXPROCS of
// -glanced-procs (0: unset), as its environment says, and describes it.
func nodeProcs(cl *testenv.Cluster, want int) (string, error) {
	w := ""
	if want > 0 {
		w = strconv.Itoa(want)
	}
	for i, n := range cl.Nodes {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", n.PID))
		if err != nil {
			return "", fmt.Errorf("node%d (PID %d, from %s/nodes): %w", i+1, n.PID, cl.Dir, err)
		}
		got := ""
		for _, kv := range strings.Split(string(b), "\x00") {
			if v, ok := strings.CutPrefix(kv, "GOMAXPROCS="); ok {
				got = v
			}
		}
		if got != w {
			return "", fmt.Errorf("node%d runs with GOMAXPROCS=%q, -glanced-procs asks for %d: start the cluster "+
				"with GOMAXPROCS=%d scripts/cluster-up.sh DIR, or pass the nodes' -glanced-procs", i+1, got, want, want)
		}
	}
	if w == "" {
		return "Go's default GOMAXPROCS (every CPU)", nil
	}
	return "GOMAXPROCS=" + w, nil
}

// benchDatabase creates an empty database on the cluster's PostgreSQL,
// owned by the nodes' user, and returns its URL and what drops it.
func benchDatabase(ctx context.Context, dir string) (string, func(), error) {
	raw := strings.Trim(firstField(filepath.Join(dir, "secrets.env"), "export GLANCED_DATABASE", "="), "'")
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "postgres" || u.User == nil {
		return "", nil, fmt.Errorf("%s/secrets.env: no postgres:// GLANCED_DATABASE", dir)
	}
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	const name = "glance_bench"
	dropSQL := "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"
	if err := psql(ctx, dir, dropSQL, "CREATE DATABASE "+name+" OWNER "+u.User.Username()); err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := psql(cctx, dir, dropSQL); err != nil {
			logf("cluster cleanup: %v", err)
		}
	}
	return u.String(), drop, nil
}

// psql runs SQL on the cluster's PostgreSQL as its superuser, as
// cluster-up.sh does: through the socket in DIR/pg, as user postgres when
// root.
func psql(ctx context.Context, dir string, sql ...string) error {
	args := []string{"psql", "-h", filepath.Join(dir, "pg"), "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qtA"}
	for _, s := range sql {
		args = append(args, "-c", s)
	}
	if os.Geteuid() == 0 {
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("psql %s: %w: %s", strings.Join(sql, "; "), err, lastLines(string(out), 3))
	}
	return nil
}
