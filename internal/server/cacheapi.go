package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/store"
)

// cacheEnforce checks a cache rule (403 on refusal), then that the cache is
// on (404 otherwise), in Glance's order. im is nil for the rules on the
// whole cache, and for an image that is gone but still cached.
func (s *Server) cacheEnforce(c *caller, rule string, im *store.Image) error {
	var err error
	if im == nil {
		err = s.authorize(c, rule)
	} else {
		err = forbidden(s.pol.Authorize(rule, c.credentials(), imageTarget(c, im)))
	}
	if err != nil {
		return err
	}
	if s.cache == nil {
		return errorf(http.StatusNotFound, "Caching via API is not supported at this site.")
	}
	return nil
}

// cacheImage loads the image of a cache call, or a 404 in Glance's words.
func (s *Server) cacheImage(r *http.Request) (*store.Image, error) {
	id := r.PathValue("id")
	im, err := s.getImage(r.Context(), callerFrom(r.Context()), id)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.code == http.StatusNotFound {
			return nil, errorf(http.StatusNotFound, "Image %s not found.", id)
		}
		return nil, err
	}
	return im, nil
}

func (s *Server) listCache(w http.ResponseWriter, r *http.Request) error {
	if err := s.cacheEnforce(callerFrom(r.Context()), "cache_list", nil); err != nil {
		return err
	}
	b := []byte(`{"cached_images": [`)
	for i, e := range s.cache.List() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"image_id": `...)
		b = appendJSONString(b, e.ImageID)
		b = fmt.Appendf(b, `, "hits": %d, "last_accessed": %s, "last_modified": %s, "size": %d}`,
			e.Hits, unixFloat(e.LastAccessed.UnixMicro()), unixFloat(e.LastModified.UnixMicro()), e.Size)
	}
	b = append(b, `], "queued_images": [`...)
	for i, id := range s.cache.Queued() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, id)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
	return nil
}

// unixFloat renders microseconds since the epoch as Python's time.time()
// float does.
func unixFloat(us int64) string {
	return strconv.FormatFloat(float64(us)/1e6, 'f', -1, 64)
}

func (s *Server) queueCache(w http.ResponseWriter, r *http.Request) error {
	im, err := s.cacheImage(r)
	if err != nil {
		return err
	}
	if err := s.cacheEnforce(callerFrom(r.Context()), "cache_image", im); err != nil {
		return err
	}
	if im.Status != store.StatusActive {
		return errorf(http.StatusBadRequest, "Only images with status active can be targeted for queueing")
	}
	if err := s.cache.Queue(im.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// deleteCache drops one image from the cache and the queue; an image that
// is gone may still be dropped while the cache holds it.
func (s *Server) deleteCache(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, err := s.cacheImage(r)
	if err != nil {
		id := r.PathValue("id")
		if s.cache == nil || !(s.cache.Cached(id) || slices.Contains(s.cache.Queued(), id)) {
			return err
		}
		im = nil
	}
	if err := s.cacheEnforce(c, "cache_delete", im); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.cache.Delete(id); err != nil {
		return err
	}
	if err := s.cache.Dequeue(id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clearCache empties the cache, its queue or both, as the
// x-image-cache-clear-target header says.
func (s *Server) clearCache(w http.ResponseWriter, r *http.Request) error {
	if err := s.cacheEnforce(callerFrom(r.Context()), "cache_delete", nil); err != nil {
		return err
	}
	target := strings.ToLower(r.Header.Get("X-Image-Cache-Clear-Target"))
	if target != "" && target != "cache" && target != "queue" {
		return errorf(http.StatusBadRequest, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.")
	}
	if target != "queue" {
		if _, err := s.cache.Clear(); err != nil {
			return err
		}
	}
	if target != "cache" {
		if _, err := s.cache.ClearQueue(); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cacheAction answers POST /v2/cache/clean and /v2/cache/prune; other
// POSTs under /v2/cache are not allowed.
func (s *Server) cacheAction(w http.ResponseWriter, r *http.Request) error {
	switch r.PathValue("id") {
	case "clean":
		return s.cleanCache(w, r)
	case "prune":
		return s.pruneCache(w, r)
	}
	e := errorf(http.StatusMethodNotAllowed, "The method %s is not allowed for this resource. ", r.Method)
	e.header = http.Header{"Allow": {"DELETE, PUT"}}
	return e
}

// cleanCache is API 2.18's POST /v2/cache/clean: stalled partial files go,
// and so do cached copies of images that are no longer active. Glance
// answers 200 with no body.
func (s *Server) cleanCache(w http.ResponseWriter, r *http.Request) error {
	if err := s.cacheEnforce(callerFrom(r.Context()), "cache_clean", nil); err != nil {
		return err
	}
	if _, err := s.cache.Clean(); err != nil {
		return err
	}
	for _, e := range s.cache.List() {
		im, err := s.meta.GetImage(r.Context(), e.ImageID)
		if errors.Is(err, store.ErrNotFound) || err == nil && im.Status != store.StatusActive {
			if err := s.cache.Delete(e.ImageID); err != nil {
				return err
			}
		}
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// pruneCache is API 2.18's POST /v2/cache/prune.
func (s *Server) pruneCache(w http.ResponseWriter, r *http.Request) error {
	if err := s.cacheEnforce(callerFrom(r.Context()), "cache_prune", nil); err != nil {
		return err
	}
	files, n, err := s.cache.Prune()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fmt.Appendf(nil, `{"total_files_pruned": %d, "total_bytes_pruned": %d}`, files, n))
	return nil
}

// prefetch opens an image's data for the cache worker: an active image
// whose data is in a store the cache covers.
func (s *Server) prefetch(ctx context.Context, id string) (io.ReadCloser, int64, string, error) {
	im, err := s.meta.GetImage(ctx, id)
	if err != nil {
		return nil, 0, "", err
	}
	if im.Status != store.StatusActive || im.Size == nil {
		return nil, 0, "", fmt.Errorf("image %s is %s", id, im.Status)
	}
	ids := s.stores.ordered(im, nil)
	if len(ids) == 0 {
		return nil, 0, "", fmt.Errorf("image %s has no data in a configured store", id)
	}
	st := s.stores.byID[ids[0]]
	if !s.cached(st) {
		return nil, 0, "", fmt.Errorf("store %s is a local folder, which the cache does not cover", ids[0])
	}
	rc, err := st.Open(ctx, id, 0, -1)
	if err != nil {
		return nil, 0, "", err
	}
	return rc, *im.Size, sha512Of(im), nil
}

// sha512Of is an image's SHA-512 digest when it has one.
func sha512Of(im *store.Image) string {
	if im.HashAlgo != nil && *im.HashAlgo == "sha512" && im.HashValue != nil {
		return *im.HashValue
	}
	return ""
}
