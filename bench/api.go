package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// The harness talks to Keystone and the image servers with plain HTTP: it must
// not depend on the code it measures to set up and check the measurements.

// keystoneHTTP opens a connection per request: Keystone under uwsgi may close
// one after an answer without saying so.
var keystoneHTTP = &http.Client{
	Timeout:   time.Minute,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// keystoneToken logs u in with a password and returns a project-scoped token.
func keystoneToken(ctx context.Context, keystoneURL string, u testenv.User) (string, error) {
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,`+
		`"domain":{"name":%q},"password":%q}}},"scope":{"project":{"name":%q,"domain":{"name":%q}}}}}`,
		u.Name, u.Domain, u.Password, u.Project, u.Domain)
	req, err := http.NewRequestWithContext(ctx, "POST", keystoneURL+"/auth/tokens", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := keystoneHTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST /auth/tokens: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	tok := resp.Header.Get("X-Subject-Token")
	if tok == "" {
		return "", fmt.Errorf("POST /auth/tokens: no X-Subject-Token in the answer")
	}
	return tok, nil
}

// api is an Image API v2 endpoint as one user sees it.
type api struct {
	base  string // without /v2
	token string // empty for a server without auth
	hc    http.Client
}

// do sends one request and returns the status and body; want lists the
// statuses that are not an error.
func (a *api) do(ctx context.Context, method, path, ctype string, body io.Reader, want ...int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return nil, err
	}
	if a.token != "" {
		req.Header.Set("X-Auth-Token", a.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return data, nil
		}
	}
	if len(data) > 300 {
		data = data[:300]
	}
	return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
}

type image struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	Size     int64    `json:"size"`
	Checksum string   `json:"checksum"`
	Tags     []string `json:"tags"`
}

// seed creates n private images named tag-NN, tagged tag, each with 1 KiB of
// data so that they are active like real ones, and returns their IDs.
func (a *api) seed(ctx context.Context, tag string, n int) ([]string, error) {
	var ids []string
	data := make([]byte, 1024)
	for i := 1; i <= n; i++ {
		body, _ := json.Marshal(map[string]any{
			"name": fmt.Sprintf("%s-%02d", tag, i), "disk_format": "raw", "container_format": "bare",
			"visibility": "private", "tags": []string{tag},
		})
		out, err := a.do(ctx, "POST", "/v2/images", "application/json", bytes.NewReader(body), http.StatusCreated)
		if err != nil {
			return ids, err
		}
		var img image
		if err := json.Unmarshal(out, &img); err != nil || img.ID == "" {
			return ids, fmt.Errorf("POST /v2/images: no image in the answer: %v", err)
		}
		ids = append(ids, img.ID)
		rand.Read(data)
		if _, err := a.do(ctx, "PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream",
			bytes.NewReader(data), http.StatusNoContent, http.StatusCreated); err != nil {
			return ids, err
		}
	}
	// The list the benchmarks ask for must be exactly these, all active.
	imgs, err := a.list(ctx, "tag="+url.QueryEscape(tag))
	if err != nil {
		return ids, err
	}
	active := 0
	for _, img := range imgs {
		if img.Status == "active" {
			active++
		}
	}
	if len(imgs) != n || active != n {
		return ids, fmt.Errorf("after seeding, the list tagged %s has %d images, %d active; want %d", tag, len(imgs), active, n)
	}
	return ids, nil
}

// list returns every image the query matches, following the next links.
func (a *api) list(ctx context.Context, query string) ([]image, error) {
	q := "limit=200"
	if query != "" {
		q += "&" + query
	}
	return a.listAll(ctx, q)
}

// sweep deletes every image whose name starts with prefix: the seeded ones
// and those the transfer test uploaded.
func (a *api) sweep(ctx context.Context, prefix string) (int, error) {
	imgs, err := a.list(ctx, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, img := range imgs {
		if !strings.HasPrefix(img.Name, prefix) {
			continue
		}
		if _, err := a.do(ctx, "DELETE", "/v2/images/"+img.ID, "", nil, http.StatusNoContent, http.StatusNotFound); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// seedSet is what the CLI and load tests ask for: the list tagged tag and
// the show of ids[0].
type seedSet struct {
	tag string
	ids []string
}
