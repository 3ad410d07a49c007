package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/store"
)

// apiError is an error answered with a Glance-style body.
type apiError struct {
	code   int
	msg    string // webob's explanation
	detail string // webob's detail, shown after the explanation
	header http.Header
}

func (e *apiError) Error() string { return strconv.Itoa(e.code) + " " + e.msg }

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// denied is Glance's 403 that keeps the reason in the detail.
func denied(format string, args ...any) *apiError {
	return &apiError{code: http.StatusForbidden, msg: "Access was denied to this resource.", detail: fmt.Sprintf(format, args...)}
}

// conflict is Glance's 409 that keeps the reason in the detail.
func conflict(format string, args ...any) *apiError {
	return &apiError{code: http.StatusConflict, msg: "There was a conflict when trying to complete your request.",
		detail: fmt.Sprintf(format, args...)}
}

// statusTitle is webob's title for a status, where it differs from Go's.
func statusTitle(code int) string {
	if code == http.StatusRequestedRangeNotSatisfiable {
		return "Request Range Not Satisfiable"
	}
	return http.StatusText(code)
}

// pyEscape escapes as Python's html.escape does.
var pyEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;")

func notFoundImage(id string) *apiError {
	return errorf(http.StatusNotFound, "No image found with ID %s", id)
}

// writeError answers err in the format Glance (webob) picks from Accept:
// JSON, HTML or plain text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) && store.Unavailable(err) {
		// A database restart or failover: the request may be retried.
		s.log.Error("metadata database unavailable", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", w.Header().Get("X-Openstack-Request-Id"))
		ae = errorf(http.StatusServiceUnavailable, "The image service's database is unavailable; try again later.")
		ae.header = http.Header{"Retry-After": {"5"}}
	}
	if ae == nil && store.BadValue(err) {
		s.log.Warn("the database refused a value", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errBadText
	}
	if ae == nil {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", w.Header().Get("X-Openstack-Request-Id"))
		ae = errorf(http.StatusInternalServerError,
			"The server has either erred or is incapable of performing the requested operation.")
	}
	for k, v := range ae.header {
		w.Header()[k] = v
	}
	title := statusTitle(ae.code)
	status := strconv.Itoa(ae.code) + " " + title
	var body string
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "application/json"):
		w.Header().Set("Content-Type", "application/json")
		b := appendJSONString(nil, ae.msg+"<br /><br />\n"+ae.detail+"\n\n")
		body = `{"message": ` + string(b) + `, "code": ` + string(appendJSONString(nil, status)) +
			`, "title": ` + string(appendJSONString(nil, title)) + `}`
	case strings.Contains(accept, "text/html") || strings.Contains(accept, "*/*"):
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		body = "<html>\n <head>\n  <title>" + status + "</title>\n </head>\n <body>\n  <h1>" + status +
			"</h1>\n  " + pyEscape.Replace(ae.msg) + "<br /><br />\n" + pyEscape.Replace(ae.detail) + "\n\n\n </body>\n</html>"
	default:
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		body = status + "\n\n" + ae.msg + "\n\n " + ae.detail + "  "
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
