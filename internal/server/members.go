package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-glance/glance/internal/store"
)

func appendMember(b []byte, m *store.Member) []byte {
	b = append(b, `{"created_at": "`...)
	b = m.CreatedAt.UTC().AppendFormat(b, isoTime)
	b = append(b, `", "image_id": `...)
	b = appendJSONString(b, m.ImageID)
	b = append(b, `, "member_id": `...)
	b = appendJSONString(b, m.MemberID)
	b = append(b, `, "schema": "/v2/schemas/member", "status": `...)
	b = appendJSONString(b, m.Status)
	b = append(b, `, "updated_at": "`...)
	b = m.UpdatedAt.UTC().AppendFormat(b, isoTime)
	return append(b, `"}`...)
}

// errNotShared is why an image that is not shared has no members.
const errNotShared = "Only shared images have members."

// memberImage loads the image of a member request: Glance's member API
// finds it as the image API does, with a message of its own.
func (s *Server) memberImage(r *http.Request) (*caller, *store.Image, error) {
	c := callerFrom(r.Context())
	id := r.PathValue("id")
	im, err := s.getImage(r.Context(), c, id)
	if ae, ok := err.(*apiError); ok && ae.code == http.StatusNotFound {
		return nil, nil, errorf(http.StatusNotFound, "Image %s not found.", id)
	}
	return c, im, err
}

// seesMember mirrors the store's rule for memberships: an admin sees all,
// the image owner sees its image's members, a project its own membership.
func seesMember(c *caller, im *store.Image, memberID string) bool {
	return c.Admin || (im.Owner != nil && *im.Owner == c.ProjectID) || memberID == c.ProjectID
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	c, im, err := s.memberImage(r)
	if err != nil {
		return err
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Not allowed to list members for image %s: %s", im.ID, errNotShared)
	}
	if err := s.authorizeMember(c, im, "get_members"); err != nil {
		return err
	}
	ms, err := s.meta.ListMembers(r.Context(), im.ID)
	if err != nil {
		return err
	}
	showAll := s.allowedImage(c, im, "get_member")
	b := []byte(`{"members": [`)
	n := 0
	for _, m := range ms {
		if !showAll || !seesMember(c, im, m.MemberID) {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = appendMember(b, m)
	}
	b = append(b, `], "schema": "/v2/schemas/members"}`...)
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	body, err := readBody(r, 64<<10)
	if err != nil {
		return err
	}
	obj, _ := body.(map[string]any)
	mv, ok := obj["member"]
	if !ok {
		return errorf(http.StatusBadRequest, "Member to be added not specified")
	}
	mid, _ := mv.(string)
	if mid == "" {
		return errorf(http.StatusBadRequest, "Member can't be empty")
	}
	c, im, err := s.memberImage(r)
	if err != nil {
		return err
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Not allowed to create members for image %s.", im.ID)
	}
	if err := s.authorizeMember(c, im, "add_member"); err != nil {
		return err
	}
	ms, err := s.meta.ListMembers(ctx, im.ID)
	if err != nil {
		return err
	}
	if len(ms) >= 128 {
		return errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image members for this image.")
	}
	now := time.Now().UTC()
	m := &store.Member{ImageID: im.ID, MemberID: mid, Status: "pending", CreatedAt: now, UpdatedAt: now}
	if err := s.meta.AddMember(ctx, m); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return errorf(http.StatusConflict, "Member %s is duplicated for image %s", mid, im.ID)
		}
		return err
	}
	writeJSON(w, http.StatusOK, appendMember(nil, m))
	return nil
}

// lookupMember finds one membership as Glance's member API does: get_member
// first, then the store, which shows a non-admin only its own memberships
// and those of images it owns.
func (s *Server) lookupMember(c *caller, r *http.Request, im *store.Image) (*store.Member, error) {
	if err := s.authorizeMember(c, im, "get_member"); err != nil {
		return nil, err
	}
	mid := r.PathValue("member")
	notFound := errorf(http.StatusNotFound, "%s not found in the member list of the image %s.", mid, im.ID)
	if !seesMember(c, im, mid) {
		return nil, notFound
	}
	m, err := s.meta.GetMember(r.Context(), im.ID, mid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	return m, err
}

func (s *Server) showMember(w http.ResponseWriter, r *http.Request) error {
	c, im, err := s.memberImage(r)
	if err != nil {
		return err
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusNotFound, "%s", errNotShared)
	}
	m, err := s.lookupMember(c, r, im)
	if ae, ok := err.(*apiError); ok && ae.code == http.StatusForbidden {
		return errorf(http.StatusNotFound, "%s", ae.msg) // Glance hides a refused lookup
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appendMember(nil, m))
	return nil
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r, 64<<10)
	if err != nil {
		return err
	}
	obj, _ := body.(map[string]any)
	st, ok := obj["status"]
	if !ok {
		return errorf(http.StatusBadRequest, "Status not specified")
	}
	status, _ := st.(string)
	if !oneOf(status, []string{"pending", "accepted", "rejected"}) {
		return errorf(http.StatusBadRequest, "Incorrect request: Status must be \"pending\", \"accepted\" or \"rejected\".")
	}
	c, im, err := s.memberImage(r)
	if err != nil {
		return err
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Not allowed to update members for image %s.", im.ID)
	}
	m, err := s.lookupMember(c, r, im)
	if err != nil {
		return err
	}
	if err := s.authorizeMember(c, im, "modify_member"); err != nil {
		return err
	}
	m.Status, m.UpdatedAt = status, time.Now().UTC()
	if err := s.meta.UpdateMember(r.Context(), m); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appendMember(nil, m))
	return nil
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request) error {
	c, im, err := s.memberImage(r)
	if err != nil {
		return err
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Not allowed to delete members for image %s.", im.ID)
	}
	m, err := s.lookupMember(c, r, im)
	if err != nil {
		return err
	}
	if err := s.authorizeMember(c, im, "delete_member"); err != nil {
		return err
	}
	if err := s.meta.DeleteMember(r.Context(), im.ID, m.MemberID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
