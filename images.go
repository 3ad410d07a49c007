package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Image is an image record. Core properties have typed fields; every other
// property of the image is in Properties. Fields keeps the record exactly as
// the server sent it, for callers that print or forward it.
type Image struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	Visibility      string    `json:"visibility"`
	Protected       bool      `json:"protected"`
	Hidden          bool      `json:"os_hidden"`
	Checksum        string    `json:"checksum"`
	HashAlgo        string    `json:"os_hash_algo"`
	HashValue       string    `json:"os_hash_value"`
	Owner           string    `json:"owner"`
	Size            *int64    `json:"size"`
	VirtualSize     *int64    `json:"virtual_size"`
	ContainerFormat string    `json:"container_format"`
	DiskFormat      string    `json:"disk_format"`
	MinRAM          int       `json:"min_ram"`
	MinDisk         int       `json:"min_disk"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	Tags            []string  `json:"tags"`
	DirectURL       string    `json:"direct_url"`
	Stores          string    `json:"stores"`
	Self            string    `json:"self"`
	File            string    `json:"file"`
	Schema          string    `json:"schema"`

	// Properties holds the custom (non-core) properties. Glance stores them as
	// strings; any other JSON value is kept in its JSON text.
	Properties map[string]string `json:"-"`
	// Fields is the whole record as decoded from the server, numbers as json.Number.
	Fields map[string]any `json:"-"`
}

// coreProperties are the image properties with a typed field (or that Glance
// reserves); the rest are custom properties.
var coreProperties = map[string]bool{
	"id": true, "name": true, "status": true, "visibility": true, "protected": true,
	"os_hidden": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true,
	"owner": true, "size": true, "virtual_size": true, "container_format": true,
	"disk_format": true, "min_ram": true, "min_disk": true, "created_at": true,
	"updated_at": true, "tags": true, "direct_url": true, "stores": true, "self": true,
	"file": true, "schema": true, "locations": true,
}

// IsCoreProperty reports whether name is one of Glance's base image properties.
func IsCoreProperty(name string) bool { return coreProperties[name] }

// UnmarshalJSON decodes an image record, tolerating nulls and unknown fields.
func (img *Image) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return err
	}
	type plain Image // no methods: avoids recursion
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("decoding image: %w", err)
	}
	*img = Image(p)
	img.Fields = fields
	img.Properties = map[string]string{}
	for k, v := range fields {
		if coreProperties[k] {
			continue
		}
		switch v := v.(type) {
		case string:
			img.Properties[k] = v
		case nil:
			img.Properties[k] = ""
		default:
			b, _ := json.Marshal(v)
			img.Properties[k] = string(b)
		}
	}
	return nil
}

// MarshalJSON encodes the record as the server sent it when known.
func (img *Image) MarshalJSON() ([]byte, error) {
	if img.Fields != nil {
		return json.Marshal(img.Fields)
	}
	type plain Image
	return json.Marshal((*plain)(img))
}

// CreateOptions are the properties of a new image. Unset fields are not sent
// and the server's defaults apply (visibility "shared" on Glance 25).
type CreateOptions struct {
	ID              string
	Name            string
	Visibility      string // public, private, shared, community
	Protected       *bool
	Hidden          *bool
	ContainerFormat string
	DiskFormat      string
	MinRAM          *int
	MinDisk         *int
	Owner           string
	Tags            []string
	// Properties are custom properties; Glance accepts only string values.
	Properties map[string]string
}

func (o *CreateOptions) body() map[string]any {
	m := map[string]any{}
	for k, v := range o.Properties {
		m[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("id", o.ID)
	set("name", o.Name)
	set("visibility", o.Visibility)
	set("container_format", o.ContainerFormat)
	set("disk_format", o.DiskFormat)
	set("owner", o.Owner)
	if o.Protected != nil {
		m["protected"] = *o.Protected
	}
	if o.Hidden != nil {
		m["os_hidden"] = *o.Hidden
	}
	if o.MinRAM != nil {
		m["min_ram"] = *o.MinRAM
	}
	if o.MinDisk != nil {
		m["min_disk"] = *o.MinDisk
	}
	if o.Tags != nil {
		m["tags"] = o.Tags
	}
	return m
}

// CreateImage registers a new image (status queued, no data yet).
func (c *Client) CreateImage(ctx context.Context, opts *CreateOptions) (*Image, error) {
	if opts == nil {
		opts = &CreateOptions{}
	}
	var img Image
	if _, err := c.doJSON(ctx, http.MethodPost, "/images", nil, "", opts.body(), &img); err != nil {
		return nil, err
	}
	return &img, nil
}

// GetImage returns one image.
func (c *Client) GetImage(ctx context.Context, id string) (*Image, error) {
	if id == "" {
		return nil, fmt.Errorf("glance: get image: empty image ID")
	}
	var img Image
	if _, err := c.doJSON(ctx, http.MethodGet, "/images/"+escape(id), nil, "", nil, &img); err != nil {
		return nil, err
	}
	return &img, nil
}

// DeleteImage deletes an image and its data.
func (c *Client) DeleteImage(ctx context.Context, id string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, "/images/"+escape(id), nil, "", nil, nil)
	return err
}

// DeactivateImage makes an active image's data unavailable to non-admins.
func (c *Client) DeactivateImage(ctx context.Context, id string) error {
	_, err := c.doJSON(ctx, http.MethodPost, "/images/"+escape(id)+"/actions/deactivate", nil, "", nil, nil)
	return err
}

// ReactivateImage makes a deactivated image active again.
func (c *Client) ReactivateImage(ctx context.Context, id string) error {
	_, err := c.doJSON(ctx, http.MethodPost, "/images/"+escape(id)+"/actions/reactivate", nil, "", nil, nil)
	return err
}

// AddTag adds a tag to an image; adding a tag it has already is not an error.
func (c *Client) AddTag(ctx context.Context, id, tag string) error {
	_, err := c.doJSON(ctx, http.MethodPut, "/images/"+escape(id)+"/tags/"+escape(tag), nil, "", nil, nil)
	return err
}

// DeleteTag removes a tag from an image.
func (c *Client) DeleteTag(ctx context.Context, id, tag string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, "/images/"+escape(id)+"/tags/"+escape(tag), nil, "", nil, nil)
	return err
}

// PatchMediaType is the JSON-Patch dialect this client sends.
const PatchMediaType = "application/openstack-images-v2.1-json-patch"

// PatchOp is one JSON-Patch operation on an image.
type PatchOp struct {
	Op    string `json:"op"` // add, replace or remove
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// MarshalJSON keeps "value" for add and replace even when it is null or empty.
func (p PatchOp) MarshalJSON() ([]byte, error) {
	if p.Op == "remove" {
		return json.Marshal(struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		}{p.Op, p.Path})
	}
	return json.Marshal(struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}{p.Op, p.Path, p.Value})
}

// Pointer returns the JSON pointer of a top-level property.
func Pointer(property string) string {
	return "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(property)
}

// Add returns an operation that sets property (Glance overwrites an existing one).
func Add(property string, value any) PatchOp {
	return PatchOp{Op: "add", Path: Pointer(property), Value: value}
}

// Replace returns an operation that changes an existing property.
func Replace(property string, value any) PatchOp {
	return PatchOp{Op: "replace", Path: Pointer(property), Value: value}
}

// Remove returns an operation that deletes a custom property.
func Remove(property string) PatchOp {
	return PatchOp{Op: "remove", Path: Pointer(property)}
}

// UpdateImage applies ops atomically and returns the updated image.
func (c *Client) UpdateImage(ctx context.Context, id string, ops ...PatchOp) (*Image, error) {
	if len(ops) == 0 {
		return c.GetImage(ctx, id)
	}
	var img Image
	if _, err := c.doJSON(ctx, http.MethodPatch, "/images/"+escape(id), nil, PatchMediaType, ops, &img); err != nil {
		return nil, err
	}
	return &img, nil
}

// UpdateOps computes the operations that set the given properties and remove
// others on img, the way python-glanceclient's image-update does: base
// properties and existing ones are replaced, new ones added, and only
// properties that exist are removed. Removing a property that is also set is
// an error.
func UpdateOps(img *Image, set map[string]any, remove []string) ([]PatchOp, error) {
	var ops []PatchOp
	for _, k := range remove {
		if _, ok := set[k]; ok {
			return nil, fmt.Errorf("property %q is both set and removed", k)
		}
		if coreProperties[k] {
			return nil, fmt.Errorf("property %q is a base property and cannot be removed", k)
		}
		if _, ok := img.Fields[k]; ok {
			ops = append(ops, Remove(k))
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, ok := img.Fields[k]; ok || coreProperties[k] {
			ops = append(ops, Replace(k, set[k]))
		} else {
			ops = append(ops, Add(k, set[k]))
		}
	}
	return ops, nil
}

// ListOptions select, order and page an image list. Text filters take a plain
// value or an operator form the server understands ("in:a,b" for name, id,
// status and formats; "gt:2024-01-01T00:00:00Z" and gte, lt, lte, eq, neq for
// CreatedAt and UpdatedAt). Glance reads a value with a colon as an
// operator and its operand, so a literal "debian:12" must be given as
// In("debian:12"); In also quotes commas.
type ListOptions struct {
	Name, ID, Status, Visibility, MemberStatus, Owner string
	ContainerFormat, DiskFormat, Checksum, HashValue  string
	CreatedAt, UpdatedAt                              string
	Hidden, Protected                                 *bool
	Tags                                              []string // every tag must match
	SizeMin, SizeMax                                  *int64
	// Properties filters on custom properties by equality.
	Properties map[string]string
	// Filters are sent as given, for filters without a field here.
	Filters url.Values

	// Sort is the "key[:dir],key[:dir]" form. SortKeys/SortDirs are the classic
	// repeated form; the two may not be mixed.
	Sort     string
	SortKeys []string
	SortDirs []string

	// Limit caps the number of images returned in all; 0 means no cap.
	Limit int
	// PageSize is the number of images asked for per request; 0 means the
	// server's default.
	PageSize int
	// Marker starts the list after this image ID.
	Marker string
}

// In builds an "in:" filter value, quoting values that contain commas.
func In(values ...string) string {
	q := make([]string, len(values))
	for i, v := range values {
		if strings.ContainsAny(v, `,"`) {
			v = `"` + v + `"`
		}
		q[i] = v
	}
	return "in:" + strings.Join(q, ",")
}

