package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const wrkOutput = `Running 1s test @ http://127.0.0.1:20292/versions
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    38.35ms   88.50ms 421.39ms   89.62%
    Req/Sec     2.21k   168.61     2.34k    90.00%
  Latency Distribution
     50%  452.00us
     75%   14.96ms
     90%  137.75ms
     99%     1.20s
  2199 requests in 1.00s, 4.01MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   2193.32
Transfer/sec:      4.00MB
`

func TestParseWrk(t *testing.T) {
	r := parseWrk(wrkOutput)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.rps != 2193.32 || r.requests != 2199 {
		t.Errorf("rps %v, requests %d; want 2193.32, 2199", r.rps, r.requests)
	}
	want := []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", r.p50, 452 * time.Microsecond},
		{"p90", r.p90, 137750 * time.Microsecond},
		{"p99", r.p99, 1200 * time.Millisecond},
		{"max", r.max, 421390 * time.Microsecond},
	}
	for _, w := range want {
		if d := w.got - w.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s = %v, want %v", w.name, w.got, w.want)
		}
	}
	if r.errors != 12 || r.errorDetail != "7 non-2xx, 3 read, 2 timeout" {
		t.Errorf("errors %d (%q), want 12 (7 non-2xx, 3 read, 2 timeout)", r.errors, r.errorDetail)
	}
}

func TestParseWrkGarbage(t *testing.T) {
	if r := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); r.err == nil {
		t.Error("no error for output without results")
	}
}

func TestShellQuote(t *testing.T) {
	got := shellQuote([]string{"curl", "-H", "X-Auth-Token: abc", "http://h/v2/images?tag=x&limit=2", "it's", ""})
	want := `curl -H 'X-Auth-Token: abc' 'http://h/v2/images?tag=x&limit=2' 'it'\''s' ''`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestMedian(t *testing.T) {
	if m := median([]time.Duration{5, 1, 3}); m != 3 {
		t.Errorf("odd median = %v, want 3", m)
	}
	if m := median([]int64{4, 1, 3, 2}); m != 2 {
		t.Errorf("even median = %v, want 2 (mean of 2 and 3, rounded down)", m)
	}
}

func TestDebugGet(t *testing.T) {
	out := "curl -g -i -X GET 'http://h:1/v2/images?limit=200&tag=x' -H 'Accept: application/json'\n" +
		"HTTP/1.1 200 OK (4ms)\n" +
		"curl -g -i -X GET http://h:1/v2/images/abc -H 'Accept: application/json'\n"
	var urls []string
	for _, m := range debugGet.FindAllStringSubmatch(out, -1) {
		urls = append(urls, m[1]+m[2])
	}
	if len(urls) != 2 || urls[0] != "http://h:1/v2/images?limit=200&tag=x" || urls[1] != "http://h:1/v2/images/abc" {
		t.Errorf("URLs %q", urls)
	}
}

func TestKeepAliveStalls(t *testing.T) {
	rows := []loadRow{
		{server: "A", endpoint: "list", keepAlive: true, conns: 1, res: loadResult{p50: 60 * time.Millisecond}},
		{server: "A", endpoint: "list", keepAlive: false, conns: 1, res: loadResult{p50: 20 * time.Millisecond}},
		{server: "A", endpoint: "show", keepAlive: true, conns: 1, res: loadResult{p50: 6 * time.Millisecond}},
		{server: "A", endpoint: "show", keepAlive: false, conns: 1, res: loadResult{p50: 2 * time.Millisecond}},
		{server: "B", endpoint: "list", keepAlive: true, conns: 1, res: loadResult{p50: 60 * time.Millisecond}},
	}
	notes := keepAliveStalls(rows)
	if len(notes) != 1 {
		t.Fatalf("notes %q, want one, about A's list", notes)
	}
}

// TestPlotGrowth draws the growth plots from a small table: four PNG files,
// each linked from the report.
func TestPlotGrowth(t *testing.T) {
	g := &growthReport{
		counts: []countRow{{images: 10, pageAll: time.Millisecond, firstPage: time.Millisecond, filtered: time.Millisecond, rss: 20 << 20},
			{images: 1000, pageAll: 30 * time.Millisecond, firstPage: 2 * time.Millisecond, filtered: 3 * time.Millisecond, rss: 25 << 20}},
		sizes: []sizeRow{{size: 1 << 20, upload: 10 * time.Millisecond, dnload: 5 * time.Millisecond, hwm: 20 << 20},
			{size: 64 << 20, upload: 300 * time.Millisecond, dnload: 200 * time.Millisecond, hwm: 30 << 20}},
	}
	dir := t.TempDir()
	if err := plotGrowth(g, dir); err != nil {
		t.Fatal(err)
	}
	if len(g.plots) != 4 {
		t.Fatalf("%d plots, want 4: %v", len(g.plots), g.plots)
	}
	for _, p := range g.plots {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n")) || len(b) < 5000 {
			t.Errorf("%s: not a drawn PNG (%d bytes, %v)", p, len(b), err)
		}
	}
	var out strings.Builder
	r := &report{cfg: &config{out: filepath.Join(dir, "RESULTS.md")}, growth: g}
	r.writeGrowth(func(f string, a ...any) { fmt.Fprintf(&out, f+"\n", a...) })
	if !strings.Contains(out.String(), "](list-time.png)") || !strings.Contains(out.String(), "| 1000 | 30.0 ms |") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestPlotOneSize: a run of one image size (and one image count) still
// draws its plots: a log axis around a single value of 1 has no 0 in it.
func TestPlotOneSize(t *testing.T) {
	g := &growthReport{
		counts: []countRow{{images: 1, pageAll: time.Millisecond, firstPage: time.Millisecond, filtered: time.Millisecond, rss: 20 << 20}},
		sizes:  []sizeRow{{size: 1 << 20, upload: time.Second, dnload: time.Second, hwm: 1 << 20}},
	}
	if err := plotGrowth(g, t.TempDir()); err != nil || len(g.plots) != 4 {
		t.Fatalf("%d plots, %v", len(g.plots), err)
	}
}

// TestWriteClusterRatios: the ratios pair each cell of node1 with the same
// cell of the other servers; a failed cell has no ratio.
func TestWriteClusterRatios(t *testing.T) {
	row := func(server, ep string, conns int, rps float64) loadRow {
		return loadRow{server: server, endpoint: ep, keepAlive: true, conns: conns, res: loadResult{requests: 1, rps: rps}}
	}
	failed := row(onPG, "list", 8, 0)
	failed.res.err = fmt.Errorf("no successful request")
	cr := &clusterReport{dir: "/c", images: 3, nodeProcs: "GOMAXPROCS=1", rows: []loadRow{
		row(oneNode, "show", 1, 100), row(oneNode, "list", 8, 40),
		row(twoNodes, "show", 1, 150), row(twoNodes, "list", 8, 80),
		row(onSQLite, "show", 1, 200), row(onSQLite, "list", 8, 10),
		row(onPG, "show", 1, 50), failed,
	}}
	var out strings.Builder
	r := &report{cfg: &config{load: "wrk", duration: time.Second}, machine: machine{cores: 2}, cluster: cr}
	r.writeCluster(func(f string, a ...any) { fmt.Fprintf(&out, f+"\n", a...) })
	for _, want := range []string{"| show | 1 | 1.50× | 0.25× |", "| list | 8 | 2.00× | — |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the report:\n%s", want, out.String())
		}
	}
}
