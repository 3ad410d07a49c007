package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-glance/glance"
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// HTTPClient sends the requests; it carries authentication (package
	// auth builds one). Nil means http.DefaultClient, for a Glance without auth.
	HTTPClient *http.Client
	// UserAgent replaces the default User-Agent header.
	UserAgent string
	// Retries is how many times a read (GET, HEAD) is repeated after a
	// connection failure or a 429, 502, 503 or 504. Zero means 2; negative
	// means never. Writes are never repeated.
	Retries int
}

// Client talks to the Image API v1 of one endpoint. It is safe for
// concurrent use.
type Client struct {
	base string         // endpoint root + "/v1"
	t    *glance.Client // sends the requests: same retries and errors as v2
}

var versionSegment = regexp.MustCompile(`^v\d+(\.\d+)?$`)

// New returns a client for the image endpoint, as a service catalog lists it
// (http://host:9292, http://host/image). A version at the end of the path
// (/v1, or /v2 from a catalog) is dropped: this package speaks /v1, as
// python-glanceclient does when version 1 is asked for. New does no I/O.
func New(endpoint string, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("glance: invalid endpoint %q: want an http(s) URL", endpoint)
	}
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	path := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndex(path, "/"); i >= 0 && versionSegment.MatchString(path[i+1:]) {
		path = path[:i]
	}
	u.Path = path
	root := strings.TrimRight(u.String(), "/")
	ua := opts.UserAgent
	if ua == "" {
		ua = "go-glance/" + glance.Version
	}
	// The v2 client is given the bare root and no version: it is used only
	// through Do with absolute URLs, which never asks for versions.
	t, err := glance.New(root, &glance.Options{HTTPClient: opts.HTTPClient, UserAgent: ua, Retries: opts.Retries})
	if err != nil {
		return nil, err
	}
	return &Client{base: root + "/v1", t: t}, nil
}

// Endpoint returns the base URL of the calls, e.g. http://host:9292/v1.
func (c *Client) Endpoint() string { return c.base }

// call describes one request.
type call struct {
	method string
	path   string // below /v1, e.g. "/images/ID"
	query  url.Values
	header http.Header
	body   io.ReadCloser
	size   int64 // body length, -1 unknown
	replay func() (io.ReadCloser, error)
}

// send makes the request and returns the response when it succeeded; a
// failure is an *glance.Error.
func (c *Client) send(ctx context.Context, r *call) (*http.Response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = r.body
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("glance: %w", err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.body != nil {
		req.ContentLength = r.size
		req.GetBody = r.replay
		if r.size == 0 {
			req.Body = http.NoBody
		}
	}
	return c.t.Do(req)
}

// jsonCall sends in (when not nil) as JSON and decodes the answer into out
// (when not nil).
func (c *Client) jsonCall(ctx context.Context, method, path string, query url.Values, in, out any) error {
	r := &call{method: method, path: path, query: query}
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("glance: encoding request: %w", err)
		}
		r.header = http.Header{"Content-Type": {"application/json"}}
		r.body, r.size = io.NopCloser(bytes.NewReader(data)), int64(len(data))
		r.replay = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	return decodeJSON(resp, out)
}

// decodeJSON reads a JSON answer into out (when not nil) and releases the
// connection. Numbers stay json.Number, so that sizes keep every digit.
func decodeJSON(resp *http.Response, out any) error {
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return fmt.Errorf("glance: decoding answer to %s %s: %w", resp.Request.Method, resp.Request.URL.Redacted(), err)
		}
	}
	io.Copy(io.Discard, resp.Body) // let the connection be reused
	return nil
}

// escape makes one path segment of an image or member ID.
func escape(s string) string { return url.PathEscape(s) }

// decodeNumbers decodes JSON with numbers as json.Number.
func decodeNumbers(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(out)
}
