package webfetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// target is a fault-injecting HTTP server on loopback that counts the
// connections and requests it sees.
type target struct {
	*httptest.Server
	port     int
	conns    atomic.Int32
	requests atomic.Int32
}

func newTarget(t *testing.T, h http.HandlerFunc) *target {
	return newTargetOn(t, "127.0.0.1:0", h)
}

func newTargetOn(t *testing.T, addr string, h http.HandlerFunc) *target {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("SKIP: cannot listen on %s here: %v", addr, err)
	}
	tg := &target{}
	tg.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.requests.Add(1)
		h(w, r)
	}))
	tg.Listener.Close()
	tg.Listener = l
	tg.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			tg.conns.Add(1)
		}
	}
	tg.Start()
	t.Cleanup(tg.Close)
	tg.port = l.Addr().(*net.TCPAddr).Port
	return tg
}

func (tg *target) assertUntouched(t *testing.T) {
	t.Helper()
	if n := tg.conns.Load(); n != 0 {
		t.Errorf("the target saw %d connections, want none", n)
	}
}

// serveBytes answers data with its Content-Length.
func serveBytes(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	}
}

// loopbackFilter allows exactly 127.0.0.1 on the given ports.
func loopbackFilter(ports ...int) *Filter {
	f := DefaultFilter()
	f.AllowedHosts, f.AllowedPorts = []string{"127.0.0.1"}, ports
	return &f
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fetchAll opens raw and reads it to the end.
func fetchAll(t *testing.T, f *Fetcher, raw string) ([]byte, error) {
	t.Helper()
	rc, _, err := f.Open(context.Background(), mustParse(t, raw))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// wantKind asserts err is an *Error of kind and that its public message
// shows none of the internal details given.
func wantKind(t *testing.T, err, kind error, hidden ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("got %v (%T), want an *Error of kind %v", err, err, kind)
	}
	for _, h := range append(hidden, "127.0.0.1", "::1", "refused", "dial", "tcp") {
		if strings.Contains(e.Error(), h) {
			t.Errorf("public message %q shows %q", e.Error(), h)
		}
	}
	if !strings.HasPrefix(e.Error(), publicPrefix) && kind != ErrBusy {
		t.Errorf("public message %q lacks the prefix %q", e.Error(), publicPrefix)
	}
	return e
}

func TestFetchAllowedHost(t *testing.T) {
	data := bytes.Repeat([]byte("image data "), 10000)
	tg := newTarget(t, serveBytes(data))
	f := New(Options{Filter: loopbackFilter(tg.port)})
	rc, size, err := f.Open(context.Background(), mustParse(t, tg.URL+"/image"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) || size != int64(len(data)) {
		t.Fatalf("read %d bytes (size %d), %v; want %d bytes", len(got), size, err, len(data))
	}
}

// TestRefusedBeforeConnect: with the default filter (and the target's port
// allowed, so only the host rules can refuse) no form of a local address
// gets a connection.
func TestRefusedBeforeConnect(t *testing.T) {
	tg := newTarget(t, serveBytes([]byte("secret")))
	f := DefaultFilter()
	f.AllowedPorts = append(f.AllowedPorts, tg.port)
	fe := New(Options{Filter: &f})
	p := strconv.Itoa(tg.port)
	uris := []string{tg.URL, "http://user:pass@127.0.0.1:" + p + "/", "ftp://127.0.0.1:" + p + "/"}
	for _, h := range refusedHosts {
		uris = append(uris, "http://"+h+":"+p+"/x")
	}
	for _, raw := range uris {
		if _, err := f.Check(raw); err == nil {
			t.Errorf("Check(%q) passed", raw)
		}
		if u, err := url.Parse(raw); err == nil {
			_, _, err = fe.Open(context.Background(), u)
			wantKind(t, err, ErrFiltered, "user", "pass@")
		}
	}
	tg.assertUntouched(t)
}

func TestDefaultFilterRefusesLocalPorts(t *testing.T) {
	tg := newTarget(t, serveBytes([]byte("secret")))
	f := New(Options{})
	for _, raw := range []string{tg.URL + "/", "http://127.0.0.1:15000/v3", "http://127.0.0.1:80/", "http://example.com:8080/"} {
		_, _, err := f.Open(context.Background(), mustParse(t, raw))
		wantKind(t, err, ErrFiltered)
	}
	tg.assertUntouched(t)
}

func TestRedirectRefused(t *testing.T) {
	dest := newTarget(t, serveBytes([]byte("secret")))
	p := strconv.Itoa(dest.port)
	for _, loc := range []string{
		"http://localhost:" + p + "/", "http://[::1]:" + p + "/", "http://169.254.169.254/latest/meta-data/",
		"http://user:pw@127.0.0.1:" + p + "/", "file:///etc/passwd", "http://127.0.0.1:15000/",
	} {
		from := newTarget(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loc, http.StatusFound) })
		f := New(Options{Filter: loopbackFilter(from.port, dest.port)})
		_, err := fetchAll(t, f, from.URL+"/image")
		wantKind(t, err, ErrRedirect, "pw", "meta-data")
		if n := from.requests.Load(); n != 1 {
			t.Errorf("redirect to %s: the first server saw %d requests, want 1", loc, n)
		}
	}
	dest.assertUntouched(t)
}

