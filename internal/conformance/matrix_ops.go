package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// matrixKinds are the kinds of image of the authorization matrix, all
// owned by project alpha. The deactivated one is public, so that every
// actor sees it and each operation's own rule decides.
var matrixKinds = []struct{ name, what string }{
	{"private", "visibility private"},
	{"shared", "visibility shared, no members"},
	{"shared-pending", "shared with beta, beta's membership pending"},
	{"shared-accepted", "shared with beta, beta has accepted"},
	{"public", "visibility public (made so by the admin)"},
	{"community", "visibility community"},
	{"deactivated", "public, with data, deactivated"},
}

// A matrixOp is one operation of the matrix. Those that may change the
// image get an image of their own per cell, in state; the others share
// one active image per kind.
type matrixOp struct {
	name    string
	rule    string // Glance's policy rule that decides it
	changes bool
	state   string
	do      func(s *suite, t *testing.T, a Role, f fixture) Outcome
}

// matrixOps are the operations of the matrix: between them they cover
// Glance's image, member and image-task rules.
var matrixOps = []matrixOp{
	{"show", "get_image", false, "", func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodGet, f.path(), nil))
	}},
	{"list", "get_images", false, "", opList},
	{"update-name", "modify_image", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.patch(t, a, f.id, op("replace", "/name", f.name+"-renamed")))
	}},
	{"publicize", "publicize_image", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.patch(t, a, f.id, op("replace", "/visibility", "public")))
	}},
	{"communitize", "communitize_image", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.patch(t, a, f.id, op("replace", "/visibility", "community")))
	}},
	{"add-tag", "modify_image", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodPut, f.path("/tags/added"), nil))
	}},
	{"delete-tag", "modify_image", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodDelete, f.path("/tags/matrix"), nil))
	}},
	{"upload", "upload_image", true, stQueued, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.upload(t, a, f.id, matrixData))
	}},
	{"stage", "modify_image", true, stQueued, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodPut, f.path("/stage"), raw(matrixData), octet...))
	}},
	{"import", "owner or admin", true, stStaged, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodPost, f.path("/import"),
			map[string]any{"method": map[string]any{"name": "glance-direct"}}))
	}},
	{"download", "download_image", false, "", func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodGet, f.path("/file"), nil))
	}},
	{"deactivate", "deactivate", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodPost, f.path("/actions/deactivate"), nil))
	}},
	{"reactivate", "reactivate", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodPost, f.path("/actions/reactivate"), nil))
	}},
	{"delete", "delete_image", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodDelete, f.path(), nil))
	}},
	{"list-members", "get_members", false, "", func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodGet, f.path("/members"), nil))
	}},
	{"add-member", "add_member", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		// The admin's project: a new member on every kind, beta being one already on some.
		return answer(s.do(t, a, http.MethodPost, f.path("/members"), map[string]any{"member": s.project(t, Admin)}))
	}},
	{"show-member", "get_member", false, "", func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodGet, f.path("/members/", s.project(t, BetaMember)), nil))
	}},
	{"accept-member", "modify_member", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodPut, f.path("/members/", s.project(t, BetaMember)),
			map[string]any{"status": "accepted"}))
	}},
	{"delete-member", "delete_member", true, stActive, func(s *suite, t *testing.T, a Role, f fixture) Outcome {
		return answer(s.do(t, a, http.MethodDelete, f.path("/members/", s.project(t, BetaMember)), nil))
	}},
	{"tasks", "get_image", false, "", opTasks},
}

// answer is the outcome of a request known by its status alone.
func answer(r *resp) Outcome { return Outcome{Status: r.Status} }

// opList lists the images with the fixture's (unique) name, with the
// list's defaults otherwise, and notes whether the image is in it.
func opList(s *suite, t *testing.T, a Role, f fixture) Outcome {
	r := s.do(t, a, http.MethodGet, "/v2/images?name="+url.QueryEscape(f.name), nil)
	o := answer(r)
	if r.Status == http.StatusOK {
		o.Note = "not listed"
		for _, img := range objs(t, r.obj(t), "images") {
			if str(img, "id") == f.id {
				o.Note = "listed"
			}
		}
	}
	return o
}

// opTasks asks for the import tasks of the image, and notes how many
// are shown: Glance shows them to the owner and admins only.
func opTasks(s *suite, t *testing.T, a Role, f fixture) Outcome {
	r := s.do(t, a, http.MethodGet, f.path("/tasks"), nil)
	o := answer(r)
	if r.Status == http.StatusOK {
		o.Note = fmt.Sprintf("%d tasks", len(objs(t, r.obj(t), "tasks")))
	}
	return o
}
