package server

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/v1header"
)

// v1 carries image metadata in headers: x-image-meta-<field> for the base
// fields, x-image-meta-property-<key> for custom properties. Clients send
// '_' or '-' in names (Glance read '-' as '_'), and percent-encoded values
// (python-glanceclient 4.1 encodes them all).
const (
	v1MetaPrefix = "x-image-meta-"
	v1PropPrefix = "x-image-meta-property-"
	v1TimeFormat = "2006-01-02T15:04:05"
)

// v1HeaderFields are the base fields Glance accepted in x-image-meta-*
// headers; any other is a 400.
var v1HeaderFields = map[string]bool{"location": true, "size": true, "is_public": true, "disk_format": true,
	"container_format": true, "name": true, "status": true, "copy_from": true, "uri": true, "checksum": true,
	"created_at": true, "updated_at": true, "deleted_at": true, "min_ram": true, "min_disk": true, "owner": true,
	"store": true, "id": true, "protected": true, "deleted": true, "virtual_size": true}

// v1Meta is what the headers of a create or update say.
type v1Meta struct {
	fields map[string]string // base fields by name; "" for an empty header (None)
	props  map[string]string // custom properties, names lower-cased
	sizes  map[string]int64  // the integer fields, parsed
}

// parseV1Meta reads the x-image-meta-* headers of a request.
func parseV1Meta(h http.Header) (*v1Meta, error) {
	m := &v1Meta{fields: map[string]string{}, props: map[string]string{}, sizes: map[string]int64{}}
	for name, vals := range h {
		key := strings.ToLower(name)
		rest, ok := strings.CutPrefix(key, v1MetaPrefix)
		if !ok || len(vals) == 0 {
			continue
		}
		v := v1header.DecodeValue(vals[0])
		if !goodText(v) {
			return nil, errBadText
		}
		if p, ok := strings.CutPrefix(key, v1PropPrefix); ok && p != "" {
			p = v1header.DecodeValue(p)
			if !goodText(p) {
				return nil, errBadText
			}
			m.props[strings.ReplaceAll(strings.ToLower(p), "-", "_")] = v
			continue
		}
		f := strings.ReplaceAll(rest, "-", "_")
		if !v1HeaderFields[f] {
			return nil, errorf(http.StatusBadRequest, "Bad header: %s", key)
		}
		m.fields[f] = v
	}
	for _, f := range []string{"size", "min_ram", "min_disk"} {
		v, ok := m.fields[f]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid value '%s' for parameter '%s': Cannot convert image %s '%s' to an integer.", v, f, f, v)
		}
		if n < 0 {
			return nil, errorf(http.StatusBadRequest, "Invalid value '%d' for parameter '%s': Cannot be a negative value.", n, f)
		}
		m.sizes[f] = n
	}
	return m, m.validate()
}

// validate is Glance's validate_image_meta: formats, name and checksum.
func (m *v1Meta) validate() error {
	df, hasDF := m.fields["disk_format"]
	cf, hasCF := m.fields["container_format"]
	if hasDF && !slices.Contains(store.DiskFormats, df) {
		return errorf(http.StatusBadRequest, "Invalid disk format '%s' for image.", df)
	}
	if hasCF && !slices.Contains(store.ContainerFormats, cf) {
		return errorf(http.StatusBadRequest, "Invalid container format '%s' for image.", cf)
	}
	amazon := func(f string) bool { return f == "aki" || f == "ari" || f == "ami" }
	if amazon(df) || amazon(cf) {
		switch {
		case !hasDF:
			m.fields["disk_format"] = cf
		case !hasCF:
			m.fields["container_format"] = df
		case df != cf:
			return errorf(http.StatusBadRequest, "Invalid mix of disk and container formats. When setting a disk or container format to one of 'aki', 'ari', or 'ami', the container and disk formats must match.")
		}
	}
	if n := utf8.RuneCountInString(m.fields["name"]); n > 255 {
		return errorf(http.StatusBadRequest, "Image name too long: %d", n)
	}
	if c := m.fields["checksum"]; len(c) > 32 {
		return errorf(http.StatusBadRequest, "Invalid checksum '%s': can't exceed 32 characters", c)
	}
	if id, ok := m.fields["id"]; ok && !store.UUIDPattern.MatchString(id) {
		return errorf(http.StatusBadRequest, "Invalid image id format")
	}
	return nil
}

// external refuses an external location: glanced would read any URL a
// user names, whenever the image is read, and serve it as the image's data.
// (copy-from is taken, through web-download's fetcher: v1Sources.)
func (m *v1Meta) external() error {
	if src, ok := m.fields["location"]; ok {
		return errorf(http.StatusBadRequest, "External sources are not supported: '%s'", redactURL(src))
	}
	return nil
}

// redactURL drops the credentials of a URL for an error message.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	host, path, _ := strings.Cut(rest, "/")
	if _, h, ok := strings.Cut(host, "@"); ok {
		host = "***@" + h
	}
	if path != "" {
		return scheme + "://" + host + "/" + path
	}
	return scheme + "://" + host
}

