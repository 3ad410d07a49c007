package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// v1 members have no status of their own: a v1 membership is a v2 one
// (pending until the member accepts it through v2) with can_share, which
// lets the member share the image further.

// maxMembers is Glance's image_member_quota.
const maxMembers = 128

func appendV1Member(b []byte, key, id string, canShare bool) []byte {
	b = append(b, `{"`+key+`": `...)
	b = appendJSONString(b, id)
	b = append(b, `, "can_share": `...)
	b = append(b, map[bool]string{true: "true", false: "false"}[canShare]...)
	return append(b, '}')
}

func (s *Server) v1ListMembers(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	id := r.PathValue("id")
	im, err := s.getImage(r.Context(), c, id)
	if ae, ok := err.(*apiError); ok && ae.code == http.StatusNotFound {
		return errorf(http.StatusNotFound, "Image with identifier %s not found", id)
	}
	if err != nil {
		return err
	}
	if err := s.authorizeMember(c, im, "get_members"); err != nil {
		return err
	}
	ms, err := s.meta.ListMembers(r.Context(), im.ID)
	if err != nil {
		return err
	}
	b := []byte(`{"members": [`)
	n := 0
	for _, m := range ms {
		if !seesMember(c, im, m.MemberID) {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = appendV1Member(b, "member_id", m.MemberID, m.CanShare)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
	return nil
}

// v1SharableImage loads the image of a member change and checks that the
// caller may share it: rule (add_member or delete_member) allows it, or the
// caller's project is a member with can_share, as Glance's v1 let it be.
func (s *Server) v1SharableImage(r *http.Request, rule string) (*store.Image, error) {
	c := callerFrom(r.Context())
	if c.ProjectID == "" && !c.Admin {
		return nil, errorf(http.StatusUnauthorized, "No authenticated user")
	}
	id := r.PathValue("id")
	im, err := s.getImage(r.Context(), c, id)
	if ae, ok := err.(*apiError); ok && ae.code == http.StatusNotFound {
		return nil, errorf(http.StatusNotFound, "Image with identifier %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	if im.Visibility != "shared" {
		return nil, errorf(http.StatusForbidden, "%s", errNotShared)
	}
	return im, s.v1MayShare(r, im, rule)
}

// v1MayShare is the sharing check of v1SharableImage on a loaded image.
func (s *Server) v1MayShare(r *http.Request, im *store.Image, rule string) error {
	c := callerFrom(r.Context())
	if s.allowedImage(c, im, rule) {
		return nil
	}
	if m, err := s.meta.GetMember(r.Context(), im.ID, c.ProjectID); err == nil && m.CanShare {
		return nil
	}
	return errorf(http.StatusForbidden, "No permission to share that image")
}

// readV1Body decodes an optional JSON body into v.
func readV1Body(r *http.Request, v any) (bool, error) {
	if !hasBody(r) {
		return false, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return false, errorf(http.StatusBadRequest, "Could not read the request body: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, errorf(http.StatusBadRequest, "Invalid membership association: %v", err)
	}
	return true, nil
}

// v1AddMember adds a membership or changes its can_share (PUT one).
func (s *Server) v1AddMember(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Member *struct {
			CanShare *bool `json:"can_share"`
		} `json:"member"`
	}
	given, err := readV1Body(r, &body)
	if err != nil {
		return err
	}
	if given && (body.Member == nil || body.Member.CanShare == nil) {
		return errorf(http.StatusBadRequest, "Invalid membership association: 'can_share'")
	}
	im, err := s.v1SharableImage(r, "add_member")
	if err != nil {
		return err
	}
	var canShare *bool
	if given {
		canShare = body.Member.CanShare
	}
	if err := s.v1SetMember(r, im.ID, r.PathValue("member"), canShare); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// v1SetMember adds memberID (can_share false unless given) or updates its
// can_share when given.
func (s *Server) v1SetMember(r *http.Request, imageID, memberID string, canShare *bool) error {
	ctx := r.Context()
	now := time.Now().UTC()
	m, err := s.meta.GetMember(ctx, imageID, memberID)
	if err == nil {
		if canShare == nil || *canShare == m.CanShare {
			return nil
		}
		m.CanShare, m.UpdatedAt = *canShare, now
		return s.meta.UpdateMember(ctx, m)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	ms, err := s.meta.ListMembers(ctx, imageID)
	if err != nil {
		return err
	}
	if len(ms) >= maxMembers {
		return errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d", len(ms)+1, maxMembers)
	}
	m = &store.Member{ImageID: imageID, MemberID: memberID, Status: "pending", CreatedAt: now, UpdatedAt: now,
		CanShare: canShare != nil && *canShare}
	if err := s.meta.AddMember(ctx, m); err != nil && !errors.Is(err, store.ErrDuplicate) {
		return err
	}
	return nil
}

// v1ReplaceMembers makes the image's members those of the body (PUT list).
func (s *Server) v1ReplaceMembers(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Memberships *[]struct {
			MemberID string `json:"member_id"`
			CanShare *bool  `json:"can_share"`
		} `json:"memberships"`
	}
	if _, err := readV1Body(r, &body); err != nil {
		return err
	}
	if body.Memberships == nil {
		return errorf(http.StatusBadRequest, "Invalid membership association: 'memberships'")
	}
	list := *body.Memberships
	if len(list) > maxMembers {
		return errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d", len(list), maxMembers)
	}
	keep := map[string]bool{}
	for _, m := range list {
		if m.MemberID == "" {
			return errorf(http.StatusBadRequest, "Invalid membership association: 'member_id'")
		}
		keep[m.MemberID] = true
	}
	im, err := s.v1SharableImage(r, "add_member")
	if err != nil {
		return err
	}
	old, err := s.meta.ListMembers(r.Context(), im.ID)
	if err != nil {
		return err
	}
	var gone []string
	for _, m := range old {
		if !keep[m.MemberID] {
			gone = append(gone, m.MemberID)
		}
	}
	if len(gone) > 0 {
		if err := s.v1MayShare(r, im, "delete_member"); err != nil {
			return err
		}
	}
	for _, id := range gone {
		if err := s.meta.DeleteMember(r.Context(), im.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	for _, m := range list {
		if err := s.v1SetMember(r, im.ID, m.MemberID, m.CanShare); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) v1DeleteMember(w http.ResponseWriter, r *http.Request) error {
	im, err := s.v1SharableImage(r, "delete_member")
	if err != nil {
		return err
	}
	err = s.meta.DeleteMember(r.Context(), im.ID, r.PathValue("member"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "Membership could not be found.")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// v1SharedImages lists the images shared with a project, as far as the
// caller sees their memberships: an admin all, a project its own and those
// of the images it owns.
func (s *Server) v1SharedImages(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	member := r.PathValue("member")
	ims, err := s.meta.ListImages(r.Context(), store.ListQuery{Project: member, Visibility: "shared", MemberStatus: "all"})
	if err != nil {
		return err
	}
	b := []byte(`{"shared_images": [`)
	n := 0
	for _, im := range ims {
		if !seesMember(c, im, member) {
			continue
		}
		m, err := s.meta.GetMember(r.Context(), im.ID, member)
		if errors.Is(err, store.ErrNotFound) {
			continue // the member's own image
		}
		if err != nil {
			return err
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = appendV1Member(b, "image_id", im.ID, m.CanShare)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
	return nil
}
