package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

const isoTime = "2006-01-02T15:04:05Z"

var (
	uuidRE            = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)
	visibilities      = []string{"community", "public", "private", "shared"}
	containerFormats  = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	diskFormats       = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	encKeyPolicies    = []string{"on_image_deletion", "do_not_delete"}
	importMethods     = []string{"glance-direct", "web-download"}
	importMethodsHdr  = strings.Join(importMethods, ",")
	maxTags, maxProps = 128, 128
)

// readOnly are attributes a client may never set.
var readOnly = map[string]bool{
	"status": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true, "size": true, "virtual_size": true,
	"created_at": true, "updated_at": true, "direct_url": true, "self": true, "file": true, "schema": true, "stores": true,
}

func reserved(k string) bool {
	return k == "location" || k == "locations" || k == "deleted" || k == "deleted_at" || strings.HasPrefix(k, "os_glance")
}

// baseProps are the core attributes; everything else is a custom property.
var baseProps = map[string]bool{
	"id": true, "name": true, "status": true, "visibility": true, "protected": true, "os_hidden": true,
	"checksum": true, "os_hash_algo": true, "os_hash_value": true, "owner": true, "size": true,
	"virtual_size": true, "container_format": true, "disk_format": true, "created_at": true, "updated_at": true,
	"tags": true, "direct_url": true, "min_ram": true, "min_disk": true, "self": true, "file": true,
	"stores": true, "schema": true, "locations": true,
}

// hiddenProps are stored but never shown.
var hiddenProps = map[string]bool{"os_glance_stage_host": true, "os_glance_hash_op_host": true}

