package server

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/digest"
	"github.com/go-glance/glance/internal/store"
)

// StoreConfig is one image data store, as /v2/info/stores shows it.
type StoreConfig struct {
	ID          string // how images and the API name it
	URL         string // file:///path or a path; other schemes as backends register
	Description string // shown by /v2/info/stores; omitted when empty
	Default     bool   // new data goes here; at most one store has it
	Weight      int    // downloads read from the highest weight holding the data
}

// defaultStoreID is the store of the default configuration.
const defaultStoreID = "local"

// stores are the configured data stores, opened.
type stores struct {
	list []StoreConfig // configuration order, as /v2/info/stores lists them
	byID map[string]blob.Store
	def  string // the default store's ID
}

// storeConfigs returns the stores of cfg with defaults filled in, checked:
// IDs unique and well formed, one default (the first store if none is
// marked), and no two stores (the staging store included) in one place.
func storeConfigs(cfg Config) ([]StoreConfig, error) {
	list := append([]StoreConfig(nil), cfg.Stores...)
	if len(list) == 0 {
		list = []StoreConfig{{ID: defaultStoreID, URL: filepath.Join(cfg.DataDir, "images"),
			Description: "Local file store", Default: true}}
	}
	seen := map[string]bool{}
	where := map[string]string{}
	if loc, err := blob.Location(cfg.Staging); err == nil {
		where[loc] = "the staging store"
	}
	defaults := 0
	for _, sc := range list {
		// IDs travel comma-separated (the stores field, the
		// OpenStack-image-store-ids header); os_glance_ is Glance's own prefix.
		if blob.CheckKey(sc.ID) != nil || strings.HasPrefix(sc.ID, "os_glance_") {
			return nil, fmt.Errorf("store ID %q: use letters, digits, '-', '_' and '.', and no os_glance_ prefix", sc.ID)
		}
		if seen[sc.ID] {
			return nil, fmt.Errorf("store %q configured twice", sc.ID)
		}
		seen[sc.ID] = true
		loc, err := blob.Location(sc.URL)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", sc.ID, err)
		}
		if other, ok := where[loc]; ok {
			return nil, fmt.Errorf("store %s is in the same place as %s (%s): each would remove the other's data", sc.ID, other, loc)
		}
		where[loc] = "store " + sc.ID
		if sc.Default {
			defaults++
		}
	}
	switch defaults {
	case 0:
		list[0].Default = true
	case 1:
	default:
		return nil, fmt.Errorf("%d stores are marked default; mark one", defaults)
	}
	return list, nil
}

// openStores opens the data stores of cfg (see storeConfigs).
func openStores(ctx context.Context, cfg Config) (*stores, error) {
	list, err := storeConfigs(cfg)
	if err != nil {
		return nil, err
	}
	ss := &stores{list: list, byID: map[string]blob.Store{}}
	for _, sc := range list {
		st, err := blob.Open(ctx, sc.URL)
		if err != nil {
			return nil, err
		}
		ss.byID[sc.ID] = st
		if sc.Default {
			ss.def = sc.ID
		}
	}
	return ss, nil
}

// ids returns the store IDs in configuration order.
func (ss *stores) ids() []string {
	ids := make([]string, len(ss.list))
	for i, sc := range ss.list {
		ids[i] = sc.ID
	}
	return ids
}

// stored is image data just written: its digests and where it is.
type stored struct {
	digest.Sums
	store   string
	more    []string // further stores holding a copy
	virtual *int64   // the virtual size the content check found, if any
}

// putData stores r as the data of image id in the default store.
func (s *Server) putData(ctx context.Context, id string, r io.Reader) (stored, error) {
	return s.putDataTo(ctx, s.stores.def, id, r, -1)
}

// putDataTo stores r, of size bytes (-1: unknown), as the data of image id
// in one store. It is the one place new image data is hashed: the stores
// only keep bytes. A known size lets a store stream (S3's parts go straight
// from r rather than through buffers) and fails a body that ends early.
func (s *Server) putDataTo(ctx context.Context, storeID, id string, r io.Reader, size int64) (stored, error) {
	ctx, stop := s.guardWrite(ctx, id)
	defer stop()
	dr := digest.NewReader(r)
	if _, err := s.stores.byID[storeID].Put(ctx, id, dr, size); err != nil {
		dr.Close()
		return stored{}, lostOr(ctx, err)
	}
	return stored{Sums: dr.Sums(), store: storeID}, nil
}

// deleteData removes an image's data from every store that holds it, and
// from the default store, where an upload may have left it before the
// image recorded it. Failures are logged: leftovers are orphans, which
// recovery removes.
func (s *Server) deleteData(ctx context.Context, im *store.Image) {
	ids := im.Stores
	if !slices.Contains(ids, s.stores.def) {
		ids = append(ids[:len(ids):len(ids)], s.stores.def)
	}
	for _, id := range ids {
		st, ok := s.stores.byID[id]
		if !ok {
			continue
		}
		if err := st.Delete(ctx, im.ID); err != nil {
			s.log.Error("delete image data", "image", im.ID, "store", id, "err", err)
		}
	}
	if s.cache != nil {
		if err := s.cache.Delete(im.ID); err != nil {
			s.log.Error("delete cached image data", "image", im.ID, "err", err)
		}
	}
}

// storesInfo is the body of /v2/info/stores, and with detail of
// /v2/info/stores/detail, spaced as Glance's JSON is.
func (s *Server) storesInfo(detail bool) []byte {
	b := []byte(`{"stores": [`)
	for i, sc := range s.stores.list {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"id": `...)
		b = appendJSONString(b, sc.ID)
		if sc.Description != "" {
			b = append(b, `, "description": `...)
			b = appendJSONString(b, sc.Description)
		}
		if sc.Default {
			b = append(b, `, "default": "true"`...) // a string, as Glance has it
		}
		if detail {
			typ, props := storeDetail(s.stores.byID[sc.ID], sc.URL)
			b = append(b, `, "type": `...)
			b = appendJSONString(b, typ)
			b = append(b, `, "properties": `...)
			b = append(b, props...)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// storeDetail returns a store's type and properties (JSON), as Glance's file
// store describes itself; other backends show their scheme.
func storeDetail(st blob.Store, rawURL string) (string, []byte) {
	if f, ok := blobAs[*blob.File](st); ok {
		b := appendJSONString([]byte(`{"data_dir": `), f.Dir())
		return "file", append(b, `, "chunk_size": 262144, "thin_provisioning": false}`...)
	}
	typ, _, _ := strings.Cut(rawURL, ":")
	return strings.ToLower(typ), []byte(`{}`)
}
