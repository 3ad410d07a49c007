package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/imagecache"
	"github.com/go-glance/glance/internal/store"
)

// multistoreRoutes registers the routes of the image cache, store and
// location calls.
func (s *Server) multistoreRoutes(add addFunc) {
	add("/v2/info/stores", "GET!", s.infoStores)
	add("/v2/info/stores/detail", "GET!", s.infoStoresDetail)
	add("/v2/stores/{store}/{id}", "DELETE!", s.deleteFromStore)
	add("/v2/cache", "GET!", s.listCache, "DELETE!", s.clearCache)
	// POST /v2/cache/clean and /prune (API 2.18) share the pattern.
	add("/v2/cache/{id}", "PUT!", s.queueCache, "DELETE!", s.deleteCache, "POST!", s.cacheAction)
	add("/v2/images/{id}/locations", "GET!", s.listLocations, "POST", s.addLocation)
}

// startMultistore checks the import methods and opens the image cache and
// its worker; New calls it once the background context exists.
func (s *Server) startMultistore() error {
	s.importMethods = s.cfg.ImportMethods
	if s.importMethods == nil {
		s.importMethods = defaultImportMethods
	}
	if err := checkImportMethods(s.importMethods); err != nil {
		return err
	}
	defer func() {
		s.versionIDs = map[string]bool{}
		for _, v := range s.apiVersions() {
			s.versionIDs[v.id] = true
		}
	}()
	cc := s.cfg.Cache
	if cc.Dir == "" {
		return nil
	}
	c, err := imagecache.Open(imagecache.Options{Dir: cc.Dir, MaxSize: cc.MaxSize, StallTime: cc.StallTime, Logger: s.log})
	if err != nil {
		return err
	}
	s.cache = c
	s.log.Info("image cache", "dir", cc.Dir, "max_size", c.MaxSize(), "all_stores", cc.AllStores)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		c.Run(s.bgCtx, s.prefetch)
	}()
	return nil
}

