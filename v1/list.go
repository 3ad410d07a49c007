package v1

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-glance/glance"
)

// DefaultPageSize is how many images a list asks for per request when
// ListOptions.PageSize is 0.
const DefaultPageSize = 200

// ListOptions select, order and page an image list. Filters compare for
// equality; unset ones are not sent.
type ListOptions struct {
	Name, Status, ContainerFormat, DiskFormat string
	SizeMin, SizeMax                          *int64
	MinRAM, MinDisk                           *int
	Protected                                 *bool
	// IsPublic lists public (true) or non-public (false) images only.
	IsPublic *bool
	// AllTenants lists every image, whoever owns it (is_public=None; admins
	// only: Glance ignores it for others).
	AllTenants bool
	// ChangesSince lists the images changed since this ISO 8601 time,
	// deleted ones included.
	ChangesSince string
	// Owner keeps only the images of this project; "" keeps the images
	// without an owner. v1 has no such filter: the list is filtered here, as
	// python-glanceclient does, and asks for every image (is_public=None).
	Owner *string
	// Properties filter on custom properties (property-<key>=<value>).
	Properties map[string]string
	// Filters are sent as given, for filters without a field here.
	Filters url.Values

	// SortKey is one of glance.SortKeys; SortDir is asc or desc. The
	// server's default is created_at, desc.
	SortKey, SortDir string

	// Limit caps the number of images returned in all; 0 means no cap.
	Limit int
	// PageSize is how many images each request asks for. A page shorter
	// than that ends the list, so it should not exceed the server's cap
	// (Glance's api_limit_max, 1000 by default).
	PageSize int
	// Marker starts the list after this image ID.
	Marker string
	// Brief lists from /v1/images, which gives only the ID, name, formats,
	// checksum and size of each image, instead of /v1/images/detail.
	Brief bool
}

func (o *ListOptions) query() (url.Values, error) {
	q := url.Values{}
	for k, vs := range o.Filters {
		q[k] = slices.Clone(vs)
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("name", o.Name)
	set("status", o.Status)
	set("container_format", o.ContainerFormat)
	set("disk_format", o.DiskFormat)
	set("changes-since", o.ChangesSince)
	set("marker", o.Marker)
	for k, n := range map[string]*int64{"size_min": o.SizeMin, "size_max": o.SizeMax} {
		if n != nil {
			q.Set(k, strconv.FormatInt(*n, 10))
		}
	}
	for k, n := range map[string]*int{"min_ram": o.MinRAM, "min_disk": o.MinDisk} {
		if n != nil {
			q.Set(k, strconv.Itoa(*n))
		}
	}
	if o.Protected != nil {
		q.Set("protected", pyBool(*o.Protected))
	}
	for k, v := range o.Properties {
		q.Set("property-"+k, v)
	}
	if err := o.visibility(q); err != nil {
		return nil, err
	}
	if err := o.sort(q); err != nil {
		return nil, err
	}
	return q, nil
}

func (o *ListOptions) visibility(q url.Values) error {
	switch {
	case o.IsPublic != nil && (o.AllTenants || o.Owner != nil):
		return errors.New("glance: IsPublic cannot be combined with AllTenants or Owner")
	case o.IsPublic != nil:
		q.Set("is_public", pyBool(*o.IsPublic))
	case o.AllTenants || o.Owner != nil:
		q.Set("is_public", "None")
	}
	return nil
}

func (o *ListOptions) sort(q url.Values) error {
	if o.SortKey != "" {
		if !slices.Contains(glance.SortKeys, o.SortKey) {
			return fmt.Errorf("glance: invalid sort key %q (valid: %s)", o.SortKey, strings.Join(glance.SortKeys, ", "))
		}
		q.Set("sort_key", o.SortKey)
	}
	if o.SortDir != "" {
		if o.SortDir != "asc" && o.SortDir != "desc" {
			return fmt.Errorf("glance: invalid sort direction %q (valid: asc, desc)", o.SortDir)
		}
		q.Set("sort_dir", o.SortDir)
	}
	return nil
}

// pageLimit is the limit of the next request, with n images already listed.
func (o *ListOptions) pageLimit(n int) int {
	size := o.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	if o.Limit > 0 && o.Owner == nil { // filtered pages may yield fewer
		size = min(size, o.Limit-n)
	}
	return size
}

// ListImagesPage fetches one page of at most limit images after opts.Marker.
// Owner is not applied: it filters whole lists only.
func (c *Client) ListImagesPage(ctx context.Context, opts *ListOptions, limit int) ([]*Image, error) {
	if opts == nil {
		opts = &ListOptions{}
	}
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/images/detail"
	if opts.Brief {
		path = "/images"
	}
	var page struct {
		Images []*Image `json:"images"`
	}
	if err := c.jsonCall(ctx, http.MethodGet, path, q, nil, &page); err != nil {
		return nil, err
	}
	return page.Images, nil
}

// ListImages iterates over the images that match opts, asking for the next
// page (after the last image seen) only when the loop gets there. An error
// ends the iteration after it is yielded.
func (c *Client) ListImages(ctx context.Context, opts *ListOptions) iter.Seq2[*Image, error] {
	return func(yield func(*Image, error) bool) {
		o := ListOptions{}
		if opts != nil {
			o = *opts
		}
		if o.Limit < 0 || o.PageSize < 0 {
			yield(nil, errors.New("glance: list limit and page size must not be negative"))
			return
		}
		n := 0
		for {
			limit := o.pageLimit(n)
			page, err := c.ListImagesPage(ctx, &o, limit)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, img := range page {
				if o.Owner != nil && img.Owner != *o.Owner {
					continue
				}
				if !yield(img, nil) {
					return
				}
				if n++; o.Limit > 0 && n >= o.Limit {
					return
				}
			}
			if len(page) < limit || len(page) == 0 {
				return
			}
			o.Marker = page[len(page)-1].ID
		}
	}
}
