package main

import (
	"fmt"
	"path/filepath"
)

func (r *report) writeGrowth(p func(string, ...any)) {
	g := r.growth
	p("## 6. glanced: how costs grow")
	p("")
	p("One glanced (noauth, so that Keystone is not measured; SQLite and a file store on this machine's disk, "+
		"GOMAXPROCS=%d). Images are added (metadata only, 8 requests at a time, every 100th tagged `%s`) up to each "+
		"count; then every image is listed in pages of 1000, the default page (25) is asked 5 times (median), and the "+
		"tagged images are listed, every page. Memory is glanced's VmRSS after those lists.", r.cfg.glancedProcs, rareTag)
	p("")
	if len(g.counts) > 0 {
		p("| Images | Every image, pages of 1000 | Default page | Filter `tag=` (matches), every page | RSS | Peak RSS |")
		p("|---:|---:|---:|---:|---:|---:|")
		for _, x := range g.counts {
			p("| %d | %s | %s | %s (%d) | %.1f MiB | %.1f MiB |", x.images, fmtDur(x.pageAll), fmtDur(x.firstPage),
				fmtDur(x.filtered), x.filteredMatches, mib(x.rss), mib(x.hwm))
		}
		p("")
	}
	if len(g.sizes) > 0 {
		p("Uploads (`PUT .../file` from a file of random data, with the harness's Go client) and downloads (read to the end " +
			"and discarded) of one image of each size; glanced hashes (SHA-512 and MD5), writes and fsyncs each upload.")
		p("")
		p("| Size | Upload | MiB/s | Download | MiB/s | glanced peak RSS |")
		p("|---:|---:|---:|---:|---:|---:|")
		for _, x := range g.sizes {
			p("| %.0f MiB | %s | %.0f | %s | %.0f | %.1f MiB |", mib(x.size), fmtDur(x.upload), mib(x.size)/x.upload.Seconds(),
				fmtDur(x.dnload), mib(x.size)/x.dnload.Seconds(), mib(x.hwm))
		}
		p("")
	}
	if c := g.conc; c != nil {
		total := mib(int64(c.n) * c.size)
		p("%d uploads of %.0f MiB at once, then %d downloads at once, beside `dd if=/dev/zero bs=1M conv=fsync` writing "+
			"the same %.0f MiB to the same disk right after:", c.n, mib(c.size), c.n, total)
		p("")
		p("| | Wall time | Aggregate MiB/s | ÷ dd |")
		p("|---|---:|---:|---:|")
		dd := total / c.dd.Seconds()
		for _, row := range []struct {
			what string
			d    string
			v    float64
		}{
			{fmt.Sprintf("%d concurrent uploads", c.n), fmtDur(c.upload), total / c.upload.Seconds()},
			{fmt.Sprintf("%d concurrent downloads", c.n), fmtDur(c.dnload), total / c.dnload.Seconds()},
			{"dd conv=fsync", fmtDur(c.dd), dd},
		} {
			p("| %s | %s | %.0f | %.2f |", row.what, row.d, row.v, row.v/dd)
		}
		p("")
		p("glanced's peak RSS after these: %.1f MiB. Downloads are likely served from the page cache, which dd does not measure.", mib(c.hwm))
		p("")
	}
	if len(g.plots) > 0 {
		p("Plots (log-log):")
		p("")
		for _, path := range g.plots {
			rel := path
			if r.cfg.out != "" {
				if x, err := filepath.Rel(filepath.Dir(r.cfg.out), path); err == nil {
					rel = x
				}
			}
			p("![%s](%s)", filepath.Base(path), filepath.ToSlash(rel))
			p("")
		}
	}
}
