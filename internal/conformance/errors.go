package conformance

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// webobTitles are the reason phrases Glance's error bodies use where
// they differ from net/http's.
var webobTitles = map[int]string{
	http.StatusRequestEntityTooLarge:        "Request Entity Too Large",
	http.StatusRequestURITooLong:            "Request-URI Too Long",
	http.StatusRequestedRangeNotSatisfiable: "Request Range Not Satisfiable",
}

// statusTitle is the reason phrase of code in error bodies.
func statusTitle(code int) string {
	if s, ok := webobTitles[code]; ok {
		return s
	}
	return http.StatusText(code)
}

// statusCode is how Glance names a status in error bodies: "404 Not Found".
func statusCode(code int) string {
	return strconv.Itoa(code) + " " + statusTitle(code)
}

// plainError checks an error response to a request without Accept: a
// text/plain body that starts with the status line.
func (r *resp) plainError(t *testing.T, code int) {
	t.Helper()
	if r.Status != code {
		return // the status check has already reported it
	}
	want := statusCode(code)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("%s: Content-Type %q, want text/plain", r.what, ct)
	}
	if !strings.HasPrefix(string(r.Body), want+"\n") {
		t.Errorf("%s: body %q, want it to start with %q", r.what, r.Body, want)
	}
}

// jsonError checks an error answered to Accept: application/json:
// {"message": string, "code": "404 Not Found", "title": "Not Found"}.
// It returns the message.
func (r *resp) jsonError(t *testing.T, code int) string {
	t.Helper()
	if !r.expect(t, code) {
		return ""
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", r.what, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Errorf("%s: error body is not JSON: %v", r, err)
		return ""
	}
	if got := keys(m); !slices.Equal(got, []string{"code", "message", "title"}) {
		t.Errorf("%s: error fields %v, want code, message, title", r.what, got)
	}
	field(t, m, "code", statusCode(code))
	field(t, m, "title", statusTitle(code))
	fieldType(t, m, "message", "string")
	return str(m, "message")
}

// htmlError checks an error answered to Accept: text/html.
func (r *resp) htmlError(t *testing.T, code int) {
	t.Helper()
	if !r.expect(t, code) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %q, want text/html", r.what, ct)
	}
	for _, want := range []string{"<html>", "<title>" + statusCode(code) + "</title>", "<h1>" + statusCode(code) + "</h1>", "</html>"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("%s: HTML error body lacks %q", r, want)
		}
	}
}

// errCase is one request that must fail with code; want, if set, is
// part of the message.
type errCase struct {
	name   string
	role   Role
	method string
	path   string
	body   any
	hdr    []string
	code   int
	want   string
}

func testErrors(t *testing.T, s *suite) {
	img := s.create(t, AlphaMember, nil)
	id := str(img, "id")
	unknown := newUUID()

	errorStatuses(t, s, id, unknown)
	errorBodies(t, s, id, unknown)
	errorRequestIDs(t, s, unknown)
	errorAllow(t, s, id)
}

// errorStatuses: one request for each common error status, its error in each
// media type.
func errorStatuses(t *testing.T, s *suite, id, unknown string) {
	// One request for each common error status.
	cases := []errCase{
		{"BadRequest", AlphaMember, http.MethodGet, "/v2/images?limit=x", nil, nil, 400, ""},
		{"Unauthorized", "", http.MethodGet, "/v2/images", nil, nil, 401, ""},
		{"Forbidden", AlphaReader, http.MethodPost, "/v2/images", map[string]any{"name": "no"}, nil, 403, ""},
		{"NotFound", AlphaMember, http.MethodGet, "/v2/images/" + unknown, nil, nil, 404, ""},
		{"MethodNotAllowed", AlphaMember, http.MethodPut, "/v2/images", nil, nil, 405, ""},
		{"Conflict", AlphaMember, http.MethodPatch, "/v2/images/" + id,
			[]map[string]any{op("remove", "/nothere")}, []string{"Content-Type", patchV21}, 409, ""},
		{"UnsupportedMediaType", AlphaMember, http.MethodPatch, "/v2/images/" + id,
			[]map[string]any{}, []string{"Content-Type", "application/json"}, 415, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := func(accept string) []string {
				h := slices.Clone(c.hdr)
				if accept != "" {
					h = append(h, "Accept", accept)
				}
				return h
			}
			s.do(t, c.role, c.method, c.path, c.body, hdr("application/json")...).jsonError(t, c.code)
			s.do(t, c.role, c.method, c.path, c.body, hdr("text/html")...).htmlError(t, c.code)
			s.do(t, c.role, c.method, c.path, c.body, hdr("text/plain")...).plainError(t, c.code)
			s.do(t, c.role, c.method, c.path, c.body, hdr("")...).plainError(t, c.code)
		})
	}
}

