package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadTest keeps conns connections busy with GET url for d and measures the
// throughput and latencies, with wrk or with loadGo. Without keepAlive each
// request asks the server to close its connection, and the next one opens
// a new one.
func loadTest(ctx context.Context, gen, url, token string, conns int, d time.Duration, keepAlive bool) loadResult {
	if gen == "wrk" {
		return loadWrk(ctx, url, token, conns, d, keepAlive)
	}
	return loadGo(ctx, url, token, conns, d, keepAlive)
}

// loadWrk runs wrk with one thread: on a small machine the servers need
// the other cores more than wrk does.
func loadWrk(ctx context.Context, url, token string, conns int, d time.Duration, keepAlive bool) loadResult {
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(max(1, int(d.Seconds()))) + "s", "--latency", "--timeout", "10s"}
	if token != "" {
		args = append(args, "-H", "X-Auth-Token: "+token)
	}
	if !keepAlive {
		args = append(args, "-H", "Connection: close")
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return loadResult{err: fmt.Errorf("wrk: %w: %s", err, lastLines(string(out), 3))}
	}
	return parseWrk(string(out))
}

var (
	wrkTotal   = regexp.MustCompile(`(?m)^\s*(\d+) requests in`)
	wrkRPS     = regexp.MustCompile(`(?m)^Requests/sec:\s*([\d.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$`)
	wrkMax     = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\s`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s*(\d+)`)
	wrkSockErr = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk --latency's report.
func parseWrk(out string) loadResult {
	var r loadResult
	m := wrkRPS.FindStringSubmatch(out)
	t := wrkTotal.FindStringSubmatch(out)
	if m == nil || t == nil {
		return loadResult{err: fmt.Errorf("wrk: unexpected output: %s", lastLines(out, 3))}
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	r.requests, _ = strconv.ParseInt(t[1], 10, 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		d := wrkDuration(p[2], p[3])
		switch p[1] {
		case "50":
			r.p50 = d
		case "90":
			r.p90 = d
		case "99":
			r.p99 = d
		}
	}
	if x := wrkMax.FindStringSubmatch(out); x != nil {
		r.max = wrkDuration(x[1], x[2])
	}
	var details []string
	if x := wrkNon2xx.FindStringSubmatch(out); x != nil {
		n, _ := strconv.ParseInt(x[1], 10, 64)
		r.errors += n
		details = append(details, x[1]+" non-2xx")
	}
	if x := wrkSockErr.FindStringSubmatch(out); x != nil {
		for i, kind := range []string{"connect", "read", "write", "timeout"} {
			n, _ := strconv.ParseInt(x[i+1], 10, 64)
			if n > 0 {
				r.errors += n
				details = append(details, fmt.Sprintf("%d %s", n, kind))
			}
		}
	}
	r.errorDetail = strings.Join(details, ", ")
	return r
}

func wrkDuration(num, unit string) time.Duration {
	f, _ := strconv.ParseFloat(num, 64)
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[unit]
	return time.Duration(f * float64(scale))
}

// loadGo is a closed-loop load generator: conns goroutines, each with a
// connection of its own, send one request after the other for d.
func loadGo(ctx context.Context, url, token string, conns int, d time.Duration, keepAlive bool) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
		DisableKeepAlives: !keepAlive}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	var (
		mu      sync.Mutex
		lats    []time.Duration
		errs    int64
		lastErr string
		wg      sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			var bad int64
			var last string
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				if token != "" {
					req.Header.Set("X-Auth-Token", token)
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode/100 != 2 {
						err = fmt.Errorf("%s", resp.Status)
					}
				}
				if ctx.Err() != nil {
					break // cut off by the end of the test: not counted
				}
				if err != nil {
					bad++
					last = err.Error()
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			errs += bad
			if last != "" {
				lastErr = last
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := loadResult{requests: int64(len(lats)) + errs, errors: errs, errorDetail: lastErr}
	if len(lats) == 0 {
		r.err = fmt.Errorf("no successful request: %s", lastErr)
		return r
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	r.rps = float64(len(lats)) / elapsed.Seconds()
	r.p50, r.p90, r.p99, r.max = pct(0.50), pct(0.90), pct(0.99), lats[len(lats)-1]
	return r
}
