package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// sideRow is one transfer by glance and by curl against one server.
type sideRow struct {
	server, op       string
	glance, curl     result
	glanceCmd, curlC string // the commands, for the report
}

// benchBesideCurl times glance and curl moving the same file to and from
// Glance and glanced, in turns (glance first in odd rounds, curl first in
// even ones), so that changes in the machine's load hit both alike. Both
// log in with the same token. Every upload's size and checksum are checked
// on the server, and every download's bytes against the file.
func benchBesideCurl(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, peer *api, tag, work, src, sum string, size int64, rep *transferReport) error {
	gd, err := startGlanced(ctx, c, cloud, bins, work, tag+"-xfer", &serverReport{})
	if err != nil {
		return err
	}
	defer gd.stop()
	for _, t := range []struct {
		name string
		api  *api
	}{{"Glance", peer}, {"glanced", gd.api}} {
		if !c.transferCurl {
			break
		}
		r, err := sideBySide(ctx, c, t.name, t.api, bins, tag, work, src, sum, size)
		rep.side = append(rep.side, r...)
		if err != nil {
			return err
		}
	}
	if c.parallelMiB > 0 {
		rep.parallel, rep.parallelSize, err = benchParallel(ctx, c, gd.api, bins, tag, work, src)
	}
	return err
}

func sideBySide(ctx context.Context, c *config, server string, a *api, bins *binaries, tag, work, src, sum string, size int64) ([]sideRow, error) {
	env := cleanEnv(filepath.Join(work, "home-side"))
	glanceArgv := func(args ...string) []string {
		return append([]string{bins.glance, "--os-image-url", a.base, "--os-auth-token", a.token}, args...)
	}
	curlArgv := func(args ...string) []string {
		return append([]string{"curl", "-sS", "-f", "-H", "X-Auth-Token: " + a.token}, args...)
	}
	var keep string // an uploaded image, kept for the downloads
	defer func() {
		if keep != "" {
			a.do(context.Background(), "DELETE", "/v2/images/"+keep, "", nil, http.StatusNoContent)
		}
	}()
	upload := func(argv func(id string) []string) func(int) (sample, error) {
		return func(i int) (sample, error) {
			id, err := a.queued(ctx, fmt.Sprintf("%s-side-%d", tag, i))
			if err != nil {
				return sample{}, err
			}
			s, _, err := runOnce(ctx, &command{env: env, argv: argv(id)})
			if err == nil {
				err = a.checkImage(ctx, id, size, sum)
			}
			if err == nil && keep == "" {
				keep = id
			} else {
				a.do(ctx, "DELETE", "/v2/images/"+id, "", nil, http.StatusNoContent)
			}
			return s, err
		}
	}
	logf("transfer: %s, upload of %d MiB, glance image-upload and curl -T in turns", server, size>>20)
	up := sideRow{server: server, op: "upload",
		glanceCmd: "glance --os-image-url URL --os-auth-token TOKEN image-upload --file F ID",
		curlC:     "curl -T F -H 'Content-Type: application/octet-stream' URL/v2/images/ID/file"}
	var err error
	up.glance, up.curl, err = inTurns(ctx, c.transferRuns, size,
		upload(func(id string) []string { return glanceArgv("image-upload", "--file", src, id) }),
		upload(func(id string) []string {
			return curlArgv("-T", src, "-H", "Content-Type: application/octet-stream", a.base+"/v2/images/"+id+"/file")
		}))
	if err != nil || keep == "" {
		return []sideRow{up}, err
	}

	out := filepath.Join(work, "side.raw")
	download := func(argv []string) func(int) (sample, error) {
		return func(int) (sample, error) {
			s, _, err := runOnce(ctx, &command{env: env, argv: argv})
			if err == nil {
				err = checkFile(out, sum)
			}
			os.Remove(out)
			return s, err
		}
	}
	curlDown := download(curlArgv("-o", out, a.base+"/v2/images/"+keep+"/file"))
	if _, err := curlDown(0); err != nil { // fills Glance's image cache
		return []sideRow{up}, fmt.Errorf("warm-up download: %w", err)
	}
	logf("transfer: %s, download of %d MiB, glance image-download --file and curl -o in turns", server, size>>20)
	down := sideRow{server: server, op: "download to a file",
		glanceCmd: "glance --os-image-url URL --os-auth-token TOKEN image-download --file F ID",
		curlC:     "curl -o F URL/v2/images/ID/file"}
	down.glance, down.curl, err = inTurns(ctx, c.transferRuns, size,
		download(glanceArgv("image-download", "--file", out, keep)), curlDown)
	return []sideRow{up, down}, err
}

// inTurns runs a and b runs times each, alternating which goes first.
func inTurns(ctx context.Context, runs int, size int64, a, b func(int) (sample, error)) (ra, rb result, err error) {
	var sa, sb []sample
	for i := range runs {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			f, acc := a, &sa
			if k == 1 {
				f, acc = b, &sb
			}
			s, err := f(i*2 + k)
			if ctx.Err() != nil {
				return ra, rb, ctx.Err()
			}
			if err != nil {
				logf("  failed: %v", err)
				return summarize(sa, nil), summarize(sb, nil), err
			}
			*acc = append(*acc, s)
		}
	}
	ra, rb = summarize(sa, nil), summarize(sb, nil)
	logf("  first median %v (%.0f MiB/s, CPU %v, peak RSS %.1f MiB); second median %v (%.0f MiB/s, CPU %v)",
		ra.wall.Round(time.Millisecond), mib(size)/ra.wall.Seconds(), ra.cpu.Round(time.Millisecond), mib(ra.rss),
		rb.wall.Round(time.Millisecond), mib(size)/rb.wall.Seconds(), rb.cpu.Round(time.Millisecond))
	return ra, rb, nil
}