// errorBodies: a body where none is expected, and the message of a 404.
func errorBodies(t *testing.T, s *suite, id, unknown string) {
	t.Run("BodyNotExpected", func(t *testing.T) {
		body := raw(`{"a": 1}`)
		ctype := []string{"Content-Type", "application/json", "Accept", "application/json"}
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/v2/images/" + id},
			{http.MethodGet, "/v2/images/" + id + "/file"},
			{http.MethodGet, "/v2/images/" + id + "/members"},
			{http.MethodPost, "/v2/images/" + id + "/actions/reactivate"},
			{http.MethodPut, "/v2/images/" + id + "/tags/x"},
			{http.MethodDelete, "/v2/images/" + id + "/tags/x"},
			{http.MethodGet, "/v2/schemas/image"},
			{http.MethodGet, "/v2/info/import"},
			{http.MethodDelete, "/v2/images/" + id},
		} {
			msg := s.do(t, AlphaMember, c.method, c.path, body, ctype...).jsonError(t, http.StatusBadRequest)
			if !strings.Contains(msg, "A body is not expected with this request.") {
				t.Errorf("%s %s: message %q", c.method, c.path, msg)
			}
		}
		// Listing images ignores a body.
		s.do(t, AlphaMember, http.MethodGet, "/v2/images?limit=1", body, ctype...).expect(t, http.StatusOK)
		field(t, s.show(t, AlphaMember, id), "status", "queued")
	})

	t.Run("NotFoundMessage", func(t *testing.T) {
		msg := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+unknown, nil, "Accept", "application/json").jsonError(t, 404)
		if !strings.Contains(msg, "No image found with ID "+unknown) {
			t.Errorf("message %q does not name the image", msg)
		}
	})
}

// errorRequestIDs: request IDs are echoed, and sent with errors too.
func errorRequestIDs(t *testing.T, s *suite, unknown string) {
	t.Run("RequestIDEcho", func(t *testing.T) {
		want := "req-" + newUUID()
		r := s.do(t, AlphaReader, http.MethodGet, "/v2/images?limit=1", nil, "X-Openstack-Request-Id", want)
		r.header(t, "X-Openstack-Request-Id", want)
		r = s.do(t, AlphaReader, http.MethodGet, "/v2/images/"+unknown, nil, "X-Openstack-Request-Id", want)
		r.header(t, "X-Openstack-Request-Id", want)
		// A request ID without the prefix gets it.
		r = s.do(t, AlphaReader, http.MethodGet, "/v2/images?limit=1", nil, "X-Openstack-Request-Id", "abc")
		r.header(t, "X-Openstack-Request-Id", "req-abc")
	})

	t.Run("RequestIDOnErrors", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+unknown, nil).requestID(t)
		s.do(t, AlphaMember, http.MethodGet, "/v2/images?limit=x", nil).requestID(t)
		s.do(t, AlphaMember, http.MethodPut, "/v2/images", nil).requestID(t)
	})
}