func TestRedirectsFollowedAndBounded(t *testing.T) {
	dest := newTarget(t, serveBytes([]byte("data")))
	hop := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dest.URL+"/image", http.StatusMovedPermanently)
	})
	f := New(Options{Filter: loopbackFilter(hop.port, dest.port), MaxRedirects: 3})
	if got, err := fetchAll(t, f, hop.URL); err != nil || string(got) != "data" {
		t.Fatalf("through one redirect: %q, %v", got, err)
	}
	var loop *target
	loop = newTarget(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loop.URL+"/again", http.StatusFound) })
	f = New(Options{Filter: loopbackFilter(loop.port), MaxRedirects: 3})
	_, err := fetchAll(t, f, loop.URL)
	wantKind(t, err, ErrRedirect)
	if n := loop.requests.Load(); n != 4 {
		t.Errorf("the looping server saw %d requests, want 4 (1 + 3 redirects)", n)
	}
}

// publicOnLoopback makes f treat 127.0.0.2 as a public address, which a
// test machine lacks; every other address keeps the real rules.
func publicOnLoopback(f *Fetcher) *Fetcher {
	public := netip.MustParseAddr("127.0.0.2")
	f.addrReason = func(a netip.Addr, allowPrivate bool) string {
		if a == public {
			return ""
		}
		return addrReason(a, allowPrivate)
	}
	return f
}

// staticLookup resolves names from a table of comma-separated addresses,
// standing in for DNS.
func staticLookup(table map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		list, ok := table[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var addrs []netip.Addr
		for _, a := range strings.Split(list, ",") {
			addrs = append(addrs, netip.MustParseAddr(a))
		}
		return addrs, nil
	}
}

// TestDefaultFilterRedirectToLoopback: under the default filter a public
// mirror (played by 127.0.0.2) redirecting to loopback gets nowhere,
// whether the new URI names the address or a name that resolves to it.
func TestDefaultFilterRedirectToLoopback(t *testing.T) {
	dest := newTarget(t, serveBytes([]byte("secret")))
	p := strconv.Itoa(dest.port)
	var loc atomic.Value
	mirror := newTargetOn(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		if l := loc.Load().(string); l != "" {
			http.Redirect(w, r, l, http.StatusFound)
			return
		}
		w.Write([]byte("public data"))
	})
	filter := DefaultFilter()
	filter.AllowedPorts = append(filter.AllowedPorts, mirror.port, dest.port)
	lookup := staticLookup(map[string]string{"mirror.test": "127.0.0.2", "evil.test": "127.0.0.1"})
	f := publicOnLoopback(New(Options{Filter: &filter, LookupIP: lookup}))
	src := fmt.Sprintf("http://mirror.test:%d/image", mirror.port)
	loc.Store("")
	if got, err := fetchAll(t, f, src); err != nil || string(got) != "public data" {
		t.Fatalf("the mirror itself: %q, %v", got, err)
	}
	loc.Store("http://127.0.0.1:" + p + "/")
	_, err := fetchAll(t, f, src)
	wantKind(t, err, ErrRedirect)
	loc.Store("http://evil.test:" + p + "/")
	_, err = fetchAll(t, f, src)
	wantKind(t, err, ErrFiltered, "evil")
	dest.assertUntouched(t)
}

