package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// scaleReport is Glance and glanced side by side on many images: lists of
// each kind and a show, at several concurrencies.
type scaleReport struct {
	images      int
	glancedAuth string
	rows        []loadRow
}

// benchScale seeds c.scaleImages images in Glance and in a glanced of its
// own and loads both with the same requests.
func benchScale(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, peer *api, tag, work string) (*scaleReport, error) {
	n := c.scaleImages
	stag := tag + "-scale"
	rep := &scaleReport{images: n}
	logf("scale: seeding %d images tagged %s in Glance", n, stag)
	ids, err := peer.seed(ctx, stag, n)
	if err != nil {
		return nil, fmt.Errorf("seeding Glance: %w", err)
	}
	cs := *c
	cs.images = n
	srv := &serverReport{}
	gd, err := startGlanced(ctx, &cs, cloud, bins, filepath.Join(work, "scale"), stag, srv)
	if err != nil {
		return nil, err
	}
	defer gd.stop()
	rep.glancedAuth = srv.glancedAuth
	targets := []struct {
		name string
		api  *api
		ids  []string
	}{
		{"Glance " + glanceVersion(ctx), peer, ids},
		{"glanced (" + srv.glancedAuth + ")", gd.api, gd.set.ids},
	}
	q := url.QueryEscape
	mid := fmt.Sprintf("%s-%02d", stag, n/2)
	for _, t := range targets {
		rows, err := loadCells(ctx, c, "scale", t.name, t.api, []endpoint{
			{"list, default page", "/v2/images"},
			{"list, limit=1000", "/v2/images?limit=1000"},
			{"list, filtered: name= (1 match)", "/v2/images?name=" + q(mid)},
			{"list, filtered: tag=, status=active, sort=name:desc, limit=100", "/v2/images?tag=" + q(stag) + "&status=active&sort=name:desc&limit=100"},
			{"show", "/v2/images/" + t.ids[len(t.ids)/2]},
		})
		if err != nil {
			return nil, err
		}
		rep.rows = append(rep.rows, rows...)
	}
	return rep, nil
}

func (r *report) writeScale(p func(string, ...any)) {
	s := r.scale
	p("## 5. Glance and glanced with %d images", s.images)
	p("")
	p("Each server holds %d seeded images (active, 1 KiB each) of alpha-user's project (besides whatever else the "+
		"project holds); keep-alive connections, closed loop, %v per cell after a warm-up; glanced: %s, GOMAXPROCS=%d. "+
		"The default page is each server's own (25 for Glance's default `limit_param_default`, as for glanced).",
		s.images, r.cfg.duration, s.glancedAuth, r.cfg.glancedProcs)
	p("")
	writeLoadTable(p, s.rows, r.cfg.duration)
}

// An endpoint is one request of the load tests.
type endpoint struct{ name, path string }

// loadCells loads each endpoint of a, at each of c.scaleConns keep-alive
// connections, for c.duration after a warm-up, and returns a row per cell.
func loadCells(ctx context.Context, c *config, section, server string, a *api, eps []endpoint) ([]loadRow, error) {
	var rows []loadRow
	for _, ep := range eps {
		if _, err := a.do(ctx, "GET", ep.path, "", nil, http.StatusOK); err != nil {
			return nil, fmt.Errorf("%s: %w", server, err)
		}
		for _, conns := range c.scaleConns {
			logf("%s: %s, %s, %d concurrent, %v", section, server, ep.name, conns, c.duration)
			u := a.base + ep.path
			loadTest(ctx, c.load, u, a.token, conns, min(c.duration, 2*time.Second), true)
			res := loadTest(ctx, c.load, u, a.token, conns, c.duration, true)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			logf("  %.0f req/s, p50 %v, p99 %v, %d errors", res.rps, res.p50, res.p99, res.errors)
			// The load generator gives up on answers still due at the end;
			// a server that goes on working on them would slow the next
			// cell: one request waits behind them.
			sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			_, err := a.do(sctx, "GET", ep.path, "", nil, http.StatusOK)
			cancel()
			if err != nil {
				logf("  the server did not settle after the cell: %v", err)
			}
			rows = append(rows, loadRow{server: server, endpoint: ep.name, keepAlive: true, conns: conns, res: res})
		}
	}
	return rows, nil
}

// writeLoadTable writes the rows of loadCells, d long each.
func writeLoadTable(p func(string, ...any), rows []loadRow, d time.Duration) {
	p("| Server | Request | Concurrent | Requests/s | p50 | p99 | Errors |")
	p("|---|---|---:|---:|---:|---:|---:|")
	for _, row := range rows {
		x := row.res
		if x.err != nil {
			p("| %s | %s | %d | failed: %s | | | |", row.server, row.endpoint, row.conns, oneLine(x.err.Error()))
			continue
		}
		if x.requests == 0 {
			// wrk counts only answers that arrive within the test.
			p("| %s | %s | %d | none answered within %v | | | |", row.server, row.endpoint, row.conns, d)
			continue
		}
		p("| %s | %s | %d | %.0f | %s | %s | %d |", row.server, row.endpoint, row.conns, x.rps, fmtDur(x.p50), fmtDur(x.p99), x.errors)
	}
	p("")
}

// benchGrowthSections runs the scale and growth sections asked for.
func benchGrowthSections(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, peer *api, tag, work string, r *report) error {
	var err error
	if c.sections["scale"] && c.scaleImages > 0 {
		if r.scale, err = benchScale(ctx, c, cloud, bins, peer, tag, work); err != nil {
			return err
		}
	}
	if c.sections["growth"] {
		if r.growth, err = benchGrowth(ctx, c, cloud, bins, tag, work); err != nil {
			return err
		}
		if err := os.MkdirAll(c.plotDir, 0o755); err != nil {
			return err
		}
		if err := plotGrowth(r.growth, c.plotDir); err != nil {
			return err
		}
	}
	return nil
}
