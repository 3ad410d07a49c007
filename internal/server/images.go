package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

const isoTime = "2006-01-02T15:04:05Z"

var (
	maxTags, maxProps = 128, 128
)

// appendImage renders an image as Glance does: custom properties first,
// then the core attributes, with Python's separators.
func appendImage(b []byte, im *store.Image) []byte {
	b = append(b, '{')
	keys := make([]string, 0, len(im.Properties))
	for k := range im.Properties {
		if !store.HiddenProps[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = appendJSONString(b, k)
		b = append(b, ": "...)
		b = appendJSONString(b, im.Properties[k])
		b = append(b, ", "...)
	}
	key := func(k string) { // a field is `"k": v, `
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `": `...)
	}
	str := func(k string, v *string) {
		key(k)
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, *v)
		}
		b = append(b, ", "...)
	}
	num := func(k string, v *int64) {
		key(k)
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, *v, 10)
		}
		b = append(b, ", "...)
	}
	boolean := func(k string, v bool) {
		key(k)
		b = strconv.AppendBool(b, v)
		b = append(b, ", "...)
	}
	str("name", im.Name)
	str("disk_format", im.DiskFormat)
	str("container_format", im.ContainerFormat)
	str("visibility", &im.Visibility)
	num("size", im.Size)
	num("virtual_size", im.VirtualSize)
	str("status", &im.Status)
	str("checksum", im.Checksum)
	boolean("protected", im.Protected)
	num("min_ram", &im.MinRAM)
	num("min_disk", &im.MinDisk)
	str("owner", im.Owner)
	boolean("os_hidden", im.Hidden)
	str("os_hash_algo", im.HashAlgo)
	str("os_hash_value", im.HashValue)
	str("id", &im.ID)
	b = append(b, `"created_at": "`...)
	b = im.CreatedAt.UTC().AppendFormat(b, isoTime)
	b = append(b, `", "updated_at": "`...)
	b = im.UpdatedAt.UTC().AppendFormat(b, isoTime)
	b = append(b, `", "tags": [`...)
	for i, t := range im.Tags {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, t)
	}
	b = append(b, `], "self": "/v2/images/`...)
	b = append(b, im.ID...)
	b = append(b, `", "file": "/v2/images/`...)
	b = append(b, im.ID...)
	b = append(b, `/file", "schema": "/v2/schemas/image"`...)
	if (im.Status == store.StatusActive || im.Status == store.StatusDeactivated) && len(im.Stores) > 0 {
		b = append(b, `, "stores": `...)
		b = appendJSONString(b, strings.Join(im.Stores, ","))
	}
	return append(b, '}')
}

func (s *Server) writeImage(w http.ResponseWriter, code int, im *store.Image) {
	b := appendImage(make([]byte, 0, 1024), im)
	if s.cfg.ShowMultipleLocations {
		b = s.withLocations(b, im)
	}
	writeJSON(w, code, b)
}

// getImage loads an image the caller may see, else 404.
func (s *Server) getImage(ctx context.Context, c *caller, id string) (*store.Image, error) {
	if len(id) > 36 {
		return nil, notFoundImage(id)
	}
	im, err := s.meta.GetImage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundImage(id)
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.visible(ctx, c, im)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFoundImage(id)
	}
	return im, nil
}

// visible mirrors Glance's is_image_visible.
func (s *Server) visible(ctx context.Context, c *caller, im *store.Image) (bool, error) {
	if c.Admin || im.Owner == nil || im.Visibility == "public" || im.Visibility == "community" ||
		*im.Owner == c.ProjectID {
		return true, nil
	}
	if im.Visibility != "shared" || c.ProjectID == "" {
		return false, nil
	}
	_, err := s.meta.GetMember(ctx, im.ID, c.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// modifiableImage loads the image named in the request path, if the caller
// may see it and the policy allows rule on it.
func (s *Server) modifiableImage(r *http.Request, rule string) (*store.Image, error) {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := s.authorizeImage(c, im, rule); err != nil {
		return nil, err
	}
	return im, nil
}

// changeImage runs fn on the stored image id in a transaction; a vanished
// image is Glance's 404.
func (s *Server) changeImage(ctx context.Context, id string, fn func(*store.Image) error) (*store.Image, error) {
	im, err := s.meta.UpdateImage(ctx, id, fn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundImage(id)
	}
	return im, err
}

// readBody reads a JSON request body.
func readBody(r *http.Request, limit int64) (any, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Could not read the request body: %v", err)
	}
	if int64(len(data)) > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "Request body too large.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errorf(http.StatusBadRequest, "Body expected in request.")
	}
	if err := checkJSONText(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, errorf(http.StatusBadRequest, "Malformed JSON in request body.")
	}
	return v, nil
}

