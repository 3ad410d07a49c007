package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// outcome is one request's answer under load: its status (0 when the
// request itself failed) and how long it took.
type outcome struct {
	at     time.Time
	status int
	took   time.Duration
	err    error
}

// load sends image creates, shows and lists through base from n clients
// until stop is closed, and returns every answer.
func load(c *client, base string, n int, stop <-chan struct{}) func() []outcome {
	var mu sync.Mutex
	var out []outcome
	var wg sync.WaitGroup
	var seq atomic.Int64
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var method, url, body string
				switch i := seq.Add(1); i % 3 {
				case 0:
					method, url, body = http.MethodPost, base+"/v2/images",
						fmt.Sprintf(`{"name": "pg-restart-%d", "disk_format": "raw", "container_format": "bare"}`, i)
				case 1:
					method, url = http.MethodGet, base+"/v2/images?limit=5"
				default:
					method, url = http.MethodGet, base+"/v2/images/00000000-0000-0000-0000-000000000000"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				start := time.Now()
				var r io.Reader
				if body != "" {
					r = strings.NewReader(body)
				}
				o := outcome{at: start}
				resp, err := c.do(ctx, method, url, r, int64(len(body)), "application/json")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					o.status = resp.StatusCode
					if method == http.MethodGet && strings.Contains(url, "0000-0000") && o.status == http.StatusNotFound {
						o.status = http.StatusOK // the answer a working node gives
					}
				}
				cancel()
				o.took, o.err = time.Since(start), err
				mu.Lock()
				out = append(out, o)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	return func() []outcome { wg.Wait(); return out }
}

// TestPostgresRestart stops the cluster's PostgreSQL for a few seconds
// under load through nginx: requests meanwhile fail cleanly (503, to be
// retried, in bounded time, no node dying), and once it is back the nodes answer
// again by themselves, without a restart.
func TestPostgresRestart(t *testing.T) {
	cl := testenv.GetCluster(t)
	if cl.Database != "postgres" {
		t.Skipf("CHECK SKIPPED: the cluster runs on %s, not PostgreSQL", cl.Database)
	}
	cl.Hold(t, true)
	c := newClient(t, cl)
	pids := []int{cl.Nodes[0].PID, cl.Nodes[1].PID}
	stop := make(chan struct{})
	results := load(c, cl.URL, 4, stop)
	time.Sleep(time.Second)
	cl.Postgres(t, "stop")
	down := time.Now()
	up := false
	t.Cleanup(func() {
		if !up {
			cl.Postgres(t, "start")
		}
	})
	time.Sleep(4 * time.Second)
	cl.Postgres(t, "start")
	up = true
	back := time.Now()
	time.Sleep(10 * time.Second)
	close(stop)
	out := results()

	var during, failed, after, afterOK int
	codes := map[int]int{} // of the failures
	recovered := time.Time{}
	for _, o := range out {
		if o.took > 30*time.Second {
			t.Errorf("a request took %v", o.took)
		}
		ok := o.status >= 200 && o.status < 300
		if !ok && (o.status != http.StatusServiceUnavailable || o.err != nil) {
			t.Errorf("a request at %v from the stop: %d %v; want success or 503", o.at.Sub(down), o.status, o.err)
		}
		switch {
		case o.at.After(down) && o.at.Add(o.took).Before(back):
			during++
			if !ok {
				failed++
			}
		case o.at.After(back.Add(5 * time.Second)):
			after++
			if ok {
				afterOK++
			}
		}
		if !ok {
			codes[o.status]++
		}
		if !ok && o.at.Add(o.took).After(recovered) {
			recovered = o.at.Add(o.took)
		}
	}
	t.Logf("%d requests: %d while PostgreSQL was down (%d failed), %d from 5 s after it was back (%d succeeded); last failure %v after the restart; failures by status %v",
		len(out), during, failed, after, afterOK, recovered.Sub(back).Round(100*time.Millisecond), codes)
	if failed == 0 {
		t.Errorf("no request failed while PostgreSQL was down (%d sent): the outage was not seen", during)
	}
	if after == 0 || afterOK != after {
		t.Errorf("from 5 s after PostgreSQL was back, %d of %d requests succeeded; want all", afterOK, after)
	}
	for i, pid := range pids {
		if cl.Nodes[i].PID != pid || !alive(pid) {
			t.Errorf("node %d (pid %d) did not survive the database's restart", i, pid)
		}
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestUploadAcrossPostgresOutage stops PostgreSQL for longer than a lease
// while an upload streams to one node: no node can renew meanwhile, and
// once the database is back the other node must not take the upload for
// a dead node's; it finishes with its data.
func TestUploadAcrossPostgresOutage(t *testing.T) {
	cl := testenv.GetCluster(t)
	if cl.Database != "postgres" {
		t.Skipf("CHECK SKIPPED: the cluster runs on %s, not PostgreSQL", cl.Database)
	}
	if cl.LeaseTTL == 0 {
		t.Fatal("the cluster's env does not give CLUSTER_LEASE_TTL: start it with this tree's scripts/cluster-up.sh")
	}
	cl.Hold(t, true)
	c := newClient(t, cl)
	outage := cl.LeaseTTL + 3*time.Second
	const rate = 1 << 20
	size := int64(3*outage/time.Second) * rate // the outage falls in the middle third
	up := false
	t.Cleanup(func() {
		if !up {
			cl.Postgres(t, "start")
		}
	})
	ups := uploadAll(c, cl.Nodes[1].URL, 1, size, rate, 4000, func() {
		cl.Postgres(t, "stop")
		time.Sleep(outage)
		cl.Postgres(t, "start")
		up = true
	})
	if ups[0].status != http.StatusNoContent {
		t.Fatalf("an upload across a database outage of %v (lease %v): %d %v", outage, cl.LeaseTTL, ups[0].status, ups[0].err)
	}
	checkImages(t, c, cl.URL, ups, size)
}
