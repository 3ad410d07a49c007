package conformance

import (
	"net/http"
	"testing"
)

// checkMember checks a member object.
func checkMember(t *testing.T, m map[string]any, image, member, status string) {
	t.Helper()
	field(t, m, "image_id", image)
	field(t, m, "member_id", member)
	field(t, m, "status", status)
	field(t, m, "schema", "/v2/schemas/member")
	for _, k := range []string{"created_at", "updated_at"} {
		if v := str(m, k); !timeRE.MatchString(v) {
			t.Errorf("member %s = %#v, want YYYY-MM-DDThh:mm:ssZ", k, m[k])
		}
	}
	if got, want := keys(m), []string{"created_at", "image_id", "member_id", "schema", "status", "updated_at"}; !jsonEqual(got, want) {
		t.Errorf("member fields %v, want %v", got, want)
	}
}

// membersRun holds what testMembers' subtests share: the suite and the
// project images are shared with.
type membersRun struct {
	s    *suite
	beta string
}

func membersPath(id string) string   { return "/v2/images/" + id + "/members" }
func memberPath(id, m string) string { return membersPath(id) + "/" + m }

func (mr *membersRun) setStatus(t *testing.T, role Role, id, m, status string) *resp {
	t.Helper()
	return mr.s.do(t, role, http.MethodPut, memberPath(id, m), map[string]any{"status": status})
}

// listed reports whether role's list for query holds id.
func (mr *membersRun) listed(t *testing.T, role Role, query, id string) bool {
	t.Helper()
	return contains(mr.s.ids(t, role, query), id)
}

func testMembers(t *testing.T, s *suite) {
	mr := &membersRun{s: s, beta: s.project(t, BetaMember)}
	t.Run("Lifecycle", mr.lifecycle)
	mr.sharing(t)
	mr.refused(t)
}

// lifecycle shares an image with beta, which accepts and rejects it, until
// the owner removes the member.
func (mr *membersRun) lifecycle(t *testing.T) {
	s := mr.s
	img := s.active(t, AlphaMember, nil, []byte("shared data"))
	id, name := str(img, "id"), str(img, "name")
	q := "name=" + name
	mr.sharePending(t, id, q)
	mr.memberViews(t, id)
	mr.decide(t, id, q)
	mr.unshare(t, id)
}

// sharePending: sharing an image gives its member access at once; a pending
// image is listed only on request.
func (mr *membersRun) sharePending(t *testing.T, id, q string) {
	s, beta, members, listed := mr.s, mr.beta, membersPath, mr.listed
	r := s.do(t, AlphaMember, http.MethodPost, members(id), map[string]any{"member": beta})
	r.must(t, http.StatusOK)
	r.requestID(t)
	checkMember(t, r.obj(t), id, beta, "pending")

	// Membership grants access at once, but a pending image is only
	// listed on request.
	s.show(t, BetaMember, id)
	s.show(t, BetaReader, id)
	s.do(t, BetaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).expect(t, http.StatusOK)
	if listed(t, BetaMember, q, id) {
		t.Errorf("pending image in the member's default list")
	}
	if !listed(t, BetaMember, q+"&member_status=pending&visibility=shared", id) {
		t.Errorf("pending image missing with member_status=pending&visibility=shared")
	}
	if !listed(t, BetaMember, q+"&member_status=all", id) {
		t.Errorf("pending image missing with member_status=all")
	}
	if listed(t, BetaMember, q+"&member_status=accepted", id) {
		t.Errorf("pending image listed with member_status=accepted")
	}
}

