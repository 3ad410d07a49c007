package conformance

import (
	"net/http"
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

func testErrors(t *testing.T, s *suite) {}