// errorAllow: a method a path does not take is answered 405 with the methods
// it takes.
func errorAllow(t *testing.T, s *suite, id string) {
	allow := []struct{ method, path, allow string }{
		{http.MethodPut, "/v2/images", "GET, POST"},
		{http.MethodPatch, "/v2/images", "GET, POST"},
		{http.MethodDelete, "/v2/images", "GET, POST"},
		{http.MethodPost, "/v2/images/" + id, "GET, PATCH, DELETE"},
		{http.MethodPut, "/v2/images/" + id, "GET, PATCH, DELETE"},
		{http.MethodPost, "/v2/images/" + id + "/file", "GET, PUT"},
		{http.MethodDelete, "/v2/images/" + id + "/file", "GET, PUT"},
		{http.MethodGet, "/v2/images/" + id + "/stage", "PUT"},
		{http.MethodGet, "/v2/images/" + id + "/import", "POST"},
		{http.MethodGet, "/v2/images/" + id + "/actions/deactivate", "POST"},
		{http.MethodGet, "/v2/images/" + id + "/actions/reactivate", "POST"},
		{http.MethodGet, "/v2/images/" + id + "/tags/x", "PUT, DELETE"},
		{http.MethodPut, "/v2/images/" + id + "/members", "GET, POST"},
		{http.MethodPost, "/v2/images/" + id + "/members/x", "GET, PUT, DELETE"},
		{http.MethodPost, "/v2/schemas/image", "GET"},
		{http.MethodDelete, "/v2/schemas/members", "GET"},
		{http.MethodPost, "/v2/info/import", "GET"},
		{http.MethodPost, "/v2/info/stores", "GET"},
	}
	t.Run("Allow", func(t *testing.T) {
		for _, c := range allow {
			r := s.do(t, AlphaMember, c.method, c.path, nil)
			if r.expect(t, http.StatusMethodNotAllowed) {
				r.header(t, "Allow", c.allow)
				r.plainError(t, http.StatusMethodNotAllowed)
			}
		}
		// The image was not touched.
		field(t, s.show(t, AlphaMember, id), "status", "queued")
	})
}

// testMessages checks the messages of common errors, which clients show
// to people as they are.
func testMessages(t *testing.T, s *suite) {
	img := s.create(t, AlphaMember, map[string]any{"protected": true})
	id := str(img, "id")
	json := []string{"Accept", "application/json"}
	with := func(h ...string) []string { return append(slices.Clone(json), h...) }
	cases := []errCase{
		{"Protected", AlphaMember, http.MethodDelete, "/v2/images/" + id, nil, json, 403,
			"Image " + id + " is protected and cannot be deleted."},
		{"NoFormats", AlphaMember, http.MethodPut, "/v2/images/" + id + "/file", raw("x"),
			with("Content-Type", "application/octet-stream"), 400,
			"Properties disk_format, container_format must be set prior to saving data."},
		{"Reserved", AlphaMember, http.MethodPost, "/v2/images", map[string]any{"os_glance_x": "y"}, json, 403,
			"Attribute 'os_glance_x' is reserved."},
		{"ReadOnly", AlphaMember, http.MethodPost, "/v2/images", map[string]any{"status": "active"}, json, 403,
			"Attribute 'status' is read-only."},
		{"PatchReadOnly", AlphaMember, http.MethodPatch, "/v2/images/" + id, []map[string]any{op("replace", "/status", "x")},
			with("Content-Type", patchV21), 403, "Attribute 'status' is read-only."},
		{"NoProperty", AlphaMember, http.MethodPatch, "/v2/images/" + id, []map[string]any{op("replace", "/nope", "x")},
			with("Content-Type", patchV21), 409, "Property nope does not exist."},
		{"Policy", AlphaReader, http.MethodPost, "/v2/images", map[string]any{}, json, 403,
			"You are not authorized to complete add_image action."},
		{"SortKey", AlphaMember, http.MethodGet, "/v2/images?sort_key=bogus", nil, json, 400,
			"Invalid sort key: bogus."},
		{"Limit", AlphaMember, http.MethodGet, "/v2/images?limit=x", nil, json, 400,
			"limit param must be an integer"},
		{"Deactivate", AlphaMember, http.MethodPost, "/v2/images/" + id + "/actions/deactivate", nil, json, 403,
			"Not allowed to deactivate image in status 'queued'"},
		{"MediaType", AlphaMember, http.MethodPut, "/v2/images/" + id + "/file", raw("x"),
			with("Content-Type", "application/json"), 415,
			"The request media type application/json is not supported by this server."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := s.do(t, c.role, c.method, c.path, c.body, c.hdr...).jsonError(t, c.code)
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q, want it to contain %q", msg, c.want)
			}
		})
	}
}
