package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// ImportInfo returns the import methods the server offers.
func (c *Client) ImportInfo(ctx context.Context) ([]string, error) {
	raw, err := c.ImportInfoDocument(ctx)
	if err != nil {
		return nil, err
	}
	var out struct {
		Methods struct {
			Value []string `json:"value"`
		} `json:"import-methods"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("glance: decoding import info: %w", err)
	}
	return out.Methods.Value, nil
}

// ImportInfoDocument returns the whole import discovery document
// (GET /info/import) as the server sent it: "import-methods" with its
// description, type and value, and whatever a newer server adds.
func (c *Client) ImportInfoDocument(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.doJSON(ctx, http.MethodGet, "/info/import", nil, "", nil, &raw); err != nil {
		return nil, err
	}
	return raw, nil
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
	*s = Store{ID: raw.ID, Description: raw.Description, Default: truthy(raw.Default), ReadOnly: truthy(raw.ReadOnly)}
	return nil
}

func truthy(v any) bool { return v == true || v == "true" || v == "True" }

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

// StoreDetail is a backend store with its driver's settings, as an admin
// sees it in GET /info/stores/detail.
type StoreDetail struct {
	Store
	Type       string         // driver, e.g. "file", "rbd", "swift"
	Properties map[string]any // driver settings; numbers as json.Number
	// Raw is the store's entry as the server sent it, keys in its order.
	Raw json.RawMessage
}

// UnmarshalJSON decodes a detailed store entry.
func (s *StoreDetail) UnmarshalJSON(data []byte) error {
	if err := s.Store.UnmarshalJSON(data); err != nil {
		return err
	}
	var rest struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&rest); err != nil {
		return err
	}
	s.Type, s.Properties = rest.Type, rest.Properties
	s.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// StoresDetail lists the backend stores with their type and settings
// (admin only by default). ErrNotFound means the server has only one store;
// ErrForbidden that the caller may not see the details.
func (c *Client) StoresDetail(ctx context.Context) ([]StoreDetail, error) {
	var out struct {
		Stores []StoreDetail `json:"stores"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/info/stores/detail", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Stores, nil
}

// DeleteFromStore removes an image's data from one store.
func (c *Client) DeleteFromStore(ctx context.Context, storeID, imageID string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, "/stores/"+escape(storeID)+"/"+escape(imageID), nil, "", nil, nil)
	return err
}

// Quota is one quota of the caller's project with what it uses now
// (GET /info/usage). Glance reports quotas only when it enforces Keystone
// unified limits; otherwise the list is empty.
type Quota struct {
	Name  string // e.g. image_size_total, image_count_total
	Limit int64  // -1 for unlimited
	Usage int64
}

// Usage returns the project's quotas and usage, in the server's order.
func (c *Client) Usage(ctx context.Context) ([]Quota, error) {
	var out struct {
		Usage json.RawMessage `json:"usage"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/info/usage", nil, "", nil, &out); err != nil {
		return nil, err
	}
	if len(out.Usage) == 0 || string(out.Usage) == "null" {
		return nil, nil
	}
	// Walk the object to keep the server's order, which a map loses.
	dec := json.NewDecoder(bytes.NewReader(out.Usage))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("glance: decoding usage: want an object")
	}
	var quotas []Quota
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("glance: decoding usage: %w", err)
		}
		var v struct {
			Limit int64 `json:"limit"`
			Usage int64 `json:"usage"`
		}
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("glance: decoding usage of %v: %w", t, err)
		}
		quotas = append(quotas, Quota{Name: t.(string), Limit: v.Limit, Usage: v.Usage})
	}
	return quotas, nil
}