// SortKeys are the keys Glance sorts images by.
var SortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

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
	set("id", o.ID)
	set("status", o.Status)
	set("visibility", o.Visibility)
	set("member_status", o.MemberStatus)
	set("owner", o.Owner)
	set("container_format", o.ContainerFormat)
	set("disk_format", o.DiskFormat)
	set("checksum", o.Checksum)
	set("os_hash_value", o.HashValue)
	set("created_at", o.CreatedAt)
	set("updated_at", o.UpdatedAt)
	set("marker", o.Marker)
	if o.Hidden != nil {
		q.Set("os_hidden", strconv.FormatBool(*o.Hidden))
	}
	if o.Protected != nil {
		q.Set("protected", strconv.FormatBool(*o.Protected))
	}
	for _, t := range o.Tags {
		q.Add("tag", t)
	}
	if o.SizeMin != nil {
		q.Set("size_min", strconv.FormatInt(*o.SizeMin, 10))
	}
	if o.SizeMax != nil {
		q.Set("size_max", strconv.FormatInt(*o.SizeMax, 10))
	}
	for k, v := range o.Properties {
		q.Set(k, v)
	}
	if o.Sort != "" && (len(o.SortKeys) > 0 || len(o.SortDirs) > 0) {
		return nil, fmt.Errorf("glance: sort and sort keys/directions cannot be combined")
	}
	if o.Sort != "" {
		for _, part := range strings.Split(o.Sort, ",") {
			key, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			if err := checkSort(key, dir); err != nil {
				return nil, err
			}
		}
		q.Set("sort", o.Sort)
	}
	if len(o.SortDirs) > 1 && len(o.SortDirs) != len(o.SortKeys) {
		return nil, fmt.Errorf("glance: %d sort directions for %d sort keys", len(o.SortDirs), len(o.SortKeys))
	}
	for i, k := range o.SortKeys {
		dir := ""
		if i < len(o.SortDirs) {
			dir = o.SortDirs[i]
		}
		if err := checkSort(k, dir); err != nil {
			return nil, err
		}
		q.Add("sort_key", k)
	}
	if len(o.SortDirs) > 0 && len(o.SortKeys) == 0 {
		return nil, fmt.Errorf("glance: a sort direction needs a sort key")
	}
	for _, d := range o.SortDirs {
		q.Add("sort_dir", d)
	}
	return q, nil
}

