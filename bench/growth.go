package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// growthReport is how glanced's costs grow with the number of images and
// with their size, and what several large transfers at once achieve
// beside the disk's own speed.
type growthReport struct {
	counts []countRow
	sizes  []sizeRow
	conc   *concRow
	plots  []string // PNG files, relative to the report
}

type countRow struct {
	images          int
	pageAll         time.Duration // every image, limit=1000 pages
	firstPage       time.Duration // the default page, median of 5
	filtered        time.Duration // tag=hundredth (1 in 100), every page
	filteredMatches int
	rss, hwm        int64
}

type sizeRow struct {
	size           int64
	upload, dnload time.Duration
	hwm            int64
}

type concRow struct {
	n              int
	size           int64
	upload, dnload time.Duration // wall time of all n at once
	dd             time.Duration // dd of n×size with conv=fsync
	hwm            int64
}

const rareTag = "hundredth"

// benchGrowth runs glanced (noauth, so that Keystone is not measured) on a
// data folder of its own: images are added up to each count of
// c.growthCounts (metadata only, 8 at a time, every 100th tagged), lists
// timed at each; then uploads and downloads of each size.
func benchGrowth(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, tag, work string) (*growthReport, error) {
	cg := *c
	cg.images = 1
	gd, err := tryGlanced(ctx, &cg, cloud, bins, filepath.Join(work, "growth"), tag, "noauth")
	if err != nil {
		return nil, fmt.Errorf("glanced: %w", err)
	}
	defer gd.stop()
	a, pid := gd.api, gd.cmd.Process.Pid
	rep := &growthReport{}
	have := 1 // the seed image
	for _, n := range c.growthCounts {
		logf("growth: adding images up to %d", n)
		if err := addImages(ctx, a, have, n); err != nil {
			return nil, err
		}
		have = n
		row := countRow{images: n}
		var all []image
		row.pageAll, all, err = timeList(ctx, a, "limit=1000")
		if err != nil {
			return nil, err
		}
		if len(all) != n {
			return nil, fmt.Errorf("paging through %d images returned %d", n, len(all))
		}
		var firsts []time.Duration
		for range 5 {
			t0 := time.Now()
			if _, err := a.do(ctx, "GET", "/v2/images", "", nil, http.StatusOK); err != nil {
				return nil, err
			}
			firsts = append(firsts, time.Since(t0))
		}
		slices.Sort(firsts)
		row.firstPage = firsts[2]
		var rare []image
		if row.filtered, rare, err = timeList(ctx, a, "tag="+rareTag); err != nil {
			return nil, err
		}
		row.filteredMatches = len(rare)
		row.rss, row.hwm = procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")
		logf("  page through all %v, first page %v, filtered (%d) %v, RSS %.0f MiB", row.pageAll, row.firstPage,
			row.filteredMatches, row.filtered, mib(row.rss))
		rep.counts = append(rep.counts, row)
	}
	for _, mb := range c.growthSizes {
		row, err := sizeRun(ctx, a, pid, int64(mb)<<20, tag, work)
		if err != nil {
			return nil, err
		}
		rep.sizes = append(rep.sizes, row)
	}
	if c.concN > 0 && c.concMiB > 0 {
		if rep.conc, err = concRun(ctx, a, pid, c.concN, int64(c.concMiB)<<20, tag, work); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// addImages creates images from+1 to to, 8 requests at a time.
func addImages(ctx context.Context, a *api, from, to int) error {
	next := make(chan int)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				m := map[string]any{"name": fmt.Sprintf("growth-%06d", i), "disk_format": "raw", "container_format": "bare"}
				if i%100 == 0 {
					m["tags"] = []string{rareTag}
				}
				b, _ := json.Marshal(m)
				if _, err := a.do(ctx, "POST", "/v2/images", "application/json", bytes.NewReader(b), http.StatusCreated); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := from + 1; i <= to; i++ {
		select {
		case next <- i:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errc) > 0 {
		err = <-errc
	}
	return err
}

func timeList(ctx context.Context, a *api, query string) (time.Duration, []image, error) {
	t0 := time.Now()
	imgs, err := a.listAll(ctx, query)
	return time.Since(t0), imgs, err
}

// sizeRun uploads and downloads one image of size bytes (random data).
func sizeRun(ctx context.Context, a *api, pid int, size int64, tag, work string) (sizeRow, error) {
	row := sizeRow{size: size}
	src := filepath.Join(work, "growth-src.raw")
	defer os.Remove(src)
	logf("growth: %d MiB upload and download", size>>20)
	if _, err := writeRandom(src, size); err != nil {
		return row, err
	}
	id, err := a.queued(ctx, fmt.Sprintf("%s-size-%d", tag, size>>20))
	if err != nil {
		return row, err
	}
	if row.upload, err = a.putFile(ctx, id, src); err != nil {
		return row, err
	}
	if row.dnload, err = a.download(ctx, id, size); err != nil {
		return row, err
	}
	row.hwm = procStatus(pid, "VmHWM")
	_, err = a.do(ctx, "DELETE", "/v2/images/"+id, "", nil, http.StatusNoContent)
	logf("  up %v, down %v, peak RSS %.0f MiB", row.upload, row.dnload, mib(row.hwm))
	return row, err
}

// concRun uploads n images of size at once, downloads them at once, and
// writes n×size with dd conv=fsync to the same disk.
func concRun(ctx context.Context, a *api, pid, n int, size int64, tag, work string) (*concRow, error) {
	row := &concRow{n: n, size: size}
	src := filepath.Join(work, "conc-src.raw")
	defer os.Remove(src)
	logf("concurrent: %d × %d MiB", n, size>>20)
	if _, err := writeRandom(src, size); err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for i := range ids {
		var err error
		if ids[i], err = a.queued(ctx, fmt.Sprintf("%s-conc-%d", tag, i)); err != nil {
			return nil, err
		}
	}
	each := func(fn func(id string) error) (time.Duration, error) {
		t0 := time.Now()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { errs[i] = fn(id) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return 0, err
			}
		}
		return time.Since(t0), nil
	}
	var err error
	if row.upload, err = each(func(id string) error { _, err := a.putFile(ctx, id, src); return err }); err != nil {
		return nil, err
	}
	if row.dnload, err = each(func(id string) error { _, err := a.download(ctx, id, size); return err }); err != nil {
		return nil, err
	}
	row.hwm = procStatus(pid, "VmHWM")
	for _, id := range ids {
		a.do(ctx, "DELETE", "/v2/images/"+id, "", nil, http.StatusNoContent)
	}
	dd := filepath.Join(work, "dd.bin")
	defer os.Remove(dd)
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, "dd", "if=/dev/zero", "of="+dd, "bs=1M",
		fmt.Sprintf("count=%d", int64(n)*size>>20), "conv=fsync").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("dd: %w: %s", err, out)
	}
	row.dd = time.Since(t0)
	logf("  %d uploads %v, %d downloads %v, dd %v", n, row.upload, n, row.dnload, row.dd)
	return row, nil
}