// summarize makes a result of samples (err, if any, when there are none).
func summarize(ss []sample, err error) result {
	if len(ss) == 0 {
		if err == nil {
			err = fmt.Errorf("no run")
		}
		return result{err: err}
	}
	var walls, cpus []time.Duration
	var rss []int64
	for _, s := range ss {
		walls, cpus, rss = append(walls, s.wall), append(cpus, s.cpu), append(rss, s.maxRSS)
	}
	return result{wall: median(walls), min: slices.Min(walls), max: slices.Max(walls), runs: len(ss),
		rss: slices.Max(rss), cpu: median(cpus)}
}

// queued creates an image record without data and returns its ID.
func (a *api) queued(ctx context.Context, name string) (string, error) {
	body := fmt.Sprintf(`{"name": %q, "disk_format": "raw", "container_format": "bare"}`, name)
	out, err := a.do(ctx, "POST", "/v2/images", "application/json", strings.NewReader(body), http.StatusCreated)
	if err != nil {
		return "", err
	}
	var img image
	if err := json.Unmarshal(out, &img); err != nil || img.ID == "" {
		return "", fmt.Errorf("POST /v2/images: no image in the answer: %v", err)
	}
	return img.ID, nil
}

// checkImage makes sure the server holds all the data, unchanged.
func (a *api) checkImage(ctx context.Context, id string, size int64, sum string) error {
	out, err := a.do(ctx, "GET", "/v2/images/"+id, "", nil, http.StatusOK)
	if err != nil {
		return err
	}
	var img image
	if err := json.Unmarshal(out, &img); err != nil {
		return err
	}
	if img.Status != "active" || img.Size != size || img.Checksum != sum {
		return fmt.Errorf("image %s after the upload: status %s, size %d, checksum %s; want active, %d, %s",
			id, img.Status, img.Size, img.Checksum, size, sum)
	}
	return nil
}

func checkFile(name, sum string) error {
	got, err := fileMD5(name)
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("downloaded data has MD5 %s, want %s", got, sum)
	}
	return nil
}

func (r *report) writeBesideCurl(p func(string, ...any)) {
	t := r.transfer
	if len(t.side) == 0 {
		return
	}
	p("### Beside curl, on Glance and glanced")
	p("")
	p("The same %d MiB file, glance and curl in turns (%d runs each, glance first in odd rounds, curl in even ones), "+
		"both with the same token and endpoint (no login). glance verifies everything: an upload hashes the data "+
		"(SHA-512) and compares with the server's record afterwards; a download hashes the data, "+
		"makes the file durable (fsync) and renames it into place only after the hash matched. curl does none of this. "+
		"Glance's image cache was filled by one untimed curl download first. CPU is user + system time of the client.",
		t.size>>20, r.cfg.transferRuns)
	p("")
	p("| Server | Transfer | glance | curl | curl ÷ glance (goal ≥ 0.9) | glance CPU | curl CPU | glance peak RSS |")
	p("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, row := range t.side {
		g, cu := row.glance, row.curl
		if g.err != nil || cu.err != nil {
			p("| %s | %s | %s | %s | failed | | | |", row.server, row.op, cellTime(g), cellTime(cu))
			continue
		}
		p("| %s | %s | %s (%.0f MiB/s) | %s (%.0f MiB/s) | %.2f | %s | %s | %.1f MiB |", row.server, row.op,
			fmtDur(g.wall), mib(t.size)/g.wall.Seconds(), fmtDur(cu.wall), mib(t.size)/cu.wall.Seconds(),
			float64(cu.wall)/float64(g.wall), fmtDur(g.cpu), fmtDur(cu.cpu), mib(g.rss))
	}
	p("")
	for _, row := range t.side {
		if row.glance.err != nil || row.curl.err != nil {
			p("- %s, %s failed: %s", row.server, row.op, oneLine(fmt.Sprint(row.glance.err, " / ", row.curl.err)))
		}
	}
	if len(t.side) > 0 {
		p("Commands: `%s` beside `%s`; `%s` beside `%s`. The fastest and slowest runs: %s.",
			t.side[0].glanceCmd, t.side[0].curlC, t.side[len(t.side)-1].glanceCmd, t.side[len(t.side)-1].curlC, spreads(t.side))
		p("")
	}
}

func spreads(rows []sideRow) string {
	var parts []string
	for _, r := range rows {
		if r.glance.err == nil && r.curl.err == nil {
			parts = append(parts, fmt.Sprintf("%s %s: glance %s–%s, curl %s–%s", r.server, r.op,
				fmtDur(r.glance.min), fmtDur(r.glance.max), fmtDur(r.curl.min), fmtDur(r.curl.max)))
		}
	}
	return strings.Join(parts, "; ")
}
