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

func onlyShared(im *store.Image) error {
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Only shared images have members.")
	}
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Not allowed to list members for image %s: Only shared images have members.", im.ID)
	}
	ms, err := s.meta.ListMembers(r.Context(), im.ID)
	if err != nil {
		return err
	}
	b := []byte(`{"members": [`)
	n := 0
	for _, m := range ms {
		if !c.Admin && !owns(c, im) && m.MemberID != c.ProjectID {
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
	im, err := s.modifiableImage(r, "add_member")
	if err != nil {
		return err
	}
	obj, _ := body.(map[string]any)
	mid, _ := obj["member"].(string)
	if mid == "" {
		return errorf(http.StatusBadRequest, "Member to be added not specified")
	}
	if im.Visibility != "shared" {
		return errorf(http.StatusForbidden, "Not allowed to create members for image %s.", im.ID)
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

// member loads one membership the caller may see.
func (s *Server) member(r *http.Request) (*store.Image, *store.Member, error) {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	mid := r.PathValue("member")
	notFound := errorf(http.StatusNotFound, "%s not found in the member list of the image %s.", mid, im.ID)
	if !c.Admin && !owns(c, im) && mid != c.ProjectID {
		return im, nil, notFound
	}
	m, err := s.meta.GetMember(r.Context(), im.ID, mid)
	if errors.Is(err, store.ErrNotFound) {
		return im, nil, notFound
	}
	return im, m, err
}

func (s *Server) showMember(w http.ResponseWriter, r *http.Request) error {
	im, m, err := s.member(r)
	if err != nil {
		return err
	}
	if err := onlyShared(im); err != nil {
		return errorf(http.StatusNotFound, "%s", err.(*apiError).msg)
	}
	writeJSON(w, http.StatusOK, appendMember(nil, m))
	return nil
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	body, err := readBody(r, 64<<10)
	if err != nil {
		return err
	}
	_, m, err := s.member(r)
	if err != nil {
		return err
	}
	if !c.Admin && (m.MemberID != c.ProjectID || !c.canWrite()) {
		return errorf(http.StatusForbidden, "You are not authorized to complete modify_member action.")
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
	m.Status, m.UpdatedAt = status, time.Now().UTC()
	if err := s.meta.UpdateMember(r.Context(), m); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appendMember(nil, m))
	return nil
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, m, err := s.member(r)
	if err != nil {
		return err
	}
	if err := mayModify(c, im, "delete_member"); err != nil {
		return err
	}
	if err := s.meta.DeleteMember(r.Context(), im.ID, m.MemberID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