func schemaError(format string, args ...any) *apiError {
	e := errorf(http.StatusBadRequest, format, args...)
	e.msg = "Provided object does not match schema 'image': " + e.msg
	return e
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + x + "'"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func pyList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkValue validates v against the attribute's schema, with the messages
// Glance's JSON-schema validation gives, and returns it in the type of the
// attribute's field (nil for a JSON null).
func checkValue(a *store.Attr, v any) (any, error) {
	switch a.Kind {
	case store.KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, schemaError("%s is not of type 'boolean'", pyRepr(v))
		}
		return b, nil
	case store.KindInt:
		return nonNegInt(a.Name, v)
	case store.KindTags:
		return checkTags(v)
	case store.KindString:
		return checkString(a, v)
	}
	return nil, errorf(http.StatusForbidden, "Attribute '%s' is read-only.", a.Name)
}

func checkString(a *store.Attr, v any) (any, error) {
	if v == nil && a.Nullable {
		return nil, nil
	}
	s, ok := v.(string)
	if a.Pattern != nil && (!ok || !a.Pattern.MatchString(s)) {
		return nil, schemaError("%s does not match %s", pyRepr(v), pyRepr(a.Pattern.String()))
	}
	if a.Enum != nil && !a.Nullable && (!ok || !oneOf(s, a.Enum)) {
		return nil, schemaError("%s is not one of %s", pyRepr(v), pyList(a.Enum))
	}
	if !ok {
		if a.Nullable {
			return nil, schemaError("%s is not of type 'null', 'string'", pyRepr(v))
		}
		return nil, schemaError("%s is not of type 'string'", pyRepr(v))
	}
	if a.MaxLen > 0 && len([]rune(s)) > a.MaxLen {
		return nil, schemaError("%s is too long", pyRepr(v))
	}
	if a.Enum != nil && !oneOf(s, a.Enum) {
		return nil, schemaError("%s is not one of [None, %s", pyRepr(v), pyList(a.Enum)[1:])
	}
	return s, nil
}

func checkTags(v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, schemaError("%s is not of type 'array'", pyRepr(v))
	}
	tags := []string{}
	seen := map[string]bool{}
	for _, t := range l {
		ts, ok := t.(string)
		if !ok {
			return nil, schemaError("%s is not of type 'string'", pyRepr(t))
		}
		if len([]rune(ts)) > 255 {
			return nil, schemaError("%s is too long", pyRepr(t))
		}
		if !seen[ts] {
			seen[ts] = true
			tags = append(tags, ts)
		}
	}
	if len(tags) > maxTags {
		return nil, errorf(http.StatusRequestEntityTooLarge, "Maximum number of tags exceeded.")
	}
	return tags, nil
}

func nonNegInt(key string, v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, schemaError("%s is not of type 'integer'", pyRepr(v))
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, schemaError("%s is not of type 'integer'", pyRepr(v))
	}
	if i < 0 {
		return 0, errorf(http.StatusBadRequest, "Invalid value '%d' for parameter '%s': Cannot be a negative value", i, key)
	}
	return i, nil
}

// setAttr validates and sets one writable attribute: a field of the
// record for the base attributes, a custom property otherwise.
func setAttr(im *store.Image, key string, v any) error {
	a, known := store.LookupAttr(key)
	if !known {
		if len(key) > 255 {
			return errorf(http.StatusBadRequest, "Provided object does not match schema 'image': key %s is too long", pyRepr(key))
		}
		a = &store.Attr{Name: key, Kind: store.KindString}
	}
	val, err := checkValue(a, v)
	if err != nil {
		return err
	}
	if a.Field == nil {
		if val == nil { // a nullable well-known property set to null goes
			delete(im.Properties, key)
			return nil
		}
		if _, exists := im.Properties[key]; !exists && len(im.Properties) >= maxProps {
			return errorf(http.StatusRequestEntityTooLarge, "Maximum number of properties exceeded.")
		}
		im.Properties[key] = val.(string)
		return nil
	}
	switch p := a.Field(im).(type) {
	case **string:
		*p = nil
		if val != nil {
			s := val.(string)
			*p = &s
		}
	case *string:
		*p = val.(string)
	case *bool:
		*p = val.(bool)
	case *int64:
		*p = val.(int64)
	case *[]string:
		*p = val.([]string)
	default:
		return errorf(http.StatusForbidden, "Attribute '%s' is read-only.", key)
	}
	return nil
}

// newImage is a queued image with Glance's defaults, owned by the caller's
// project if it has one.
func newImage(c *caller, now time.Time) *store.Image {
	im := &store.Image{ID: newUUID(), Status: store.StatusQueued, Visibility: "shared", CreatedAt: now, UpdatedAt: now,
		Tags: []string{}, Properties: map[string]string{}}
	if c.ProjectID != "" {
		owner := c.ProjectID
		im.Owner = &owner
	}
	return im
}

