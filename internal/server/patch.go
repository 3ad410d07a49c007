package server

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

const (
	patchV20 = "application/openstack-images-v2.0-json-patch"
	patchV21 = "application/openstack-images-v2.1-json-patch"
)

// patchOp is one parsed JSON-Patch operation.
type patchOp struct {
	op    string // add, remove, replace
	key   string // decoded single-level pointer
	value any
}

// parsePatch accepts both of Glance's media types: v2.1 is RFC 6902
// ({"op":..,"path":..}), v2.0 the older draft ({"replace":"/name",..}).
func parsePatch(body any, v20 bool) ([]patchOp, error) {
	list, ok := body.([]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "Request body must be a JSON array of operation objects.")
	}
	ops := make([]patchOp, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "Operations must be JSON objects.")
		}
		var op, path string
		if v20 {
			n := 0
			for _, o := range []string{"add", "remove", "replace"} {
				if p, ok := m[o]; ok {
					n++
					op, _ = p.(string)
					path = op
					op = o
				}
			}
			if n != 1 {
				return nil, errorf(http.StatusBadRequest, "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
			}
		} else {
			o, ok := m["op"].(string)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "Unable to find '%s' in JSON Schema change", "op")
			}
			if o != "add" && o != "remove" && o != "replace" {
				return nil, errorf(http.StatusBadRequest, "Invalid operation: `%s`. It must be one of the following: add, remove, replace.", o)
			}
			p, ok := m["path"].(string)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "Unable to find '%s' in JSON Schema change", "path")
			}
			op, path = o, p
		}
		if !strings.HasPrefix(path, "/") {
			return nil, errorf(http.StatusBadRequest, "Pointer `%s` does not start with \"/\".", path)
		}
		raw := path[1:]
		if strings.Contains(raw, "/") {
			if strings.HasPrefix(raw, "locations/") {
				// Checked against show_multiple_locations by patchLocations.
				ops = append(ops, patchOp{op: op, key: raw, value: m["value"]})
				continue
			}
			return nil, errorf(http.StatusBadRequest, "Invalid JSON pointer for this resource: '%s'", path)
		}
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(raw, "~0", ""), "~1", ""), "~") {
			return nil, errorf(http.StatusBadRequest, "Pointer `%s` contains \"~\" not part of a recognized escape sequence.", path)
		}
		key := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		pop := patchOp{op: op, key: key}
		if op != "remove" {
			v, ok := m["value"]
			if !ok {
				return nil, errorf(http.StatusBadRequest, "Operation \"%s\" requires a member named \"value\".", op)
			}
			pop.value = v
		}
		ops = append(ops, pop)
	}
	return ops, nil
}

func (s *Server) updateImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != patchV20 && mt != patchV21 {
		e := errorf(http.StatusUnsupportedMediaType, "The request media type %s is not supported by this server.\n", r.Header.Get("Content-Type"))
		e.header = http.Header{"Accept-Patch": {patchV20 + ", " + patchV21}}
		return e
	}
	body, err := readBody(r, 1<<20)
	if err != nil {
		return err
	}
	ops, err := parsePatch(body, mt == patchV20)
	if err != nil {
		return err
	}
	cur, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if ops, err = s.patchLocations(ctx, c, cur, ops); err != nil {
		return err
	}
	im, err := s.changeImage(ctx, cur.ID, func(im *store.Image) error {
		hidden := s.hideUnreadable(c, im)
		for _, op := range ops {
			if err := s.authorizePatch(c, im, op); err != nil {
				return err
			}
			if err := s.protectPatch(c, im, op, mt == patchV20); err != nil {
				return err
			}
			if err := applyPatch(im, op, mt == patchV20); err != nil {
				return err
			}
		}
		restoreHidden(im, hidden)
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	s.writeImage(w, http.StatusOK, s.readable(c, im))
	return nil
}

// authorizePatch makes Glance's checks for one change, before it is made:
// the attribute may be written at all, only an admin changes the owner,
// a new visibility has its own rule, and every change needs modify_image.
func (s *Server) authorizePatch(c *caller, im *store.Image, op patchOp) error {
	k := op.key
	switch store.AccessOf(k) {
	case store.ReadOnly, store.CreateOnly:
		return errorf(http.StatusForbidden, "Attribute '%s' is read-only.", k)
	case store.Reserved:
		return errorf(http.StatusForbidden, "Attribute '%s' is reserved.", k)
	}
	if k == "owner" && op.op == "replace" && !c.Admin {
		return denied("Owner can't be updated by non admin.")
	}
	if k == "visibility" && op.op != "remove" {
		v, _ := op.value.(string)
		if err := s.authorizeVisibility(c, v, imageTarget(c, im)); err != nil {
			return err
		}
	}
	return s.authorizeImage(c, im, "modify_image")
}

// applyPatch makes one change to im.
func applyPatch(im *store.Image, op patchOp, v20 bool) error {
	k := op.key
	base := store.IsBase(k)
	switch op.op {
	case "remove":
		if base {
			return denied("Property %s may not be removed.", k)
		}
		if _, ok := im.Properties[k]; !ok {
			return conflict("Property %s does not exist.", k)
		}
		delete(im.Properties, k)
		return nil
	case "replace":
		if !base {
			if _, ok := im.Properties[k]; !ok {
				return conflict("Property %s does not exist.", k)
			}
		}
	case "add":
		if !base && v20 {
			if _, ok := im.Properties[k]; ok {
				return conflict("Property %s already present.", k)
			}
		}
	}
	switch k {
	case "container_format", "disk_format":
		if im.Status != store.StatusQueued && im.Status != store.StatusImporting {
			return errorf(http.StatusForbidden, "Attribute %s can be only replaced for a queued image.", k)
		}
	}
	return setAttr(im, k, op.value)
}
