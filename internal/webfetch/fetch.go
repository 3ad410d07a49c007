// Package webfetch downloads image data for glanced's web-download import
// without letting users reach what they should not: Glance's
// import_filtering_opts applied to the URI, to every redirect and to the
// address actually dialled, with every wait and the size bounded, and
// errors whose text is safe to show users.
package webfetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// Options configures a Fetcher. Zero (or negative, where no meaning is
// given) durations and counts take the defaults.
type Options struct {
	// Filter applies to the URI, every redirect and the address dialled;
	// nil means DefaultFilter(). (A zero Filter lets any port through, as
	// Glance with empty lists does.)
	Filter *Filter
	// ConnectTimeout bounds name resolution, TCP connect and the TLS
	// handshake together; default 30s.
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for the answer's headers once the
	// request is sent; default 60s.
	HeaderTimeout time.Duration
	// IdleTimeout fails a body read that brings no byte for this long; a
	// transfer that keeps moving is never cut; default 60s.
	IdleTimeout time.Duration
	// MaxSize caps the data (Glance's image_size_cap); default 1 TiB.
	MaxSize int64
	// MaxRedirects bounds redirects followed; default 10; negative: none.
	MaxRedirects int
	// MaxConcurrent bounds fetches in progress at once; default 10, as
	// Glance's [taskflow_executor] max_workers.
	MaxConcurrent int
	// QueueWait is how long Open waits for a free slot before failing with
	// ErrBusy; default 1m; negative: fail at once.
	QueueWait time.Duration
	// TLSConfig, when set, is cloned for HTTPS (to add private CAs).
	TLSConfig *tls.Config
	// LookupIP resolves host names; default net.DefaultResolver.LookupNetIP
	// with network "ip". Tests and split-horizon setups replace it.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// UserAgent is sent with each request; default "glanced-web-download".
	UserAgent string
}

// Fetcher opens image data at http and https URIs. It is safe for
// concurrent use.
type Fetcher struct {
	opt    Options
	filter Filter
	slots  chan struct{}
	client *http.Client
	// addrReason decides which resolved addresses may be dialled; tests
	// replace it to stand a loopback server in for a public one.
	addrReason func(a netip.Addr, allowPrivate bool) string
}

// New returns a Fetcher for o.
func New(o Options) *Fetcher {
	o = withDefaults(o)
	f := &Fetcher{opt: o, filter: *o.Filter, slots: make(chan struct{}, o.MaxConcurrent), addrReason: addrReason}
	// A fresh connection per fetch, HTTP/1.1 only, no proxy: with no
	// connection reused, net/http never retries the GET on its own (it
	// retries only on reused connections), and every connection comes
	// from dial, which checks the address.
	var protos http.Protocols
	protos.SetHTTP1(true)
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            f.dial,
		DialTLSContext:         f.dialTLS,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		ResponseHeaderTimeout:  o.HeaderTimeout,
		Protocols:              &protos,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f.client = &http.Client{Transport: tr, CheckRedirect: f.checkRedirect}
	return f
}

func withDefaults(o Options) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ConnectTimeout, 30*time.Second)
	def(&o.HeaderTimeout, 60*time.Second)
	def(&o.IdleTimeout, 60*time.Second)
	if o.QueueWait == 0 {
		o.QueueWait = time.Minute
	}
	filter := DefaultFilter()
	if o.Filter != nil {
		filter = o.Filter.clone()
	}
	o.Filter = &filter
	if o.MaxSize <= 0 {
		o.MaxSize = 1 << 40
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 10
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 10
	}
	if o.LookupIP == nil {
		o.LookupIP = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if o.UserAgent == "" {
		o.UserAgent = "glanced-web-download"
	}
	return o
}

// Check applies the Fetcher's filter to rawURI, as Filter.Check does: the
// import API calls it to answer 400 before accepting a task.
func (f *Fetcher) Check(rawURI string) (*url.URL, error) { return f.filter.Check(rawURI) }

// Open checks u against the filter, waits for a free slot (at most
// QueueWait), and GETs u. It returns the body and its declared size (-1
// when unknown). Reading fails with an *Error when the transfer stalls for
// IdleTimeout, passes MaxSize or breaks; a body shorter than its declared
// size fails rather than ending early. Closing the body frees the slot.
// Every error is an *Error.
func (f *Fetcher) Open(ctx context.Context, u *url.URL) (io.ReadCloser, int64, error) {
	if reason := f.filter.check(u); reason != "" {
		return nil, -1, filteredError(&FilterError{URI: redactURL(u), Reason: reason})
	}
	if err := f.acquire(ctx); err != nil {
		return nil, -1, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	rc, size, err := f.get(ctx, u)
	if err != nil {
		cancel(nil)
		f.release()
		return nil, -1, err
	}
	return newBody(rc, f.opt.IdleTimeout, f.opt.MaxSize, ctx, cancel, f.release), size, nil
}

func (f *Fetcher) get(ctx context.Context, u *url.URL) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, -1, connectError(err)
	}
	req.Header.Set("User-Agent", f.opt.UserAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, -1, classify(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, -1, statusError(resp.StatusCode)
	}
	if resp.ContentLength > f.opt.MaxSize {
		resp.Body.Close()
		return nil, -1, tooLargeError(f.opt.MaxSize)
	}
	return resp.Body, resp.ContentLength, nil
}