// memberViews: the owner sees all members, the member sees itself.
func (mr *membersRun) memberViews(t *testing.T, id string) {
	s, beta, members, member := mr.s, mr.beta, membersPath, memberPath
	// The owner sees all members, the member sees itself.
	body := s.do(t, AlphaMember, http.MethodGet, members(id), nil).must(t, http.StatusOK).obj(t)
	field(t, body, "schema", "/v2/schemas/members")
	ms := objs(t, body, "members")
	if len(ms) != 1 {
		t.Fatalf("owner sees %d members, want 1", len(ms))
	}
	checkMember(t, ms[0], id, beta, "pending")
	ms = objs(t, s.do(t, BetaReader, http.MethodGet, members(id), nil).must(t, http.StatusOK).obj(t), "members")
	if len(ms) != 1 {
		t.Errorf("member sees %d members, want 1", len(ms))
	}
	checkMember(t, s.do(t, AlphaMember, http.MethodGet, member(id, beta), nil).must(t, http.StatusOK).obj(t), id, beta, "pending")
	checkMember(t, s.do(t, BetaMember, http.MethodGet, member(id, beta), nil).must(t, http.StatusOK).obj(t), id, beta, "pending")
}

// decide: only the member accepts or rejects, which lists the image or not.
func (mr *membersRun) decide(t *testing.T, id, q string) {
	s, beta, members, member, setStatus, listed := mr.s, mr.beta, membersPath, memberPath, mr.setStatus, mr.listed
	// Only the member decides; the owner and readers may not.
	setStatus(t, AlphaMember, id, beta, "accepted").expect(t, http.StatusForbidden)
	setStatus(t, BetaReader, id, beta, "accepted").expect(t, http.StatusForbidden)
	setStatus(t, BetaMember, id, beta, "maybe").expect(t, http.StatusBadRequest)
	s.do(t, BetaMember, http.MethodPut, member(id, beta), map[string]any{}).expect(t, http.StatusBadRequest)

	r := setStatus(t, BetaMember, id, beta, "accepted")
	r.must(t, http.StatusOK)
	checkMember(t, r.obj(t), id, beta, "accepted")
	if !listed(t, BetaMember, q, id) {
		t.Errorf("accepted image missing from the member's default list")
	}
	if !listed(t, BetaMember, q+"&visibility=shared", id) {
		t.Errorf("accepted image missing with visibility=shared")
	}
	ms := objs(t, s.do(t, AlphaMember, http.MethodGet, members(id), nil).must(t, http.StatusOK).obj(t), "members")
	if len(ms) == 1 {
		checkMember(t, ms[0], id, beta, "accepted")
	}

	checkMember(t, setStatus(t, BetaMember, id, beta, "rejected").must(t, http.StatusOK).obj(t), id, beta, "rejected")
	if listed(t, BetaMember, q, id) {
		t.Errorf("rejected image in the member's default list")
	}
	if !listed(t, BetaMember, q+"&member_status=rejected", id) {
		t.Errorf("rejected image missing with member_status=rejected")
	}
	s.show(t, BetaMember, id) // still visible
}

