package glance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

// CacheAPIVersion is the API version that brought the cache management
// calls (GET/DELETE /cache, PUT/DELETE /cache/{id}).
const CacheAPIVersion = "v2.14"

// ErrNotSupported is returned when the server does not offer an API version
// a call needs.
var ErrNotSupported = errors.New("not supported by the server")

// HasVersion reports whether the server lists the API version id (such as
// "v2.14") as CURRENT, SUPPORTED or EXPERIMENTAL.
func (c *Client) HasVersion(ctx context.Context, id string) (bool, error) {
	versions, err := c.Versions(ctx)
	if err != nil {
		return false, err
	}
	for _, v := range versions {
		if v.ID == id {
			return v.Status == "CURRENT" || v.Status == "SUPPORTED" || v.Status == "EXPERIMENTAL", nil
		}
	}
	return false, nil
}

// RequireVersion returns an error wrapping ErrNotSupported, naming what,
// unless the server offers the API version id.
func (c *Client) RequireVersion(ctx context.Context, id, what string) error {
	ok, err := c.HasVersion(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("glance: %s needs image API %s: %w", what, id, ErrNotSupported)
	}
	return nil
}

// CachedImage is an image whose data the server's cache holds.
type CachedImage struct {
	ImageID      string
	Hits         int64
	Size         int64
	LastAccessed time.Time // zero when never read from the cache
	LastModified time.Time
}

// UnmarshalJSON reads the cache's Unix timestamps (float seconds).
func (ci *CachedImage) UnmarshalJSON(data []byte) error {
	var raw struct {
		ImageID      string  `json:"image_id"`
		Hits         int64   `json:"hits"`
		Size         int64   `json:"size"`
		LastAccessed float64 `json:"last_accessed"`
		LastModified float64 `json:"last_modified"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*ci = CachedImage{ImageID: raw.ImageID, Hits: raw.Hits, Size: raw.Size,
		LastAccessed: unixFloat(raw.LastAccessed), LastModified: unixFloat(raw.LastModified)}
	return nil
}

// unixFloat converts float seconds to a UTC time rounded to the microsecond
// (half to even), as Python's datetime does; 0 is the zero time.
func unixFloat(f float64) time.Time {
	if f == 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	us := math.RoundToEven(frac * 1e6)
	return time.Unix(int64(sec), int64(us)*1000).UTC()
}

// CacheState is what the image cache holds and what it will fetch next.
type CacheState struct {
	Cached []CachedImage `json:"cached_images"`
	Queued []string      `json:"queued_images"`
}

// ListCache returns the cache's contents and queue (admin only by default).
func (c *Client) ListCache(ctx context.Context) (*CacheState, error) {
	var st CacheState
	if _, err := c.doJSON(ctx, http.MethodGet, "/cache", nil, "", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// QueueCache asks the server to cache an image's data in the background.
func (c *Client) QueueCache(ctx context.Context, imageID string) error {
	_, err := c.doJSON(ctx, http.MethodPut, "/cache/"+escape(imageID), nil, "", nil, nil)
	return err
}

// DeleteCache removes an image from the cache and from its queue.
func (c *Client) DeleteCache(ctx context.Context, imageID string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, "/cache/"+escape(imageID), nil, "", nil, nil)
	return err
}

// Targets of ClearCache.
const (
	CacheBoth  = "both"
	CacheOnly  = "cache"
	CacheQueue = "queue"
)

// ClearCache empties the cache, the queue, or both ("" means both).
func (c *Client) ClearCache(ctx context.Context, target string) error {
	r := &request{method: http.MethodDelete, path: "/cache", size: -1}
	switch target {
	case "", CacheBoth:
	case CacheOnly, CacheQueue:
		r.header = http.Header{"X-Image-Cache-Clear-Target": {target}}
	default:
		return fmt.Errorf("glance: invalid cache clear target %q (valid: both, cache, queue)", target)
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