// classify turns an error from Client.Do into an *Error.
func classify(ctx context.Context, err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e // from dial or checkRedirect
	case ctx.Err() != nil:
		return newError(ErrTransfer, context.Cause(ctx), "the transfer was cancelled")
	}
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return newError(ErrTimeout, err, "the source did not answer in time")
	}
	return newError(ErrTransfer, err, "the source did not send a valid answer")
}

func (f *Fetcher) acquire(ctx context.Context) error {
	select {
	case f.slots <- struct{}{}:
		return nil
	default:
	}
	if f.opt.QueueWait < 0 {
		return busyError()
	}
	t := time.NewTimer(f.opt.QueueWait)
	defer t.Stop()
	select {
	case f.slots <- struct{}{}:
		return nil
	case <-t.C:
		return busyError()
	case <-ctx.Done():
		return newError(ErrTransfer, ctx.Err(), "the transfer was cancelled")
	}
}

func (f *Fetcher) release() { <-f.slots }

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.opt.MaxRedirects {
		return newError(ErrRedirect, fmt.Errorf("more than %d redirects", f.opt.MaxRedirects), "too many redirects")
	}
	if reason := f.filter.check(req.URL); reason != "" {
		fe := &FilterError{URI: redactURL(req.URL), Reason: reason}
		return newError(ErrRedirect, fe, "redirected to a URI that does not pass filtering")
	}
	return nil
}

// dial resolves the host itself, refuses addresses in the refused ranges
// (unless the host is listed in AllowedHosts) and dials the allowed ones by
// address, so the address checked is the address connected to: a name
// that resolves elsewhere on a second lookup (DNS rebinding) gains nothing.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opt.ConnectTimeout)
	defer cancel()
	return f.dialChecked(ctx, addr)
}

func (f *Fetcher) dialChecked(ctx context.Context, addr string) (net.Conn, error) {
	hostname, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, connectError(err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, connectError(err)
	}
	h, reason := parseHost(hostname)
	if reason != "" {
		return nil, filteredError(&FilterError{URI: addr, Reason: reason})
	}
	ips, err := f.resolve(ctx, h)
	if err != nil {
		return nil, connectError(fmt.Errorf("resolve %s: %w", hostname, err))
	}
	explicit := f.filter.explicit(h.key)
	var refused []string
	var dialErr error
	var d net.Dialer
	// Allowed addresses are tried in turn (a dual-stack name may have an
	// unreachable family), all within the one connect timeout.
	for _, ip := range ips {
		if why := f.refusal(ip, explicit); why != "" {
			refused = append(refused, ip.String()+": "+why)
			continue
		}
		conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		dialErr = errors.Join(dialErr, err)
	}
	if dialErr != nil {
		return nil, connectError(dialErr)
	}
	fe := &FilterError{URI: addr, Reason: fmt.Sprintf("no allowed address among %v", refused)}
	return nil, newError(ErrFiltered, fe, "could not connect to the source")
}

func (f *Fetcher) resolve(ctx context.Context, h host) ([]netip.Addr, error) {
	if h.ip.IsValid() {
		return []netip.Addr{h.ip}, nil
	}
	// Numeric forms never get here (parseHost refuses them), so the name
	// goes to the resolver as is: Go's resolver skips /etc/hosts for a
	// name with a trailing dot.
	return f.opt.LookupIP(ctx, h.key)
}

// refusal says why ip may not be dialled, or "".
func (f *Fetcher) refusal(ip netip.Addr, explicit bool) string {
	if explicit {
		return ""
	}
	if f.filter.addrBlocked(ip) {
		return "listed in disallowed_hosts"
	}
	return f.addrReason(ip, f.filter.AllowPrivate)
}

// dialTLS dials as dial does and then does the TLS handshake within the
// same connect timeout, so every connection failure is classified here.
func (f *Fetcher) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opt.ConnectTimeout)
	defer cancel()
	conn, err := f.dialChecked(ctx, addr)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{}
	if f.opt.TLSConfig != nil {
		cfg = f.opt.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, newError(ErrConnect, err, "the secure connection to the source could not be established")
	}
	return tc, nil
}
