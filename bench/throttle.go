package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// throttle is a TCP proxy that caps each connection's bandwidth towards
// the client, as a long-distance link does (TCP's window over a long round
// trip bounds each connection, not the sum of them).
type throttle struct {
	l        net.Listener
	upstream string
	perConn  int64 // bytes per second
}

func startThrottle(upstream string, perConn int64) (*throttle, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &throttle{l: l, upstream: upstream, perConn: perConn}
	go t.serve()
	return t, nil
}

func (t *throttle) addr() string { return t.l.Addr().String() }
func (t *throttle) stop()        { t.l.Close() }

func (t *throttle) serve() {
	for {
		c, err := t.l.Accept()
		if err != nil {
			return
		}
		go t.pipe(c)
	}
}

func (t *throttle) pipe(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", t.upstream)
	if err != nil {
		return
	}
	defer u.Close()
	go io.Copy(u, c)
	// Towards the client: slices of 10 ms worth of bytes, each at its time.
	slice := max(t.perConn/100, 1)
	buf := make([]byte, slice)
	start, sent := time.Now(), int64(0)
	for {
		n, err := u.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
			if due := start.Add(time.Duration(float64(sent) / float64(t.perConn) * float64(time.Second))); time.Until(due) > 0 {
				time.Sleep(time.Until(due))
			}
		}
		if err != nil {
			return
		}
	}
}

// parallelRow is a download through the throttle, in one or several ranges.
type parallelRow struct {
	ranges int
	res    result
}

// benchParallel downloads an image of sizeMiB from glanced through the
// throttle, with one connection and with ranges on several, in turns.
func benchParallel(ctx context.Context, c *config, a *api, bins *binaries, tag, work, src string) ([]parallelRow, int64, error) {
	size := int64(c.parallelMiB) << 20
	id, err := a.queued(ctx, tag+"-parallel")
	if err != nil {
		return nil, 0, err
	}
	defer a.do(context.Background(), "DELETE", "/v2/images/"+id, "", nil, http.StatusNoContent)
	f, err := os.Open(src)
	if err != nil {
		return nil, 0, err
	}
	_, err = a.do(ctx, "PUT", "/v2/images/"+id+"/file", "application/octet-stream", io.LimitReader(f, size), http.StatusNoContent)
	f.Close()
	if err != nil {
		return nil, 0, err
	}
	t, err := startThrottle(strings.TrimPrefix(a.base, "http://"), int64(c.throttleMiB)<<20)
	if err != nil {
		return nil, 0, err
	}
	defer t.stop()
	out := filepath.Join(work, "parallel.raw")
	env := cleanEnv(filepath.Join(work, "home-side"))
	download := func(ranges int) func(int) (sample, error) {
		argv := []string{bins.glance, "--os-image-url", "http://" + t.addr(), "--os-auth-token", a.token,
			"image-download", "--file", out, "--parallel", fmt.Sprint(ranges), id}
		return func(int) (sample, error) {
			s, _, err := runOnce(ctx, &command{env: env, argv: argv})
			if err == nil {
				if fi, serr := os.Stat(out); serr != nil || fi.Size() != size {
					err = fmt.Errorf("downloaded file: %v, %v", serr, fi)
				}
			}
			os.Remove(out)
			return s, err
		}
	}
	logf("transfer: %d MiB from glanced through a proxy of %d MiB/s per connection: 1 and %d ranges in turns",
		c.parallelMiB, c.throttleMiB, c.parallelRanges)
	one, many, err := inTurns(ctx, c.transferRuns, size, download(1), download(c.parallelRanges))
	return []parallelRow{{1, one}, {c.parallelRanges, many}}, size, err
}

func (r *report) writeParallel(p func(string, ...any)) {
	t := r.transfer
	if len(t.parallel) != 2 {
		return
	}
	p("### Parallel ranges through a link that caps each connection")
	p("")
	p("`glance image-download --file F --parallel N` from glanced through a local proxy that lets each connection "+
		"carry %d MiB/s towards the client (as TCP over a long round trip does), %d MiB, %d runs each in turns. "+
		"Every download is verified (SHA-512 of the whole file, in order).", r.cfg.throttleMiB, t.parallelSize>>20, r.cfg.transferRuns)
	p("")
	p("| Ranges | Median | Throughput | Fastest–slowest | Peak RSS |")
	p("|---:|---:|---:|---:|---:|")
	for _, row := range t.parallel {
		x := row.res
		if x.err != nil {
			p("| %d | failed: %s | | | |", row.ranges, oneLine(x.err.Error()))
			continue
		}
		p("| %d | %s | %.0f MiB/s | %s–%s | %.1f MiB |", row.ranges, fmtDur(x.wall), mib(t.parallelSize)/x.wall.Seconds(),
			fmtDur(x.min), fmtDur(x.max), mib(x.rss))
	}
	if a, b := t.parallel[0].res, t.parallel[1].res; a.err == nil && b.err == nil {
		p("")
		p("%d ranges take %.2f× less time than one.", t.parallel[1].ranges, float64(a.wall)/float64(b.wall))
	}
	p("")
}
