package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// withLocations adds the locations field to a rendered image, as Glance
// shows it with show_multiple_locations.
func (s *Server) withLocations(b []byte, im *store.Image) []byte {
	b = append(b[:len(b)-1], `, "locations": `...)
	return append(s.appendLocations(b, im), '}')
}

// patchLocations applies a PATCH's operations on /locations/... (and on
// /locations, with show_multiple_locations) before the rest, which it
// returns. Each location names data in one of glanced's stores: adding one
// to a queued image copies that data into the image (and makes it
// active), adding one to an active image copies its data to one more
// store; removing one drops the image's data from that store.
func (s *Server) patchLocations(ctx context.Context, c *caller, im *store.Image, ops []patchOp) ([]patchOp, error) {
	var rest []patchOp
	for _, op := range ops {
		pos, isLoc := strings.CutPrefix(op.key, "locations/")
		if !isLoc && !(op.key == "locations" && s.cfg.ShowMultipleLocations) {
			rest = append(rest, op)
			continue
		}
		if !s.cfg.ShowMultipleLocations {
			return nil, errorf(http.StatusForbidden, "It's not allowed to %s locations if locations are invisible.", op.op)
		}
		cur, err := s.getImage(ctx, c, im.ID)
		if err != nil {
			return nil, err
		}
		switch {
		case op.op == "remove" && isLoc:
			err = s.removeLocation(ctx, c, cur, pos)
		case op.op == "add" && isLoc:
			err = s.addPatchLocation(ctx, c, cur, pos, op.value)
		case op.op == "replace" && !isLoc:
			err = s.replaceLocations(ctx, c, cur, op.value)
		default:
			err = errorf(http.StatusBadRequest, "Invalid JSON pointer for this resource: '/%s'", op.key)
		}
		if err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// locationPos reads a position in a list of n: a number, or "-" for the
// end (allowEnd: one past the last, for an insertion).
func locationPos(pos string, n int, allowEnd bool) (int, bool) {
	p := n - 1
	if allowEnd {
		p = n
	}
	if pos != "-" {
		v, err := strconv.Atoi(pos)
		if err != nil {
			return 0, false
		}
		p = v
	}
	return p, p >= 0 && (p < n || allowEnd && p <= n)
}

func (s *Server) removeLocation(ctx context.Context, c *caller, im *store.Image, pos string) error {
	if err := s.authorizeImage(c, im, "delete_image_location"); err != nil {
		return err
	}
	if im.Status != store.StatusActive {
		return errorf(http.StatusConflict, "It's not allowed to remove locations if image status is %s.", im.Status)
	}
	if len(im.Stores) == 1 {
		return errorf(http.StatusForbidden, "Cannot remove last location in the image.")
	}
	p, ok := locationPos(pos, len(im.Stores), false)
	if !ok {
		return errorf(http.StatusBadRequest, "Invalid position for removing a location.")
	}
	sid := im.Stores[p]
	_, err := s.changeImage(ctx, im.ID, func(im *store.Image) error {
		if len(im.Stores) <= 1 || !slices.Contains(im.Stores, sid) {
			return errorf(http.StatusConflict, "The image's locations changed meanwhile.")
		}
		im.Stores = slices.DeleteFunc(im.Stores, func(v string) bool { return v == sid })
		return nil
	})
	if err == nil {
		s.dropCopies(im.ID, []string{sid})
	}
	return err
}

// locationValue reads {"url": ..., "metadata": {...}} and finds the store
// and key the URL names.
func (s *Server) locationValue(v any) (sid, key string, err error) {
	m, ok := v.(map[string]any)
	u, _ := m["url"].(string)
	if !ok || u == "" {
		return "", "", errorf(http.StatusBadRequest, "Invalid location: a location is an object with a url.")
	}
	if sid, key, err = s.parseLocation(u); err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid location: %s does not name data in one of this service's stores.", u)
	}
	return sid, key, nil
}

func (s *Server) addPatchLocation(ctx context.Context, c *caller, im *store.Image, pos string, v any) error {
	if err := s.authorizeImage(c, im, "set_image_location"); err != nil {
		return err
	}
	if im.Status != store.StatusActive && im.Status != store.StatusQueued {
		return errorf(http.StatusConflict, "It's not allowed to add locations if image status is %s.", im.Status)
	}
	if _, ok := locationPos(pos, len(im.Stores), true); !ok {
		return errorf(http.StatusBadRequest, "Invalid position for adding a location.")
	}
	sid, key, err := s.locationValue(v)
	if err != nil {
		return err
	}
	if im.Status == store.StatusQueued {
		if err := s.mayRead(ctx, c, key); err != nil {
			return err
		}
		return s.locateQueued(ctx, im.ID, sid, key)
	}
	if slices.Contains(im.Stores, sid) {
		return errorf(http.StatusBadRequest, "The location %s already exists", s.storeLocation(sid, im.ID))
	}
	if err := s.copyKey(ctx, sid, key, sid, im.ID, *im.Size, sha512Of(im)); err != nil {
		return errorf(http.StatusBadRequest, "Invalid location: its data is not this image's data.")
	}
	return s.recordCopy(ctx, im.ID, sid)
}

// locateQueued gives a queued image the data at key in store sid, now.
func (s *Server) locateQueued(ctx context.Context, id, sid, key string) error {
	l := s.lease(store.LeaseImage, id, store.BlobRef{Store: sid, Key: id})
	_, err := s.changeImageLeased(ctx, id, l, func(im *store.Image) error {
		if err := store.Move(im, store.EvImport, store.StatusImporting); err != nil {
			return errorf(http.StatusConflict, "It's not allowed to add locations if image status is %s.", im.Status)
		}
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	defer s.endWrite(l)
	ctx = withWrite(ctx, l)
	info, err := s.copyLocation(ctx, id, sid, key, nil)
	if err == nil {
		err = s.activate(ctx, id, store.StatusImporting, info)
	}
	if err != nil {
		s.importFailed(context.WithoutCancel(ctx), id, &importJob{method: "location"})
	}
	return err
}

// replaceLocations sets a queued image's locations (the first one gives
// it its data, the others copies), or leaves an image's locations as they
// are; other replacements are refused as Glance refuses them.
func (s *Server) replaceLocations(ctx context.Context, c *caller, im *store.Image, v any) error {
	if err := s.authorizeImage(c, im, "set_image_location"); err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		return errorf(http.StatusBadRequest, "Invalid locations: a list of locations is expected.")
	}
	if im.Status != store.StatusActive && im.Status != store.StatusQueued {
		return errorf(http.StatusConflict, "It's not allowed to replace locations if image status is %s.", im.Status)
	}
	var want []string
	for _, l := range list {
		m, _ := l.(map[string]any)
		u, _ := m["url"].(string)
		want = append(want, u)
	}
	var have []string
	for _, sid := range im.Stores {
		have = append(have, s.storeLocation(sid, im.ID))
	}
	switch {
	case slices.Equal(want, have):
		return nil
	case len(want) == 0:
		return errorf(http.StatusForbidden, "Cannot set locations to empty list.")
	case len(have) > 0:
		return errorf(http.StatusBadRequest, "Cannot replace locations from a non-empty list to a non-empty list.")
	}
	for i, l := range list {
		cur, err := s.getImage(ctx, c, im.ID)
		if err != nil {
			return err
		}
		if err := s.addPatchLocation(ctx, c, cur, strconv.Itoa(i), l); err != nil {
			return err
		}
	}
	return nil
}

// mayRead checks that the caller may read the data a location names: the
// service role may; others only the data of an image they may download, so
// that a location never reveals another project's data.
func (s *Server) mayRead(ctx context.Context, c *caller, key string) error {
	if c.Roles["service"] || s.cfg.Auth == "noauth" {
		return nil
	}
	src, err := s.getImage(ctx, c, key)
	if err == nil {
		err = s.authorizeImage(c, src, "download_image")
	}
	if err != nil {
		return errorf(http.StatusForbidden, "Invalid location: not data this user may read.")
	}
	return nil
}
