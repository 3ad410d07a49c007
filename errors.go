package glance

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Sentinel errors matched by errors.Is against an *Error.
var (
	ErrBadRequest   = errors.New("bad request")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
)

// ErrNoData is returned by Download when the image has no data yet (Glance
// answers 204 No Content).
var ErrNoData = errors.New("image has no data")

// ErrNoRanges is returned by Download for a byte range when the server
// answers with the whole image instead.
var ErrNoRanges = errors.New("the server does not support ranged downloads")

// ErrChecksumMismatch is matched by errors.Is against a *ChecksumError.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// Error is an HTTP error answered by the Image service.
type Error struct {
	StatusCode int    // HTTP status code, e.g. 404
	Status     string // HTTP status line text, e.g. "404 Not Found"
	Method     string
	URL        string
	Message    string // the server's explanation, cleaned of markup
	RequestID  string // x-openstack-request-id, when the server sent one
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %s", e.Method, e.URL, e.Status)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request-id %s)", e.RequestID)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	}
	return false
}

// ChecksumError reports data whose digest is not the one expected.
type ChecksumError struct {
	Algorithm string // "md5", "sha512", ...
	Expected  string
	Actual    string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("corrupt image data: %s is %s, expected %s", e.Algorithm, e.Actual, e.Expected)
}

// Is makes errors.Is(err, ErrChecksumMismatch) work.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksumMismatch }

// maxErrorBody bounds how much of an error body is read; Glance's are short.
const maxErrorBody = 64 << 10

// newError builds an *Error from a failed response and closes its body.
func newError(resp *http.Response) *Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		RequestID:  resp.Header.Get("X-Openstack-Request-Id"),
	}
	if e.Status == "" {
		e.Status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = resp.Request.URL.Redacted()
	}
	e.Message = errorMessage(resp.Header.Get("Content-Type"), body, e.Status)
	if resp.StatusCode == http.StatusMultipleChoices {
		// Glance answers a path outside the versions it serves with its
		// versions document: say what that means instead of dumping it.
		e.Message = "the endpoint does not serve this API version here; it offers " + offeredVersions(body)
	}
	return e
}

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// errorMessage extracts the human part of an error body. Glance (through webob)
// answers JSON, HTML or plain text depending on the request's Accept header;
// Keystone and proxies answer other JSON shapes.
func errorMessage(contentType string, body []byte, status string) string {
	text := strings.TrimSpace(string(body))
	if text == "" {
		return ""
	}
	if strings.Contains(contentType, "json") || strings.HasPrefix(text, "{") {
		if msg := jsonMessage(body); msg != "" {
			return clean(msg, status)
		}
	}
	return clean(text, status)
}

// jsonMessage finds "message" at the top level or one level down, which
// covers {"message": ...}, {"error": {"message": ...}} and
// {"itemNotFound": {"message": ...}}.
func jsonMessage(body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return ""
	}
	if raw, ok := top["message"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	for _, raw := range top {
		var inner struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &inner) == nil && inner.Message != "" {
			return inner.Message
		}
	}
	return ""
}

// clean strips markup, the status line the body repeats, and white space.
func clean(s, status string) string {
	s = tagRE.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	s = spaceRE.ReplaceAllString(s, " ")
	s = strings.TrimSpace(s)
	// HTML bodies carry the status twice (title and heading), text bodies once.
	for status != "" && strings.HasPrefix(s, status) {
		s = strings.TrimSpace(strings.TrimPrefix(s, status))
	}
	return s
}

// offeredVersions lists the version IDs of a versions document.
func offeredVersions(body []byte) string {
	var doc struct {
		Versions []struct {
			ID string `json:"id"`
		} `json:"versions"`
	}
	if json.Unmarshal(body, &doc) != nil || len(doc.Versions) == 0 {
		return "no versions it names"
	}
	ids := make([]string, len(doc.Versions))
	for i, v := range doc.Versions {
		ids[i] = v.ID
	}
	return strings.Join(ids, ", ")
}