func (a *api) putFile(ctx context.Context, id, name string) (time.Duration, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	t0 := time.Now()
	_, err = a.do(ctx, "PUT", "/v2/images/"+id+"/file", "application/octet-stream", f, http.StatusNoContent)
	return time.Since(t0), err
}

// download reads an image's data to its end, checking its length.
func (a *api) download(ctx context.Context, id string, size int64) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+"/v2/images/"+id+"/file", nil)
	if err != nil {
		return 0, err
	}
	if a.token != "" {
		req.Header.Set("X-Auth-Token", a.token)
	}
	t0 := time.Now()
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && (resp.StatusCode != http.StatusOK || n != size) {
		err = fmt.Errorf("download %s: %s, %d bytes of %d", id, resp.Status, n, size)
	}
	return time.Since(t0), err
}

// listAll is list with the query as given (its own limit included).
func (a *api) listAll(ctx context.Context, query string) ([]image, error) {
	var all []image
	next := "/v2/images?" + query
	for next != "" {
		out, err := a.do(ctx, "GET", next, "", nil, http.StatusOK)
		if err != nil {
			return nil, err
		}
		var page struct {
			Images []image `json:"images"`
			Next   string  `json:"next"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return nil, fmt.Errorf("GET %s: %w", next, err)
		}
		all = append(all, page.Images...)
		next = page.Next
	}
	return all, nil
}
