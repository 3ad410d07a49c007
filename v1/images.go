package v1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/upload"
)

// ErrNotQueued is matched by errors.Is when data is given for an image that
// is not queued: the v1 API takes an image's data once, while it is queued.
var ErrNotQueued = errors.New("image data can be uploaded only to a queued image")

// ImageMeta is what a create or an update sends. Unset fields are not sent.
type ImageMeta struct {
	// ID reserves this ID for a new image (create only).
	ID              string
	Name            string
	DiskFormat      string
	ContainerFormat string
	Owner           string
	// Size is the size of the data. With data whose length is known (a
	// file) that length is sent; Size must then agree with it.
	Size      *int64
	MinDisk   *int
	MinRAM    *int
	IsPublic  *bool
	Protected *bool
	// Checksum is the MD5 (hex) the data must have; the server refuses data
	// that differs.
	Checksum string
	// Location is a URL where the data already is; the server serves it
	// from there (x-image-meta-location).
	Location string
	// CopyFrom is a URL the server copies the data from, in the background
	// (x-glance-api-copy-from).
	CopyFrom string
	// Store names the backend that uploaded or copied data goes to.
	Store string
	// Properties are custom properties. v1 carries their names in header
	// names, so a name must be in lower case and without '-' (Glance would
	// store it lower-cased, with '_' for '-').
	Properties map[string]string
	// PurgeProps (update only) removes the custom properties that are not
	// in Properties; otherwise they are kept. Glance ignores it when the
	// update carries data.
	PurgeProps bool
}

