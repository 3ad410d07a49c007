package server

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an error answered with a Glance-style body.
type apiError struct {
	code   int
	msg    string
	header http.Header
}

func (e *apiError) Error() string { return strconv.Itoa(e.code) + " " + e.msg }

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func notFoundImage(id string) *apiError {
	return errorf(http.StatusNotFound, "No image found with ID %s", id)
}

// writeError answers err in the format Glance (webob) picks from Accept:
// JSON, HTML or plain text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", w.Header().Get("X-Openstack-Request-Id"))
		ae = errorf(http.StatusInternalServerError,
			"The server has either erred or is incapable of performing the requested operation.")
	}
	for k, v := range ae.header {
		w.Header()[k] = v
	}
	status := strconv.Itoa(ae.code) + " " + http.StatusText(ae.code)
	var body string
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "application/json"):
		w.Header().Set("Content-Type", "application/json")
		b := appendJSONString(nil, ae.msg+"<br /><br />\n\n\n")
		body = `{"message": ` + string(b) + `, "code": ` + string(appendJSONString(nil, status)) +
			`, "title": ` + string(appendJSONString(nil, http.StatusText(ae.code))) + `}`
	case strings.Contains(accept, "text/html") || strings.Contains(accept, "*/*"):
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		body = "<html>\n <head>\n  <title>" + status + "</title>\n </head>\n <body>\n  <h1>" + status +
			"</h1>\n  " + html.EscapeString(ae.msg) + "<br /><br />\n\n\n\n </body>\n</html>"
	default:
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		body = status + "\n\n" + ae.msg + "\n\n   "
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(ae.code)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

// appendJSONString appends s as a JSON string, escaping non-ASCII as Python's
// json.dumps does, so bodies match Glance byte for byte where it matters.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		case r >= 0x10000:
			r -= 0x10000
			hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
			b = append(b, '\\', 'u', hex[hi>>12&0xf], hex[hi>>8&0xf], hex[hi>>4&0xf], hex[hi&0xf])
			b = append(b, '\\', 'u', hex[lo>>12&0xf], hex[lo>>8&0xf], hex[lo>>4&0xf], hex[lo&0xf])
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}