// ordered returns the configured stores holding an image's data in the
// order downloads try them: the preferred ones first (in the order given),
// then by weight, highest first, then in configuration order.
func (ss *stores) ordered(im *store.Image, prefer []string) []string {
	var out []string
	for _, p := range prefer {
		if slices.Contains(im.Stores, p) && ss.byID[p] != nil && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	rest := make([]StoreConfig, 0, len(ss.list))
	for _, sc := range ss.list {
		if slices.Contains(im.Stores, sc.ID) && !slices.Contains(out, sc.ID) {
			rest = append(rest, sc)
		}
	}
	slices.SortStableFunc(rest, func(a, b StoreConfig) int { return b.Weight - a.Weight })
	for _, sc := range rest {
		out = append(out, sc.ID)
	}
	return out
}

// cached reports whether an image's data goes through the cache: the
// cache is on, and the data is in a store that is not a local folder
// (unless every store is cached).
func (s *Server) cached(st blob.Store) bool {
	if s.cache == nil {
		return false
	}
	_, local := blobAs[*blob.File](st)
	return s.cfg.Cache.AllStores || !local
}

// preferredStores reads ?prefer= (newest Glance): comma-separated store
// IDs, each configured, checked by download_from_store.
func (s *Server) preferredStores(r *http.Request, c *caller, im *store.Image) ([]string, error) {
	var prefer []string
	for _, p := range strings.Split(r.URL.Query().Get("prefer"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			prefer = append(prefer, p)
		}
	}
	if len(prefer) == 0 {
		return nil, nil
	}
	if err := s.authorizeImage(c, im, "download_from_store"); err != nil {
		return nil, err
	}
	for _, p := range prefer {
		if s.stores.byID[p] == nil {
			return nil, errorf(http.StatusBadRequest, "Store '%s' is not configured.", p)
		}
	}
	return prefer, nil
}

// deleteFromStore is DELETE /v2/stores/{store}/{id}: the image's data
// leaves one store while another still holds it.
func (s *Server) deleteFromStore(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	sid := r.PathValue("store")
	if s.stores.byID[sid] == nil {
		return errorf(http.StatusConflict, "The selected store %s is not available on this node.", sid)
	}
	im, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return errorf(http.StatusNotFound, "Failed to find image %s", r.PathValue("id"))
	}
	if err := s.authorizeImage(c, im, "get_image_location"); err != nil {
		return err
	}
	if err := s.authorizeImage(c, im, "delete_image_location"); err != nil {
		return err
	}
	if im.Status != store.StatusActive {
		return errorf(http.StatusConflict, "It's not allowed to remove image data from store if image status is not 'active'")
	}
	_, err = s.changeImage(ctx, im.ID, func(im *store.Image) error {
		if len(im.Stores) <= 1 {
			return errorf(http.StatusForbidden, "Cannot delete image data from the only store containing it. Consider deleting the image instead.")
		}
		i := slices.Index(im.Stores, sid)
		if i < 0 {
			return errorf(http.StatusNotFound, "Image %s is not stored in store %s.", im.ID, sid)
		}
		im.Stores = slices.Delete(im.Stores, i, i+1)
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	// Metadata first: a crash before this leaves an orphan recovery removes.
	if err := s.stores.byID[sid].Delete(context.WithoutCancel(ctx), im.ID); err != nil {
		s.log.Error("delete image data from store", "image", im.ID, "store", sid, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// uploadStore is the store a PUT /file writes to: the x-image-meta-store
// header's, or the default.
func (s *Server) uploadStore(r *http.Request) (string, error) {
	id := r.Header.Get("X-Image-Meta-Store")
	if id == "" {
		return s.stores.def, nil
	}
	if s.stores.byID[id] == nil {
		return "", errorf(http.StatusBadRequest, "Unknown scheme '%s' found in URI", id)
	}
	return id, nil
}

// storeLocation is the URL of an image's data in a store, as locations
// show it: the store's place (a file store's folder, another store's URL
// without credentials) and the key.
func (s *Server) storeLocation(storeID, key string) string {
	for _, sc := range s.stores.list {
		if sc.ID == storeID {
			loc, err := blob.Location(sc.URL)
			if err != nil {
				return ""
			}
			return strings.TrimRight(loc, "/") + "/" + key
		}
	}
	return ""
}

// parseLocation finds the store and key a location URL names; only URLs of
// glanced's own stores are accepted, so that nothing outside them is ever
// read.
func (s *Server) parseLocation(u string) (storeID, key string, err error) {
	for _, sc := range s.stores.list {
		loc, lerr := blob.Location(sc.URL)
		if lerr != nil {
			continue
		}
		if k, ok := strings.CutPrefix(u, strings.TrimRight(loc, "/")+"/"); ok && blob.CheckKey(k) == nil {
			return sc.ID, k, nil
		}
	}
	return "", "", fmt.Errorf("location %q is not in one of this service's stores", u)
}

// openData opens n bytes from off of an active image's data for a
// download: from the cache when it holds the image, else from the first
// store (see ordered) that has it, filling the cache on the way when the
// whole image is read from a store the cache covers.
func (s *Server) openData(r *http.Request, c *caller, im *store.Image, off, n int64) (io.ReadCloser, error) {
	ctx := r.Context()
	prefer, err := s.preferredStores(r, c, im)
	if err != nil {
		return nil, err
	}
	size := *im.Size
	if s.cache != nil {
		if f, err := s.cache.Open(im.ID, size); err == nil {
			if off == 0 && n == size {
				return f, nil // an *os.File keeps net/http's sendfile path
			}
			return readCloser{io.NewSectionReader(f, off, n), f}, nil
		}
	}
	for _, id := range s.stores.ordered(im, prefer) {
		st := s.stores.byID[id]
		rc, err := st.Open(ctx, im.ID, off, n)
		if errors.Is(err, blob.ErrNotFound) {
			s.log.Error("image data missing from a store that should hold it", "image", im.ID, "store", id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if off == 0 && n == size && s.cached(st) {
			if t := s.cache.Tee(im.ID, size, sha512Of(im), rc); t != nil {
				return readCloser{t, closers{t, rc}}, nil
			}
		}
		return rc, nil
	}
	return nil, errorf(http.StatusNotFound, "Image data for %s was not found.", im.ID)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// closers closes each in order and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type apiVersion struct{ id, status string }

// apiVersions is the versions document's list, as the newest Glance with
// several stores builds it: 2.14, 2.16 and 2.18 only with the image cache
// (2.18 then CURRENT), 2.17 CURRENT without it.
func (s *Server) apiVersions() []apiVersion {
	var vs []apiVersion
	add := func(status string, minors ...int) {
		for _, m := range minors {
			vs = append(vs, apiVersion{fmt.Sprintf("v2.%d", m), status})
		}
	}
	if s.cache != nil {
		add("CURRENT", 18)
		add("SUPPORTED", 17, 16, 15, 14)
	} else {
		add("SUPPORTED", 15)
	}
	add("SUPPORTED", 13, 12, 11, 10, 9, 8)
	if s.cache == nil {
		add("CURRENT", 17)
	}
	add("SUPPORTED", 7, 6, 5, 4, 3, 2, 1, 0)
	return vs
}

// versionAllowed reports whether a path's first segment selects v2: "v2"
// or a version the document lists.
func (s *Server) versionAllowed(seg string) bool {
	return seg == "v2" || s.versionIDs[seg]
}
