package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// repeatQuery is n copies of pair joined with &.
func repeatQuery(pair string, n int) string {
	return strings.TrimSuffix(strings.Repeat(pair+"&", n), "&")
}

// inList is an in: filter value with n distinct ids.
func inList(n int) string {
	var b strings.Builder
	b.WriteString("in:")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "x%d", i)
	}
	return b.String()
}

func TestHeaderAndURLLimits(t *testing.T) {
	ts := startServer(t, Config{})
	list := ts.URL + "/v2/images"
	wantCode(t, "URL just under the limit", do(t, "GET", list+"?name="+strings.Repeat("a", 8000), nil), 200)
	c := dialRaw(t, ts)
	c.send(t, "GET /v2/images?name="+strings.Repeat("a", 9000)+" HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n")
	if res, body := c.response(t, 5*time.Second); res.StatusCode != 414 || !res.Close {
		t.Errorf("long URL: %d close=%v %s", res.StatusCode, res.Close, body)
	}
	wantCode(t, "header line under the limit", do(t, "GET", list, nil, "X-Big", strings.Repeat("b", 16000)), 200)
	wantCode(t, "header line over the limit", do(t, "GET", list, nil, "X-Big", strings.Repeat("b", 17000)), 431)
	var hdr []string
	for i := range 5 { // 66,000 bytes: past 64 KiB, short of net/http's own limit
		hdr = append(hdr, fmt.Sprintf("X-Big-%d", i), strings.Repeat("c", 13200))
	}
	r := do(t, "GET", list, nil, hdr...)
	wantCode(t, "headers over the total", r, 431)
	if !strings.Contains(string(r.body), "at most 65536") {
		t.Errorf("431 body %s", r.body)
	}

	// Past MaxHeaderSize plus its slack net/http answers before any handler:
	// a short plain answer, even to a long URL.
	for name, req := range map[string]string{
		"1 MiB header": "GET /v2/images HTTP/1.1\r\nHost: x\r\nX-Huge: " + strings.Repeat("d", 1<<20) + "\r\n\r\n",
		"100 KB URL":   "GET /v2/images?name=" + strings.Repeat("e", 100000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		c := dialRaw(t, ts)
		go io.WriteString(c, req)
		res, body := c.response(t, 5*time.Second)
		if res.StatusCode != 431 || len(body) > 100 || !res.Close {
			t.Errorf("%s: %d close=%v %q", name, res.StatusCode, res.Close, body)
		}
	}
}

func TestListLimits(t *testing.T) {
	huge := map[string]string{
		"1,000 tag filters":   repeatQuery("tag=a", 1000),
		"1,000 properties":    repeatQuery("os_distro=a", 1000),
		"2,000 sort keys":     repeatQuery("sort_key=name", 2000),
		"2,000 sort parts":    "sort=" + strings.TrimSuffix(strings.Repeat("name:asc,", 2000), ","),
		"2,000 sort dirs":     "sort_key=name&" + repeatQuery("sort_dir=asc", 2000),
		"2,000 size_min":      repeatQuery("size_min=1", 2000),
		"40,000 in: values":   "id=" + inList(40000),
		"40,000 in: in parts": repeatQuery("name="+inList(1000), 40),
	}
	// With the default URL and header limits most of these never reach the
	// listing; all are 4xx.
	ts := startServer(t, Config{})
	for name, q := range huge {
		r := do(t, "GET", ts.URL+"/v2/images?"+q, nil)
		if r.code < 400 || r.code >= 500 {
			t.Errorf("%s with default limits: %d %.200s", name, r.code, r.body)
		}
	}
	// With room for long URLs, the listing's own limits answer 400.
	big := Limits{MaxURLLength: 4 << 20, MaxHeaderSize: 8 << 20}
	ts = startServer(t, Config{Limits: big})
	for name, q := range huge {
		r := do(t, "GET", ts.URL+"/v2/images?"+q, nil)
		if r.code != 400 || !strings.Contains(string(r.body), "Too many") {
			t.Errorf("%s: %d %.200s", name, r.code, r.body)
		}
	}
	wantCode(t, "a listing within the limits", do(t, "GET", ts.URL+"/v2/images?"+
		repeatQuery("tag=a", 10)+"&id="+inList(900)+"&sort_key=name&sort_key=size", nil), 200)
}

// TestListLimitCeilings runs listings at the highest settable limits, after
// a marker (the costliest query), so that no setting can make a listing
// reach the database's limits.
func TestListLimitCeilings(t *testing.T) {
	ceil := Limits{MaxURLLength: 4 << 20, MaxHeaderSize: 8 << 20,
		ListMaxFilters: ceilListFilters, ListMaxInValues: ceilListInValues, ListMaxSortKeys: ceilListSortKeys}
	ts := startServer(t, Config{Limits: ceil})
	var marker string
	for range 3 {
		marker = ts.create(t, map[string]any{"name": "n", "tags": []string{"a"}, "os_distro": "a"})
	}
	base := "marker=" + marker + "&id=" + inList(ceilListInValues) + "&" +
		repeatQuery("sort_key=name", ceilListSortKeys/2) + "&" + repeatQuery("sort_key=size", ceilListSortKeys/2)
	fill := ceilListFilters - 2 // marker and id are filters too
	for name, rest := range map[string]string{
		"tags":  repeatQuery("tag=a", fill),
		"mixed": repeatQuery("tag=a&os_distro=a&min_ram_min=0&created_at=lt:2999-01-01", fill/4),
	} {
		wantCode(t, name+" at the ceilings", do(t, "GET", ts.URL+"/v2/images?"+base+"&"+rest, nil), 200)
		wantCode(t, name+" past the ceilings", do(t, "GET", ts.URL+"/v2/images?"+base+"&"+rest+"&tag=a&tag=b&tag=c", nil), 400)
	}
	r := do(t, "GET", ts.URL+"/v2/images?sort="+strings.TrimSuffix(strings.Repeat("name:asc,", ceilListSortKeys), ",")+
		"&marker="+marker, nil)
	wantCode(t, "new sort syntax at the ceiling", r, http.StatusOK)
}
