package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is this library's version, sent in the User-Agent header.
const Version = "0.1.0"

// Options configures a Client. The zero value is usable.
type Options struct {
	// HTTPClient sends the requests; it carries authentication. Nil means
	// http.DefaultClient, which suits a Glance running without auth.
	HTTPClient *http.Client
	// APIVersion is the major API version to use, "2". When it is empty and the
	// endpoint has no version in its path, the first request asks the endpoint
	// for its versions, as python-glanceclient does.
	APIVersion string
	// UserAgent replaces the default User-Agent header.
	UserAgent string
	// Retries is how many times a read (GET, HEAD) is repeated after a
	// connection failure or a 429, 502, 503 or 504 answer. Zero means 2;
	// negative means never. Writes are never repeated, and neither is a
	// request that timed out.
	Retries int
	// StallTimeout bounds every wait on the server: from sending a request
	// to the headers of its answer, and each pause in the flow of a request
	// or answer body. A transfer that keeps moving is never cut off, however
	// long it takes. A request that stalls fails with a *TimeoutError
	// (errors.Is ErrTimeout) and is not repeated. Zero means no bound.
	StallTimeout time.Duration
}

// Client talks to one Image service endpoint. It is safe for concurrent use.
type Client struct {
	root      string // endpoint without the version, e.g. http://host/image
	http      *http.Client
	userAgent string
	retries   int
	stall     time.Duration

	mu   sync.Mutex
	base string // root + "/v2" once known
}

var versionSegment = regexp.MustCompile(`^v(\d+)(\.\d+)?$`)

// New returns a client for the image endpoint, as found in a service catalog
// (http://host:9292, http://host/image) or with a version (http://host:9292/v2).
// It does no I/O.
func New(endpoint string, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("glance: invalid endpoint %q: want an http(s) URL", endpoint)
	}
	u.RawQuery, u.Fragment = "", ""
	path := strings.TrimRight(u.Path, "/")
	version := opts.APIVersion
	if i := strings.LastIndex(path, "/"); i >= 0 {
		if m := versionSegment.FindStringSubmatch(path[i+1:]); m != nil {
			version = m[1]
			path = path[:i]
		}
	}
	u.Path = path
	u.RawPath = ""
	c := &Client{
		root:      strings.TrimRight(u.String(), "/"),
		http:      opts.HTTPClient,
		userAgent: opts.UserAgent,
		stall:     opts.StallTimeout,
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	switch {
	case opts.Retries == 0:
		c.retries = 2
	case opts.Retries > 0:
		c.retries = opts.Retries
	}
	if c.userAgent == "" {
		c.userAgent = "go-glance/" + Version
	}
	switch version {
	case "":
	case "2":
		c.base = c.root + "/v2"
	default:
		return nil, fmt.Errorf("glance: image API version %q is not supported by this client (want 2)", version)
	}
	return c, nil
}

// Endpoint returns the versioned base URL, discovering it if needed.
func (c *Client) Endpoint(ctx context.Context) (string, error) {
	return c.baseURL(ctx)
}

func (c *Client) baseURL(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base != "" {
		return c.base, nil
	}
	versions, err := c.versions(ctx)
	if err != nil {
		return "", fmt.Errorf("glance: discovering API versions at %s: %w", c.root, err)
	}
	for _, v := range versions {
		if strings.HasPrefix(v.ID, "v2") && v.Status != "DEPRECATED" && v.Status != "DELETED" {
			c.base = c.root + "/v2"
			return c.base, nil
		}
	}
	return "", fmt.Errorf("glance: %s offers no image API v2 (versions: %v)", c.root, versions)
}

// request describes one call.
type request struct {
	method string
	path   string // relative to the versioned base, e.g. "/images"; or absolute URL
	query  url.Values
	header http.Header
	body   io.Reader
	size   int64 // body length, -1 when unknown
	// getBody reopens body for a retry after re-authentication; nil means the
	// body can be replayed only if it is nil or an in-memory reader.
	getBody func() (io.ReadCloser, error)
	// ok lists the extra status codes that are not errors (2xx always are).
	ok []int
}

// do sends r and returns the response on success; any other status becomes *Error.
func (c *Client) do(ctx context.Context, r *request) (*http.Response, error) {
	u := r.path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		base, err := c.baseURL(ctx)
		if err != nil {
			return nil, err
		}
		u = base + r.path
	}
	if len(r.query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + r.query.Encode()
	}
	return c.send(ctx, r, u)
}

func (c *Client) send(ctx context.Context, r *request, u string) (*http.Response, error) {
	var wd *watchdog
	if c.stall > 0 {
		ctx, wd = newWatchdog(ctx, c.stall, &TimeoutError{Method: r.method, URL: redactURL(u), After: c.stall})
	}
	resp, err := c.attempts(ctx, r, u, wd)
	if wd == nil {
		return resp, err
	}
	if err != nil {
		wd.stop()
		return nil, err
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, ctx: ctx, w: wd}
	return resp, nil
}

