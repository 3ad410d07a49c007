package glance

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ImportOptions describe an interoperable image import.
type ImportOptions struct {
	// Method is glance-direct (the default; data staged first), web-download,
	// glance-download or copy-image.
	Method string
	// URI is the source for web-download.
	URI string
	// RemoteRegion, RemoteImageID and RemoteServiceInterface are the source
	// for glance-download.
	RemoteRegion, RemoteImageID, RemoteServiceInterface string
	// Stores are the target stores; AllStores imports to every store.
	Stores    []string
	AllStores bool
	// AllowFailure lets the import succeed when some stores fail.
	AllowFailure bool
	// Store is the single target store, sent as X-Image-Meta-Store.
	Store string
}

// ImportImage starts an import (POST /images/{id}/import). The server works
// on it in the background; poll GetImage for the result. It returns the
// request ID of the call, which names the task it created.
func (c *Client) ImportImage(ctx context.Context, id string, opts *ImportOptions) (string, error) {
	o := ImportOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Method == "" {
		o.Method = "glance-direct"
	}
	method := map[string]string{"name": o.Method}
	if o.URI != "" {
		method["uri"] = o.URI
	}
	if o.Method == "glance-download" {
		method["glance_region"] = o.RemoteRegion
		method["glance_image_id"] = o.RemoteImageID
		if o.RemoteServiceInterface == "" {
			o.RemoteServiceInterface = "public"
		}
		method["glance_service_interface"] = o.RemoteServiceInterface
	}
	body := map[string]any{"method": method}
	if len(o.Stores) > 0 {
		body["stores"] = o.Stores
	}
	if o.AllStores {
		body["all_stores"] = true
	}
	if len(o.Stores) > 0 || o.AllStores {
		body["all_stores_must_succeed"] = !o.AllowFailure
	}
	data, _ := json.Marshal(body)
	r := &request{method: http.MethodPost, path: "/images/" + escape(id) + "/import", size: int64(len(data)),
		header: http.Header{"Content-Type": {"application/json"}}, body: bytesReader(data)}
	if o.Store != "" {
		r.header.Set("X-Image-Meta-Store", o.Store)
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("X-Openstack-Request-Id"), nil
}

// WaitImage polls an image until cond returns true or ctx ends, sleeping
// interval between polls. It is meant for imports, which end in the background.
func (c *Client) WaitImage(ctx context.Context, id string, interval time.Duration, cond func(*Image) bool) (*Image, error) {
	for {
		img, err := c.GetImage(ctx, id)
		if err != nil {
			return nil, err
		}
		if cond(img) {
			return img, nil
		}
		select {
		case <-ctx.Done():
			return img, ctx.Err()
		case <-time.After(interval):
		}
	}
}
