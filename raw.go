package glance

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Do sends a request this package does not model, such as a call to an API
// extension or to the Image API v1 (package v1 is built on it), the way the
// client's own calls go: through its HTTP client, with its User-Agent, and
// with reads (GET, HEAD) repeated after a connection failure or a 429, 502,
// 503 or 504. A relative URL ("/images/x/foo") is resolved against the
// versioned endpoint. The response is returned when its status is 2xx;
// any other status is an *Error, and its body has been closed.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, fmt.Errorf("glance: Do: request without a URL")
	}
	req = req.Clone(req.Context()) // the caller's request stays as it was
	if !req.URL.IsAbs() {
		base, err := c.baseURL(req.Context())
		if err != nil {
			return nil, err
		}
		abs, err := url.Parse(base + "/" + strings.TrimLeft(req.URL.String(), "/"))
		if err != nil {
			return nil, fmt.Errorf("glance: Do: %w", err)
		}
		req.URL, req.Host = abs, ""
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	return c.roundTrip(req, nil, nil)
}