func (s *Server) createImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	body, err := readBody(r, 1<<20)
	if err != nil {
		return err
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return errorf(http.StatusBadRequest, "Provided object does not match schema 'image': %s is not of type 'object'", pyRepr(body))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch store.AccessOf(k) {
		case store.ReadOnly:
			return errorf(http.StatusForbidden, "Attribute '%s' is read-only.", k)
		case store.Reserved:
			return denied("Attribute '%s' is reserved.", k)
		}
	}
	im := newImage(c, time.Now().UTC())
	for _, k := range keys {
		if err := setAttr(im, k, obj[k]); err != nil {
			return err
		}
	}
	if err := s.authorizeNewImage(c, obj, im); err != nil {
		return err
	}
	if err := s.enforceCreate(r.Context()); err != nil {
		return err
	}
	if err := s.protectCreate(c, im); err != nil {
		return err
	}
	if err := s.meta.CreateImage(r.Context(), im); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return errorf(http.StatusConflict, "Image ID %s already exists!", im.ID)
		}
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v2/images/"+im.ID)
	w.Header().Set("OpenStack-image-import-methods", strings.Join(s.importMethods, ","))
	w.Header().Set("OpenStack-image-store-ids", strings.Join(s.stores.ids(), ","))
	s.writeImage(w, http.StatusCreated, s.readable(c, im))
	return nil
}

func (s *Server) showImage(w http.ResponseWriter, r *http.Request) error {
	im, err := s.modifiableImage(r, "get_image")
	if err != nil {
		return err
	}
	s.writeImage(w, http.StatusOK, s.readable(callerFrom(r.Context()), im))
	return nil
}

func (s *Server) deleteImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	im, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		if ae, ok := err.(*apiError); ok && ae.code == http.StatusNotFound {
			return errorf(http.StatusNotFound, "Failed to find image %s to delete", r.PathValue("id"))
		}
		return err
	}
	if err := s.authorizeImage(c, im, "delete_image"); err != nil {
		return err
	}
	if im.Protected {
		return errorf(http.StatusForbidden, "Image %s is protected and cannot be deleted.", im.ID)
	}
	if err := s.removeImage(ctx, im); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, "Failed to find image %s to delete", im.ID)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeImage marks an image deleted, then removes its data: metadata
// first, so that a crash between the two leaves only orphaned data, which
// recovery removes.
func (s *Server) removeImage(ctx context.Context, im *store.Image) error {
	if err := s.meta.DeleteImage(ctx, im.ID); err != nil {
		return err
	}
	s.deleteData(ctx, im)
	if err := s.staging.Delete(ctx, im.ID); err != nil {
		s.log.Error("delete staged data", "image", im.ID, "err", err)
	}
	return nil
}

func (s *Server) deactivate(w http.ResponseWriter, r *http.Request) error {
	return s.setActivation(w, r, "deactivate", store.EvDeactivate)
}

func (s *Server) reactivate(w http.ResponseWriter, r *http.Request) error {
	return s.setActivation(w, r, "reactivate", store.EvReactivate)
}

func (s *Server) setActivation(w http.ResponseWriter, r *http.Request, action string, ev store.Event) error {
	im, err := s.modifiableImage(r, action)
	if err != nil {
		return err
	}
	_, err = s.changeImage(r.Context(), im.ID, func(im *store.Image) error {
		to, ok := store.Target(ev, im.Status)
		if !ok {
			return errorf(http.StatusForbidden, "Not allowed to %s image in status '%s'", action, im.Status)
		}
		if to != im.Status {
			im.Status, im.UpdatedAt = to, time.Now().UTC()
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addTag(w http.ResponseWriter, r *http.Request) error {
	return s.changeTag(w, r, true)
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request) error {
	return s.changeTag(w, r, false)
}

func (s *Server) changeTag(w http.ResponseWriter, r *http.Request, add bool) error {
	tag := r.PathValue("tag")
	im, err := s.modifiableImage(r, "modify_image")
	if err != nil {
		return err
	}
	if add && len([]rune(tag)) > 255 {
		return errorf(http.StatusBadRequest, "Provided object does not match schema 'image': %s is too long", pyRepr(tag))
	}
	_, err = s.changeImage(r.Context(), im.ID, func(im *store.Image) error {
		for i, t := range im.Tags {
			if t == tag {
				if add {
					return nil
				}
				im.Tags = append(im.Tags[:i], im.Tags[i+1:]...)
				im.UpdatedAt = time.Now().UTC()
				return nil
			}
		}
		if !add {
			return errorf(http.StatusNotFound, "The resource could not be found.")
		}
		if len(im.Tags) >= maxTags {
			return errorf(http.StatusRequestEntityTooLarge, "Maximum number of tags exceeded.")
		}
		im.Tags = append(im.Tags, tag)
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