// attempts sends the request, and repeats it as retryable allows.
func (c *Client) attempts(ctx context.Context, r *request, u string, wd *watchdog) (*http.Response, error) {
	body := r.body
	switch body.(type) {
	case nil, *bytes.Reader, *bytes.Buffer, *strings.Reader:
		// In memory: reading takes no time, and net/http can replay it.
	default:
		if wd != nil {
			body = &sourceReader{Reader: body, w: wd}
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("glance: %w", err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.userAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if r.getBody != nil {
		req.GetBody = r.getBody
		if wd != nil {
			req.GetBody = func() (io.ReadCloser, error) {
				b, err := r.getBody()
				if err != nil {
					return nil, err
				}
				return &sourceReader{Reader: b, w: wd}, nil
			}
		}
	}
	if r.body != nil && r.size >= 0 {
		req.ContentLength = r.size
		if r.size == 0 {
			req.Body = http.NoBody
		}
	}
	return c.roundTrip(req, r.ok, wd)
}

// roundTrip sends req, repeating reads that may be retried, and turns a
// status other than 2xx or one listed in ok into an *Error. wd, when set,
// bounds each wait on the server.
func (c *Client) roundTrip(req *http.Request, ok []int, wd *watchdog) (*http.Response, error) {
	ctx := req.Context()
	resp, err := c.try(req, wd)
	for attempt := 0; attempt < c.retries && retryable(req, resp, err); attempt++ {
		wait := backoff(attempt, resp)
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("glance: %s %s: %w", req.Method, req.URL.Redacted(), ctx.Err())
		case <-time.After(wait):
		}
		resp, err = c.try(req, wd)
	}
	if err != nil {
		if wd != nil {
			if terr := wd.fired(ctx, err); terr != err {
				return nil, terr
			}
		}
		return nil, fmt.Errorf("glance: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	for _, code := range ok {
		if resp.StatusCode == code {
			return resp, nil
		}
	}
	return nil, newError(resp)
}

// try sends req once, with the watchdog counting until the answer's headers.
func (c *Client) try(req *http.Request, wd *watchdog) (*http.Response, error) {
	if wd != nil {
		wd.run()
		defer wd.pause()
	}
	return c.http.Do(req)
}

// redactURL hides a password in u, as url.URL.Redacted does.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return u
}

// retryable reports whether a failed attempt may be repeated: only reads
// (GET and HEAD, which carry no body and change nothing), after a transport
// error or an answer that says "try later".
func retryable(req *http.Request, resp *http.Response, err error) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if err != nil {
		// A timeout is the bound the user set on a stall: trying again
		// would multiply it.
		var ne net.Error
		return req.Context().Err() == nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the pause before retry attempt+1: the server's Retry-After
// (in seconds, capped), else 250 ms doubling.
func backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, 30*time.Second)
		}
	}
	return 250 * time.Millisecond << attempt
}

// doJSON sends in (if not nil) as JSON with the given content type and decodes
// the answer into out (if not nil).
func (c *Client) doJSON(ctx context.Context, method, path string, query url.Values, contentType string, in, out any) (*http.Response, error) {
	r := &request{method: method, path: path, query: query, size: -1}
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("glance: encoding request: %w", err)
		}
		if contentType == "" {
			contentType = "application/json"
		}
		r.header = http.Header{"Content-Type": {contentType}}
		r.body = bytes.NewReader(data)
		r.size = int64(len(data))
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp, fmt.Errorf("glance: decoding answer to %s %s: %w", method, resp.Request.URL.Redacted(), err)
		}
	}
	io.Copy(io.Discard, resp.Body) // let the connection be reused
	return resp, nil
}

// VersionInfo is one entry of the versions document.
type VersionInfo struct {
	ID     string `json:"id"`     // e.g. "v2.16"
	Status string `json:"status"` // CURRENT, SUPPORTED, ...
	Links  []Link `json:"links"`
}

// Link is a hyperlink in an API document.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// Versions lists the API versions the endpoint offers. Glance answers the
// unversioned root with 300 Multiple Choices, which is not an error here.
func (c *Client) Versions(ctx context.Context) ([]VersionInfo, error) {
	return c.versions(ctx)
}

func (c *Client) versions(ctx context.Context) ([]VersionInfo, error) {
	resp, err := c.send(ctx, &request{method: http.MethodGet, size: -1, ok: []int{http.StatusMultipleChoices}}, c.root+"/")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var doc struct {
		Versions []VersionInfo `json:"versions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding versions document: %w", err)
	}
	if len(doc.Versions) == 0 {
		return nil, errors.New("the versions document lists no versions")
	}
	return doc.Versions, nil
}

// escape makes one path segment of an ID, tag or member.
func escape(s string) string { return url.PathEscape(s) }