// visibility is what is_public asks for: Glance mapped true to public and
// false to shared; "" when not given.
func (m *v1Meta) visibility() string {
	v, ok := m.fields["is_public"]
	switch {
	case !ok:
		return ""
	case v1header.BoolFromString(v):
		return "public"
	}
	return "shared"
}

// apply sets the writable fields of m on im. Owner is an admin's to set
// (Glance ignored it from others); id and status are the caller's checks.
func (m *v1Meta) apply(c *caller, im *store.Image) error {
	str := func(f string, dst **string) {
		if v, ok := m.fields[f]; ok {
			*dst = nil
			if v != "" {
				*dst = &v
			}
		}
	}
	str("name", &im.Name)
	str("disk_format", &im.DiskFormat)
	str("container_format", &im.ContainerFormat)
	if c.Admin {
		str("owner", &im.Owner)
	}
	if n, ok := m.sizes["min_ram"]; ok {
		im.MinRAM = n
	}
	if n, ok := m.sizes["min_disk"]; ok {
		im.MinDisk = n
	}
	if v, ok := m.fields["protected"]; ok {
		im.Protected = v1header.BoolFromString(v)
	}
	if v := m.visibility(); v != "" {
		im.Visibility = v
	}
	keys := make([]string, 0, len(m.props))
	for k := range m.props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if a, known := store.LookupAttr(k); (known && a.Field != nil) || store.AccessOf(k) == store.Reserved {
			return denied("Attribute '%s' is reserved.", k)
		}
		if err := setAttr(im, k, m.props[k]); err != nil {
			return err
		}
	}
	return nil
}

// v1Field is one field of an image record as v1 shows it.
type v1Field struct {
	key string
	val any // nil, string, int64 or bool
}

// v1Record is an image as v1 showed it: visibility as is_public (only
// public is public), deleted images with deleted_at (our deletion time is
// their last update).
func v1Record(im *store.Image) []v1Field {
	opt := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	num := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	deleted := im.Status == store.StatusDeleted
	var deletedAt any
	if deleted {
		deletedAt = im.UpdatedAt.UTC().Format(v1TimeFormat)
	}
	return []v1Field{{"id", im.ID}, {"name", opt(im.Name)}, {"status", im.Status},
		{"size", num(im.Size)}, {"virtual_size", num(im.VirtualSize)},
		{"disk_format", opt(im.DiskFormat)}, {"container_format", opt(im.ContainerFormat)},
		{"checksum", opt(im.Checksum)}, {"min_disk", im.MinDisk}, {"min_ram", im.MinRAM},
		{"is_public", im.Visibility == "public"}, {"protected", im.Protected}, {"owner", opt(im.Owner)},
		{"created_at", im.CreatedAt.UTC().Format(v1TimeFormat)}, {"updated_at", im.UpdatedAt.UTC().Format(v1TimeFormat)},
		{"deleted_at", deletedAt}, {"deleted", deleted}}
}

// v1Properties are the custom properties v1 shows, in order.
func v1Properties(im *store.Image) []string {
	keys := make([]string, 0, len(im.Properties))
	for k := range im.Properties {
		if !store.HiddenProps[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// appendV1Value appends a field's value as JSON.
func appendV1Value(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	}
	return append(b, "null"...)
}

// appendV1Image appends the JSON record of an image; brief is the list's
// short form.
func appendV1Image(b []byte, im *store.Image, brief bool) []byte {
	b = append(b, '{')
	n := 0
	for _, f := range v1Record(im) {
		if brief && !slices.Contains([]string{"id", "name", "size", "disk_format", "container_format", "checksum"}, f.key) {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = appendJSONString(b, f.key)
		b = append(b, ": "...)
		b = appendV1Value(b, f.val)
	}
	if brief {
		return append(b, '}')
	}
	b = append(b, `, "properties": {`...)
	for i, k := range v1Properties(im) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, k)
		b = append(b, ": "...)
		b = appendJSONString(b, im.Properties[k])
	}
	return append(b, "}}"...)
}

// setV1Headers puts an image's metadata in x-image-meta-* headers (values
// with '%' or bytes a header cannot carry percent-encoded), and its
// checksum in ETag.
func setV1Headers(h http.Header, im *store.Image) {
	for _, f := range v1Record(im) {
		var s string
		switch x := f.val.(type) {
		case nil:
			continue
		case string:
			s = x
		case int64:
			s = strconv.FormatInt(x, 10)
		case bool:
			s = "False"
			if x {
				s = "True"
			}
		}
		h[http.CanonicalHeaderKey(v1MetaPrefix+f.key)] = []string{v1header.EncodeValue(s)}
	}
	for _, k := range v1Properties(im) {
		h[http.CanonicalHeaderKey(v1PropPrefix+v1header.EncodeName(strings.ToLower(k)))] =
			[]string{v1header.EncodeValue(im.Properties[k])}
	}
	if im.Checksum != nil {
		h.Set("ETag", *im.Checksum)
	}
}

// writeV1Image answers {"image": {...}}.
func writeV1Image(w http.ResponseWriter, code int, im *store.Image) {
	if im.Checksum != nil {
		w.Header().Set("ETag", *im.Checksum)
	}
	b := append([]byte(`{"image": `), appendV1Image(make([]byte, 0, 1024), im, false)...)
	writeJSON(w, code, append(b, '}'))
}
