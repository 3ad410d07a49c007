package server

import (
	"net/http"
)

// The Image API v1, as Glance served it until Rocky (2018), over the same
// records and data as v2. It is off unless Config.EnableV1; then /v1,
// /v1.0 and /v1.1 lead to it and the versions document lists v1.1 and v1.0
// as DEPRECATED, as Glance Queens did.

// v1Version reports whether a path segment (or Accept suffix) names v1 and
// v1 is served.
func (s *Server) v1Version(seg string) bool {
	return s.cfg.EnableV1 && (seg == "v1" || seg == "v1.0" || seg == "v1.1")
}

// appendV1Versions adds v1's entries to the versions document.
func (s *Server) appendV1Versions(b []byte, r *http.Request) []byte {
	if !s.cfg.EnableV1 {
		return b
	}
	for _, id := range []string{"v1.1", "v1.0"} {
		b = append(b, `, {"id": "`+id+`", "status": "DEPRECATED", "links": [{"rel": "self", "href": `...)
		b = appendJSONString(b, s.baseURL(r)+"/v1/")
		b = append(b, "}]}"...)
	}
	return b
}

func (s *Server) v1Routes(add addFunc) {
	if !s.cfg.EnableV1 {
		return
	}
	add("/v1/images", "GET!", s.v1Index, "POST", s.v1Create)
	// /v1/images/detail shares the pattern of an image (the mux cannot
	// have both); GET serves HEAD too, which is the image's metadata.
	add("/v1/images/{id}", "GET!", s.v1Show, "PUT", s.v1Update, "DELETE!", s.v1Delete)
	add("/v1/images/{id}/members", "GET!", s.v1ListMembers, "PUT", s.v1ReplaceMembers)
	add("/v1/images/{id}/members/{member}", "PUT", s.v1AddMember, "DELETE!", s.v1DeleteMember)
	add("/v1/shared-images/{member}", "GET!", s.v1SharedImages)
}

// v1NotDetail refuses what /v1/images/detail does not serve, as Glance.
func v1NotDetail(r *http.Request) error {
	if r.PathValue("id") != "detail" {
		return nil
	}
	if r.Method == http.MethodHead {
		e := errorf(http.StatusMethodNotAllowed, "This operation is currently not permitted on Glance images details.")
		e.header = http.Header{"Allow": {"GET"}}
		return e
	}
	e := errorf(http.StatusMethodNotAllowed, "The method %s is not allowed for this resource. ", r.Method)
	e.header = http.Header{"Allow": {"GET, HEAD"}}
	return e
}
