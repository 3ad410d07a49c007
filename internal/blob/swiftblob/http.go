package swiftblob

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/blob"
)

var getenv = os.Getenv

// statusError is an answer of Swift other than the one expected.
type statusError struct {
	method, path string
	code         int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s %s", e.method, e.path, e.code, http.StatusText(e.code), e.body)
}

// Is makes a 404 an ErrNotFound.
func (e *statusError) Is(target error) bool {
	return target == blob.ErrNotFound && e.code == http.StatusNotFound
}

// do sends a request for the object name in the container ("" for the
// container itself) and returns a 2xx answer, whose body the caller closes.
// size is body's length, -1 if unknown (sent chunked). A refused token is
// renewed, and the request sent again when it has no body, or one that has
// not been read.
func (s *Store) do(ctx context.Context, method, name string, q url.Values, h http.Header, body io.Reader, size int64) (*http.Response, error) {
	u := s.sc.Endpoint + url.PathEscape(s.container)
	if name != "" {
		u += "/" + (&url.URL{Path: name}).EscapedPath()
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	counted := &countReader{r: body}
	for try := 0; ; try++ {
		var rb io.Reader
		if body != nil {
			rb = counted
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rb)
		if err != nil {
			return nil, err
		}
		for k, v := range h {
			req.Header[k] = v
		}
		token := s.sc.Token()
		req.Header.Set("X-Auth-Token", token)
		if body != nil {
			req.ContentLength = size
		}
		resp, err := s.sc.HTTPClient.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && try == 0 && counted.n == 0 && s.sc.ReauthFunc != nil {
			if err := s.sc.Reauthenticate(ctx, token); err != nil {
				return nil, fmt.Errorf("renewing the token: %w", err)
			}
			continue
		}
		return nil, &statusError{method: method, path: name, code: resp.StatusCode, body: strings.TrimSpace(string(msg))}
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// object is an entry of a container listing.
type object struct {
	Name         string `json:"name"`
	Bytes        int64  `json:"bytes"`
	LastModified string `json:"last_modified"`
	Subdir       string `json:"subdir"` // with a delimiter: a name's part up to it
}

// modified parses Swift's listing time (UTC, without a zone).
func (o object) modified() (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05.999999", o.LastModified)
}

// listing calls fn for each object named prefix..., page by page; with a
// delimiter, names under it are left out (Swift gives them as subdirs).
func (s *Store) listing(ctx context.Context, prefix, delimiter string, fn func(object)) error {
	q := url.Values{"format": {"json"}, "prefix": {prefix}, "limit": {"10000"}}
	if delimiter != "" {
		q.Set("delimiter", delimiter)
	}
	for {
		resp, err := s.do(ctx, http.MethodGet, "", q, nil, nil, 0)
		if err != nil {
			return err
		}
		var page []object
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("container listing: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, o := range page {
			fn(o)
		}
		last := page[len(page)-1]
		q.Set("marker", last.Name+last.Subdir)
	}
}