// TestDNSRebinding: a name the filter lets through is refused when it
// resolves to loopback, at dial time, unless the name is listed.
func TestDNSRebinding(t *testing.T) {
	tg := newTarget(t, serveBytes([]byte("secret")))
	raw := fmt.Sprintf("http://rebind.test:%d/x", tg.port)
	lookup := staticLookup(map[string]string{"rebind.test": "127.0.0.1"})
	filter := DefaultFilter()
	filter.AllowedPorts = append(filter.AllowedPorts, tg.port)
	if _, err := filter.Check(raw); err != nil {
		t.Fatalf("Check(%q): %v; the name should pass the URI filter", raw, err)
	}
	_, err := fetchAll(t, New(Options{Filter: &filter, LookupIP: lookup}), raw)
	wantKind(t, err, ErrFiltered)
	tg.assertUntouched(t)

	filter.AllowedHosts = []string{"rebind.test"}
	if got, err := fetchAll(t, New(Options{Filter: &filter, LookupIP: lookup}), raw); err != nil || string(got) != "secret" {
		t.Fatalf("with the name listed in AllowedHosts: %q, %v", got, err)
	}
}

// TestSystemResolver: a listed name goes through the system resolver.
func TestSystemResolver(t *testing.T) {
	tg := newTarget(t, serveBytes([]byte("local")))
	filter := Filter{AllowedHosts: []string{"localhost"}, AllowedPorts: []int{tg.port}}
	got, err := fetchAll(t, New(Options{Filter: &filter}), fmt.Sprintf("http://localhost:%d/", tg.port))
	if err != nil || string(got) != "local" {
		t.Fatalf("%q, %v", got, err)
	}
}

// TestSeveralAddresses: refused addresses are skipped and allowed ones
// tried in turn until one connects.
func TestSeveralAddresses(t *testing.T) {
	// The same port on both, so dialling the refused address would reach
	// the local server rather than fail.
	public := newTargetOn(t, "127.0.0.2:0", serveBytes([]byte("public")))
	local := newTargetOn(t, fmt.Sprintf("127.0.0.1:%d", public.port), serveBytes([]byte("secret")))
	filter := Filter{AllowedPorts: []int{public.port}}
	lookup := staticLookup(map[string]string{"mixed.test": "127.0.0.1,::1,127.0.0.2"})
	f := publicOnLoopback(New(Options{Filter: &filter, LookupIP: lookup}))
	if got, err := fetchAll(t, f, fmt.Sprintf("http://mixed.test:%d/", public.port)); err != nil || string(got) != "public" {
		t.Fatalf("%q, %v", got, err)
	}
	local.assertUntouched(t)

	// Listed, every address is allowed; 127.0.0.3 has no server and is passed over.
	filter = Filter{AllowedHosts: []string{"dual.test"}, AllowedPorts: []int{local.port}}
	lookup = staticLookup(map[string]string{"dual.test": "127.0.0.3,127.0.0.1"})
	if got, err := fetchAll(t, New(Options{Filter: &filter, LookupIP: lookup}), fmt.Sprintf("http://dual.test:%d/", local.port)); err != nil || string(got) != "secret" {
		t.Fatalf("%q, %v", got, err)
	}
}

// TestDisallowedHostAddress: an IP in DisallowedHosts is refused when a
// name resolves to it, as Glance does.
func TestDisallowedHostAddress(t *testing.T) {
	tg := newTargetOn(t, "127.0.0.2:0", serveBytes([]byte("x")))
	filter := Filter{DisallowedHosts: []string{"127.0.0.2"}}
	f := publicOnLoopback(New(Options{Filter: &filter, LookupIP: staticLookup(map[string]string{"m.test": "127.0.0.2"})}))
	_, err := fetchAll(t, f, fmt.Sprintf("http://m.test:%d/", tg.port))
	wantKind(t, err, ErrFiltered)
	tg.assertUntouched(t)
}

func TestClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	f := New(Options{Filter: loopbackFilter(port)})
	_, err = fetchAll(t, f, fmt.Sprintf("http://127.0.0.1:%d/x", port))
	e := wantKind(t, err, ErrConnect, strconv.Itoa(port))
	if !strings.Contains(Detail(err), "refused") {
		t.Errorf("the log detail %q lacks the cause", Detail(err))
	}
	if e.Error() != publicPrefix+"could not connect to the source" {
		t.Errorf("public message %q", e.Error())
	}
}
