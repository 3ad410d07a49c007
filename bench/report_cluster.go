package main

func (r *report) writeCluster(p func(string, ...any)) {
	cr := r.cluster
	gen := generatorName(r.cfg.load)
	p("## 7. glanced beyond one machine")
	p("")
	p("The cluster of `scripts/cluster-up.sh %s`: two glanced nodes (noauth) on one PostgreSQL (its Unix socket) "+
		"with images in Swift, behind nginx (one worker, round robin, 16 kept-alive connections to the nodes). "+
		"%d images (active, 1 KiB each) were seeded through nginx; \"%s\" is node1's own address, \"%s\" nginx's. "+
		"Then a glanced of its own on SQLite and one on an empty database of the same PostgreSQL, both with a file "+
		"store, each seeded with %d images. Every glanced: %s. %s, keep-alive connections, closed loop, %v per "+
		"cell after a warm-up. The load generator, nginx, PostgreSQL, Swift and the nodes share the machine's %d CPUs.",
		cr.dir, cr.images, oneNode, twoNodes, cr.images, cr.nodeProcs, gen, r.cfg.duration, r.machine.cores)
	p("")
	writeLoadTable(p, cr.rows, r.cfg.duration)
	p("Ratios of requests/s:")
	p("")
	p("| Request | Concurrent | two nodes ÷ one node | PostgreSQL ÷ SQLite |")
	p("|---|---:|---:|---:|")
	type key struct {
		server, endpoint string
		conns            int
	}
	rps := map[key]float64{}
	for _, row := range cr.rows {
		if row.res.err == nil {
			rps[key{row.server, row.endpoint, row.conns}] = row.res.rps
		}
	}
	div := func(a, b float64) string {
		if b == 0 {
			return "—"
		}
		return fmtRatio(a / b)
	}
	for _, row := range cr.rows {
		if row.server != oneNode {
			continue
		}
		k := func(server string) float64 { return rps[key{server, row.endpoint, row.conns}] }
		p("| %s | %d | %s | %s |", row.endpoint, row.conns, div(k(twoNodes), k(oneNode)), div(k(onPG), k(onSQLite)))
	}
	p("")
}