// appendImage renders an image as Glance does: custom properties first,
// then the core attributes, with Python's separators.
func appendImage(b []byte, im *store.Image) []byte {
	b = append(b, '{')
	keys := make([]string, 0, len(im.Properties))
	for k := range im.Properties {
		if !hiddenProps[k] {
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
	writeJSON(w, code, appendImage(make([]byte, 0, 1024), im))
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

func owns(c *caller, im *store.Image) bool {
	return im.Owner != nil && *im.Owner == c.ProjectID
}

// modifiableImage loads the image named in the request path, if the caller
// may see it and may do action to it.
func (s *Server) modifiableImage(r *http.Request, action string) (*store.Image, error) {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := mayModify(c, im, action); err != nil {
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

// mayModify is Glance's modify_image family of policies: admin, or a member
// of the owning project.
func mayModify(c *caller, im *store.Image, action string) error {
	if c.Admin || (c.canWrite() && owns(c, im)) {
		return nil
	}
	return errorf(http.StatusForbidden, "You are not authorized to complete %s action.", action)
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

func optString(key string, v any, max int, enum []string) (*string, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, schemaError("%s is not of type 'null', 'string'", pyRepr(v))
	}
	if max > 0 && len([]rune(s)) > max {
		return nil, schemaError("%s is too long", pyRepr(v))
	}
	if enum != nil && !oneOf(s, enum) {
		return nil, schemaError("%s is not one of [None, %s", pyRepr(v), pyList(enum)[1:])
	}
	return &s, nil
}

func pyList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
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

// setAttr validates and sets one writable attribute (core or custom).
func setAttr(im *store.Image, key string, v any) error {
	switch key {
	case "name":
		p, err := optString(key, v, 255, nil)
		im.Name = p
		return err
	case "visibility":
		s, ok := v.(string)
		if !ok || !oneOf(s, visibilities) {
			return schemaError("%s is not one of %s", pyRepr(v), pyList(visibilities))
		}
		im.Visibility = s
	case "protected", "os_hidden":
		b, ok := v.(bool)
		if !ok {
			return schemaError("%s is not of type 'boolean'", pyRepr(v))
		}
		if key == "protected" {
			im.Protected = b
		} else {
			im.Hidden = b
		}
	case "container_format":
		p, err := optString(key, v, 0, containerFormats)
		im.ContainerFormat = p
		return err
	case "disk_format":
		p, err := optString(key, v, 0, diskFormats)
		im.DiskFormat = p
		return err
	case "owner":
		p, err := optString(key, v, 255, nil)
		im.Owner = p
		return err
	case "min_ram", "min_disk":
		n, err := nonNegInt(key, v)
		if err != nil {
			return err
		}
		if key == "min_ram" {
			im.MinRAM = n
		} else {
			im.MinDisk = n
		}
	case "tags":
		l, ok := v.([]any)
		if !ok {
			return schemaError("%s is not of type 'array'", pyRepr(v))
		}
		tags := []string{}
		seen := map[string]bool{}
		for _, t := range l {
			ts, ok := t.(string)
			if !ok {
				return schemaError("%s is not of type 'string'", pyRepr(t))
			}
			if len([]rune(ts)) > 255 {
				return schemaError("%s is too long", pyRepr(t))
			}
			if !seen[ts] {
				seen[ts] = true
				tags = append(tags, ts)
			}
		}
		if len(tags) > maxTags {
			return errorf(http.StatusRequestEntityTooLarge, "Maximum number of tags exceeded.")
		}
		im.Tags = tags
	case "id":
		s, ok := v.(string)
		if !ok || !uuidRE.MatchString(s) {
			return schemaError("%s does not match %s", pyRepr(v), pyRepr(uuidRE.String()))
		}
		im.ID = s
	default:
		if len(key) > 255 {
			return errorf(http.StatusBadRequest, "Provided object does not match schema 'image': key %s is too long", pyRepr(key))
		}
		switch key {
		case "kernel_id", "ramdisk_id":
			if v == nil {
				delete(im.Properties, key)
				return nil
			}
			if s, ok := v.(string); !ok || !uuidRE.MatchString(s) {
				return schemaError("%s does not match %s", pyRepr(v), pyRepr(uuidRE.String()))
			}
		case "cinder_encryption_key_deletion_policy":
			if s, ok := v.(string); !ok || !oneOf(s, encKeyPolicies) {
				return schemaError("%s is not one of %s", pyRepr(v), pyList(encKeyPolicies))
			}
		}
		s, ok := v.(string)
		if !ok {
			return schemaError("%s is not of type 'string'", pyRepr(v))
		}
		if _, exists := im.Properties[key]; !exists && len(im.Properties) >= maxProps {
			return errorf(http.StatusRequestEntityTooLarge, "Maximum number of properties exceeded.")
		}
		im.Properties[key] = s
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
		if readOnly[k] {
			return errorf(http.StatusForbidden, "Attribute '%s' is read-only.", k)
		}
		if reserved(k) {
			return denied("Attribute '%s' is reserved.", k)
		}
	}
	im := newImage(c, time.Now().UTC())
	for _, k := range keys {
		if err := setAttr(im, k, obj[k]); err != nil {
			return err
		}
	}
	if !c.Admin {
		if !c.canWrite() {
			return errorf(http.StatusForbidden, "You are not authorized to complete add_image action.")
		}
		if im.Owner == nil || *im.Owner != c.ProjectID {
			o := "None"
			if im.Owner != nil {
				o = *im.Owner
			}
			return denied("You are not permitted to create images owned by '%s'", o)
		}
		if im.Visibility == "public" {
			return errorf(http.StatusForbidden, "You are not authorized to complete publicize_image action.")
		}
	}
	if err := s.meta.CreateImage(r.Context(), im); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return errorf(http.StatusConflict, "Image ID %s already exists!", im.ID)
		}
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v2/images/"+im.ID)
	w.Header().Set("OpenStack-image-import-methods", importMethodsHdr)
	w.Header().Set("OpenStack-image-store-ids", strings.Join(s.stores.ids(), ","))
	s.writeImage(w, http.StatusCreated, im)
	return nil
}

func (s *Server) showImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	if !c.canRead() {
		return errorf(http.StatusForbidden, "You are not authorized to complete get_image action.")
	}
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeImage(w, http.StatusOK, im)
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
	if err := mayModify(c, im, "delete_image"); err != nil {
		return err
	}
	if im.Protected {
		return errorf(http.StatusForbidden, "Image %s is protected and cannot be deleted.", im.ID)
	}
	if err := s.meta.DeleteImage(ctx, im.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, "Failed to find image %s to delete", im.ID)
		}
		return err
	}
	// Metadata first: a crash between the two leaves only orphaned data,
	// which recovery removes.
	s.deleteData(ctx, im)
	if err := s.staging.Delete(ctx, im.ID); err != nil {
		s.log.Error("delete staged data", "image", im.ID, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deactivate(w http.ResponseWriter, r *http.Request) error {
	return s.setActivation(w, r, "deactivate", store.StatusActive, store.StatusDeactivated)
}

func (s *Server) reactivate(w http.ResponseWriter, r *http.Request) error {
	return s.setActivation(w, r, "reactivate", store.StatusDeactivated, store.StatusActive)
}

func (s *Server) setActivation(w http.ResponseWriter, r *http.Request, action, from, to string) error {
	im, err := s.modifiableImage(r, action)
	if err != nil {
		return err
	}
	_, err = s.changeImage(r.Context(), im.ID, func(im *store.Image) error {
		switch im.Status {
		case to:
			return nil
		case from:
			im.Status, im.UpdatedAt = to, time.Now().UTC()
			return nil
		}
		return errorf(http.StatusForbidden, "Not allowed to %s image in status '%s'", action, im.Status)
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
