package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnauthorized reports that Keystone rejected the credentials or token.
// Test for it with errors.Is; the error itself is a *KeystoneError.
var ErrUnauthorized = errors.New("authentication failed")

// ErrInvalidOptions reports options that cannot work (missing or
// contradictory). The error itself is an *OptionError.
var ErrInvalidOptions = errors.New("invalid authentication options")

// ErrBodyNotReplayable reports a request that the service answered 401
// (token expired or revoked) and that could not be sent again after a new
// login because its body cannot be replayed: set http.Request.GetBody (as
// http.NewRequest does for bytes, strings and bytes.Reader bodies) to allow
// the retry. The next request uses a fresh token.
var ErrBodyNotReplayable = errors.New("token rejected (401) and the request body cannot be replayed")

// OptionError describes options that cannot be used to log in.
type OptionError struct {
	// Option names the offending setting in clouds.yaml spelling
	// (e.g. "auth_url", "password", "project_name").
	Option string
	// Problem says what is wrong and how to fix it.
	Problem string
}

func (e *OptionError) Error() string { return e.Problem }

// Is makes errors.Is(err, ErrInvalidOptions) true.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOptions }

func optErr(option, format string, args ...any) error {
	return &OptionError{Option: option, Problem: fmt.Sprintf(format, args...)}
}

// KeystoneError is an error answer from the Identity service.
type KeystoneError struct {
	Method, URL string
	StatusCode  int
	// Message is Keystone's own explanation, when it gave one.
	Message string
	// RequestID is the x-openstack-request-id of the answer, for the operator.
	RequestID string

	authFailed bool
	hint       string // what the user may do about it
}

func (e *KeystoneError) Error() string {
	var b strings.Builder
	if e.authFailed {
		b.WriteString("authentication failed")
	} else {
		fmt.Fprintf(&b, "keystone: %s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.authFailed {
		fmt.Fprintf(&b, " (HTTP %d from %s", e.StatusCode, e.URL)
		if e.RequestID != "" {
			fmt.Fprintf(&b, ", request ID %s", e.RequestID)
		}
		b.WriteString(")")
	} else if e.RequestID != "" {
		fmt.Fprintf(&b, " (request ID %s)", e.RequestID)
	}
	if e.hint != "" {
		b.WriteString("; ")
		b.WriteString(e.hint)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnauthorized) true when Keystone refused the
// credentials.
func (e *KeystoneError) Is(target error) bool {
	return target == ErrUnauthorized && e.authFailed
}

// keystoneMessage digs the human message out of a Keystone error body:
// {"error": {"message": ...}} (v3) or {"unauthorized": {"message": ...}} and
// the like (v2.0).
func keystoneMessage(body []byte) string {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		s := strings.TrimSpace(string(body))
		if len(s) > 200 || strings.HasPrefix(s, "<") {
			return ""
		}
		return s
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys) // "error" first when several are present
	for _, k := range keys {
		var inner struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(doc[k], &inner) == nil && inner.Message != "" {
			return inner.Message
		}
	}
	return ""
}

// EndpointNotFoundError reports that the catalog has no endpoint for the
// wanted service type, interface and region. It lists what the catalog does
// offer so the user can fix the region or interface.
type EndpointNotFoundError struct {
	ServiceType, Interface, Region string
	// Regions and Interfaces are those of the catalog's endpoints for
	// ServiceType (sorted, unique). Both are empty when the service type is
	// absent.
	Regions, Interfaces []string
	// ServiceTypes lists the types the catalog has (sorted).
	ServiceTypes []string
}

func (e *EndpointNotFoundError) Error() string {
	if len(e.ServiceTypes) == 0 {
		return fmt.Sprintf("no %q endpoint: the token came with an empty service catalog (is it scoped to a project?)", e.ServiceType)
	}
	if len(e.Regions) == 0 && len(e.Interfaces) == 0 {
		return fmt.Sprintf("no %q service in the catalog (it has: %s)", e.ServiceType, strings.Join(e.ServiceTypes, ", "))
	}
	where := fmt.Sprintf("interface %q", e.Interface)
	if e.Region != "" {
		where += fmt.Sprintf(" in region %q", e.Region)
	}
	return fmt.Sprintf("no %q endpoint for %s; the catalog has %q endpoints in regions %s with interfaces %s",
		e.ServiceType, where, e.ServiceType, listOrNone(e.Regions), listOrNone(e.Interfaces))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// CloudNotFoundError reports a cloud name that no clouds.yaml defines.
type CloudNotFoundError struct {
	Name string
	// Clouds are the names that do exist (sorted).
	Clouds []string
	// Files are the configuration files that were read; Searched the
	// places looked at when none was found.
	Files, Searched []string
}

func (e *CloudNotFoundError) Error() string {
	if len(e.Files) == 0 {
		return fmt.Sprintf("cloud %q not found: no clouds.yaml (looked for %s)", e.Name, strings.Join(e.Searched, ", "))
	}
	return fmt.Sprintf("cloud %q not found in %s (clouds defined: %s)", e.Name, strings.Join(e.Files, ", "), listOrNone(e.Clouds))
}