// unshare: the owner, not the member, removes a member, who loses access.
func (mr *membersRun) unshare(t *testing.T, id string) {
	s, beta, members, member := mr.s, mr.beta, membersPath, memberPath
	// The member cannot remove itself; the owner can.
	s.do(t, BetaMember, http.MethodDelete, member(id, beta), nil).expect(t, http.StatusForbidden)
	r := s.do(t, AlphaMember, http.MethodDelete, member(id, beta), nil)
	r.expect(t, http.StatusNoContent)
	r.noBody(t)
	s.do(t, BetaMember, http.MethodGet, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
	s.do(t, AlphaMember, http.MethodGet, member(id, beta), nil).expect(t, http.StatusNotFound)
	s.do(t, AlphaMember, http.MethodDelete, member(id, beta), nil).expect(t, http.StatusNotFound)
	ms := objs(t, s.do(t, AlphaMember, http.MethodGet, members(id), nil).must(t, http.StatusOK).obj(t), "members")
	if len(ms) != 0 {
		t.Errorf("%d members after delete, want 0", len(ms))
	}
}

// sharing: members may not share further; a private image hides its members;
// member_status does not filter the owner's images.
func (mr *membersRun) sharing(t *testing.T) {
	s, beta, members, listed := mr.s, mr.beta, membersPath, mr.listed
	t.Run("MemberCannotShare", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		s.do(t, AlphaMember, http.MethodPost, members(id), map[string]any{"member": beta}).must(t, http.StatusOK)
		// Visible to beta, so a refusal rather than not found.
		s.do(t, BetaMember, http.MethodPost, members(id), map[string]any{"member": s.project(t, Admin)}).
			expect(t, http.StatusForbidden)
		s.patch(t, BetaMember, id, op("replace", "/name", "x")).expect(t, http.StatusForbidden)
		s.do(t, BetaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusForbidden)
	})

	t.Run("VisibilityChange", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		s.do(t, AlphaMember, http.MethodPost, members(id), map[string]any{"member": beta}).must(t, http.StatusOK)
		// Making the image private hides it from members, and keeps them.
		s.patch(t, AlphaMember, id, op("replace", "/visibility", "private")).must(t, http.StatusOK)
		s.do(t, BetaMember, http.MethodGet, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
		s.do(t, AlphaMember, http.MethodGet, members(id), nil).expect(t, http.StatusForbidden)
		s.patch(t, AlphaMember, id, op("replace", "/visibility", "shared")).must(t, http.StatusOK)
		s.show(t, BetaMember, id)
		ms := objs(t, s.do(t, AlphaMember, http.MethodGet, members(id), nil).must(t, http.StatusOK).obj(t), "members")
		if len(ms) != 1 {
			t.Fatalf("%d members after private and back, want 1", len(ms))
		}
		checkMember(t, ms[0], id, beta, "pending")
	})

	t.Run("OwnerListsOwnImages", func(t *testing.T) {
		// member_status filters only images shared with the caller.
		img := s.create(t, AlphaMember, nil)
		q := "name=" + str(img, "name")
		for _, ms := range []string{"pending", "accepted", "rejected", "all"} {
			if !listed(t, AlphaMember, q+"&member_status="+ms, str(img, "id")) {
				t.Errorf("owner's image missing with member_status=%s", ms)
			}
		}
	})
}

// refused: shares Glance refuses, and members of images the caller cannot
// see.
func (mr *membersRun) refused(t *testing.T) {
	s, beta, members, member := mr.s, mr.beta, membersPath, memberPath
	t.Run("Duplicate", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.do(t, AlphaMember, http.MethodPost, members(str(img, "id")), map[string]any{"member": beta}).must(t, http.StatusOK)
		r := s.do(t, AlphaMember, http.MethodPost, members(str(img, "id")), map[string]any{"member": beta})
		r.expect(t, http.StatusConflict)
		r.plainError(t, http.StatusConflict)
	})

	t.Run("Private", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"visibility": "private"})
		r := s.do(t, AlphaMember, http.MethodPost, members(str(img, "id")), map[string]any{"member": beta})
		r.expect(t, http.StatusForbidden)
		r.plainError(t, http.StatusForbidden)
		s.do(t, AlphaMember, http.MethodGet, members(str(img, "id")), nil).expect(t, http.StatusForbidden)
	})

	t.Run("Public", func(t *testing.T) {
		img := s.create(t, Admin, map[string]any{"visibility": "public"})
		s.do(t, Admin, http.MethodPost, members(str(img, "id")), map[string]any{"member": beta}).expect(t, http.StatusForbidden)
	})

	t.Run("BadBody", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		for _, b := range []any{map[string]any{}, map[string]any{"member": ""}, map[string]any{"member_id": beta}} {
			s.do(t, AlphaMember, http.MethodPost, members(str(img, "id")), b).expect(t, http.StatusBadRequest)
		}
	})

	t.Run("Reader", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.do(t, AlphaReader, http.MethodPost, members(str(img, "id")), map[string]any{"member": beta}).
			expect(t, http.StatusForbidden)
		s.do(t, AlphaReader, http.MethodGet, members(str(img, "id")), nil).expect(t, http.StatusOK)
	})

	t.Run("Invisible", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		s.do(t, BetaMember, http.MethodGet, members(id), nil).expect(t, http.StatusNotFound)
		s.do(t, BetaMember, http.MethodPost, members(id), map[string]any{"member": beta}).expect(t, http.StatusNotFound)
		s.do(t, AlphaMember, http.MethodGet, members(newUUID()), nil).expect(t, http.StatusNotFound)
		s.do(t, AlphaMember, http.MethodGet, member(id, beta), nil).expect(t, http.StatusNotFound)
	})
}