// header encodes m as x-image-meta-* headers.
func (m *ImageMeta) header(create bool) (http.Header, error) {
	h := http.Header{}
	set := func(field, v string) {
		if v != "" {
			h.Set(metaPrefix+encodeKey(field), encodeValue(v))
		}
	}
	if create {
		set("id", m.ID)
	}
	set("name", m.Name)
	set("disk_format", m.DiskFormat)
	set("container_format", m.ContainerFormat)
	set("owner", m.Owner)
	set("checksum", m.Checksum)
	set("location", m.Location)
	set("store", m.Store)
	if m.Size != nil {
		set("size", strconv.FormatInt(*m.Size, 10))
	}
	for field, n := range map[string]*int{"min_disk": m.MinDisk, "min_ram": m.MinRAM} {
		if n != nil {
			set(field, strconv.Itoa(*n))
		}
	}
	for field, b := range map[string]*bool{"is_public": m.IsPublic, "protected": m.Protected} {
		if b != nil {
			set(field, pyBool(*b))
		}
	}
	if m.CopyFrom != "" {
		h.Set(headerCopyFrom, encodeValue(m.CopyFrom))
	}
	for k, v := range m.Properties {
		if k == "" || strings.Contains(k, "-") || strings.ToLower(k) != k {
			return nil, fmt.Errorf("glance: property name %q cannot be set through the v1 API: names travel in header names, which Glance lower-cases and in which it reads '-' as '_'", k)
		}
		h.Set(propertyPrefix+encodeKey(k), encodeValue(v))
	}
	return h, nil
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// CreateImage registers an image (POST /v1/images). With data, the image's
// data is uploaded in the same request and the image is active when this
// returns; the MD5 and size the server recorded are compared with what was
// sent, and a difference is a *glance.ChecksumError (returned with the image,
// which the server made active). Without data, the image is queued for
// UpdateImage to upload to, or gets its data from meta.Location or
// meta.CopyFrom. If data is an io.Seeker the upload can be sent again after
// a login.
func (c *Client) CreateImage(ctx context.Context, meta *ImageMeta, data io.Reader) (*Image, error) {
	if meta == nil {
		meta = &ImageMeta{}
	}
	if meta.PurgeProps {
		return nil, errors.New("glance: PurgeProps applies to updates, not to a new image")
	}
	h, err := meta.header(true)
	if err != nil {
		return nil, err
	}
	return c.writeImage(ctx, &call{method: http.MethodPost, path: "/images", header: h}, meta, data)
}

// UpdateImage changes an image's metadata (PUT /v1/images/{id}); properties
// not in meta are kept unless meta.PurgeProps. Data may be given only while
// the image is queued: otherwise the error matches ErrNotQueued and nothing
// is sent. An upload is verified as in CreateImage.
func (c *Client) UpdateImage(ctx context.Context, id string, meta *ImageMeta, data io.Reader) (*Image, error) {
	if meta == nil {
		meta = &ImageMeta{}
	}
	if meta.ID != "" && meta.ID != id {
		return nil, fmt.Errorf("glance: the ID of image %s cannot be changed", id)
	}
	if data != nil {
		img, err := c.GetImage(ctx, id)
		if err != nil {
			return nil, err
		}
		if img.Status != "queued" {
			return nil, fmt.Errorf("glance: image %s is %s: %w", id, img.Status, ErrNotQueued)
		}
	}
	h, err := meta.header(false)
	if err != nil {
		return nil, err
	}
	// Glance purges when the header is missing: always say which is meant.
	h.Set(headerPurge, strings.ToLower(pyBool(meta.PurgeProps)))
	return c.writeImage(ctx, &call{method: http.MethodPut, path: "/images/" + escape(id), header: h}, meta, data)
}

// writeImage sends a create or update, with data when there is some, and
// decodes the image in the answer.
func (c *Client) writeImage(ctx context.Context, r *call, meta *ImageMeta, data io.Reader) (*Image, error) {
	r.header.Set("Content-Type", "application/octet-stream")
	var body *upload.Body
	size := int64(-1)
	if data != nil {
		if meta.Location != "" || meta.CopyFrom != "" {
			return nil, errors.New("glance: give image data, a location or a URL to copy from, not several")
		}
		var err error
		if size, err = dataSize(data, meta.Size); err != nil {
			return nil, err
		}
		if size >= 0 {
			r.header.Set(metaPrefix+"size", strconv.FormatInt(size, 10))
		}
		// The server may refuse before reading (a token gone, a bad
		// format): 100-continue lets it say so before the data goes out.
		r.header.Set("Expect", "100-continue")
		body = upload.NewBody(ctx, data)
		r.body, r.size, r.replay = body.First(), size, body.Replay()
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		if body != nil {
			body.Abandon()
		}
		return nil, err
	}
	var out struct {
		Image *Image `json:"image"`
	}
	if err := decodeJSON(resp, &out); err != nil {
		return nil, err
	}
	if out.Image == nil {
		return nil, fmt.Errorf("glance: %s %s: the answer holds no image", r.method, c.base+r.path)
	}
	if body == nil {
		return out.Image, nil
	}
	return out.Image, verifyUpload(out.Image, body, size)
}

// dataSize is the length of the data to send: a file's own, which a given
// size must equal, else the given size, else -1 (sent chunked).
func dataSize(data io.Reader, given *int64) (int64, error) {
	known := upload.Size(data)
	switch {
	case given == nil:
		return known, nil
	case *given < 0:
		return 0, fmt.Errorf("glance: image size %d is negative", *given)
	case known >= 0 && known != *given:
		return 0, fmt.Errorf("glance: the size given, %d, is not the size of the data, %d", *given, known)
	}
	return *given, nil
}

// GetImage returns an image's metadata (HEAD /v1/images/{id}).
func (c *Client) GetImage(ctx context.Context, id string) (*Image, error) {
	if id == "" {
		return nil, errors.New("glance: get image: empty image ID")
	}
	resp, err := c.send(ctx, &call{method: http.MethodHead, path: "/images/" + escape(id)})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return imageFromFields(metaFromHeader(resp.Header)), nil
}

// DeleteImage deletes an image and its data.
func (c *Client) DeleteImage(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("glance: delete image: empty image ID")
	}
	return c.jsonCall(ctx, http.MethodDelete, "/images/"+escape(id), nil, nil, nil)
}
