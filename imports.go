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

// ImportInfo returns the import methods the server offers.
func (c *Client) ImportInfo(ctx context.Context) ([]string, error) {
	var out struct {
		Methods struct {
			Value []string `json:"value"`
		} `json:"import-methods"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/info/import", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Methods.Value, nil
}

// Store is a backend store of a multi-store Glance.
type Store struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Default     bool   `json:"-"`
	ReadOnly    bool   `json:"-"`
}

// UnmarshalJSON reads Glance's "default": "true" strings.
func (s *Store) UnmarshalJSON(data []byte) error {
	var raw struct {
		ID          string `json:"id"`
		Description string `json:"description"`
		Default     any    `json:"default"`
		ReadOnly    any    `json:"read-only"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	truthy := func(v any) bool { return v == true || v == "true" || v == "True" }
	*s = Store{ID: raw.ID, Description: raw.Description, Default: truthy(raw.Default), ReadOnly: truthy(raw.ReadOnly)}
	return nil
}

// Stores lists the backend stores; ErrNotFound means the server has only one.
func (c *Client) Stores(ctx context.Context) ([]Store, error) {
	var out struct {
		Stores []Store `json:"stores"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/info/stores", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Stores, nil
}

// DeleteFromStore removes an image's data from one store.
func (c *Client) DeleteFromStore(ctx context.Context, storeID, imageID string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, "/stores/"+escape(storeID)+"/"+escape(imageID), nil, "", nil, nil)
	return err
}

// Task is an asynchronous job, such as an import.
type Task struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	Owner     string          `json:"owner"`
	Input     json.RawMessage `json:"input,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Message   string          `json:"message"`
	ImageID   string          `json:"image_id,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	UserID    string          `json:"user_id,omitempty"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
	ExpiresAt string          `json:"expires_at,omitempty"`
}

// ImageTasks lists the tasks that worked on an image (API 2.12 and later).
func (c *Client) ImageTasks(ctx context.Context, imageID string) ([]Task, error) {
	var out struct {
		Tasks []Task `json:"tasks"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/images/"+escape(imageID)+"/tasks", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Tasks, nil
}

// GetTask returns one task.
func (c *Client) GetTask(ctx context.Context, id string) (*Task, error) {
	var t Task
	if _, err := c.doJSON(ctx, http.MethodGet, "/tasks/"+escape(id), nil, "", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
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