func checkSort(key, dir string) error {
	if !slices.Contains(SortKeys, key) {
		return fmt.Errorf("glance: invalid sort key %q (valid: %s)", key, strings.Join(SortKeys, ", "))
	}
	if dir != "" && dir != "asc" && dir != "desc" {
		return fmt.Errorf("glance: invalid sort direction %q (valid: asc, desc)", dir)
	}
	return nil
}

// ImagePage is one page of an image list.
type ImagePage struct {
	Images []*Image `json:"images"`
	Next   string   `json:"next"`  // path of the next page, empty on the last
	First  string   `json:"first"` // path of the first page
	Schema string   `json:"schema"`
}

// ListImagesPage fetches one page. To fetch the page after it, pass its Next
// to NextImagesPage.
func (c *Client) ListImagesPage(ctx context.Context, opts *ListOptions) (*ImagePage, error) {
	if opts == nil {
		opts = &ListOptions{}
	}
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	limit := opts.PageSize
	if opts.Limit > 0 && (limit == 0 || opts.Limit < limit) {
		limit = opts.Limit
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var page ImagePage
	if _, err := c.doJSON(ctx, http.MethodGet, "/images", q, "", nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// NextImagesPage fetches the page a previous page's Next names.
func (c *Client) NextImagesPage(ctx context.Context, next string) (*ImagePage, error) {
	var page ImagePage
	if _, err := c.doJSON(ctx, http.MethodGet, c.resolve(next), nil, "", nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// resolve turns a server-given path such as "/v2/images?marker=x" into a URL
// under the endpoint root, so that an endpoint behind a path prefix
// (http://host/image) keeps its prefix.
func (c *Client) resolve(link string) string {
	if strings.HasPrefix(link, "http://") || strings.HasPrefix(link, "https://") {
		return link
	}
	return c.root + "/" + strings.TrimLeft(link, "/")
}

// ListImages iterates over the images that match opts, fetching pages as
// the loop needs them. An error ends the iteration after it is yielded.
func (c *Client) ListImages(ctx context.Context, opts *ListOptions) iter.Seq2[*Image, error] {
	return func(yield func(*Image, error) bool) {
		if opts == nil {
			opts = &ListOptions{}
		}
		page, err := c.ListImagesPage(ctx, opts)
		n := 0
		for {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, img := range page.Images {
				if !yield(img, nil) {
					return
				}
				n++
				if opts.Limit > 0 && n >= opts.Limit {
					return
				}
			}
			if page.Next == "" || len(page.Images) == 0 {
				return
			}
			next := page.Next
			if opts.Limit > 0 {
				next = withLimit(next, opts.Limit-n, opts.PageSize)
			}
			page, err = c.NextImagesPage(ctx, next)
		}
	}
}

// withLimit lowers the limit of a next link to what is still wanted.
func withLimit(link string, remaining, pageSize int) string {
	path, rawq, _ := strings.Cut(link, "?")
	q, err := url.ParseQuery(rawq)
	if err != nil {
		return link
	}
	limit := remaining
	if pageSize > 0 && pageSize < limit {
		limit = pageSize
	}
	q.Set("limit", strconv.Itoa(limit))
	return path + "?" + q.Encode()
}
