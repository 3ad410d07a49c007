package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/auth"
)

// Exit codes, as python-glanceclient uses them.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// silentError ends a command with exit code 1 after it has already told the
// user what went wrong (image-delete reports each failure itself).
type silentError struct{}

func (silentError) Error() string { return "" }

// opError says which step failed, e.g. "Unable to download image 'x'".
type opError struct {
	what string
	err  error
}

func (e *opError) Error() string { return e.what + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func failed(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &opError{what: fmt.Sprintf(format, args...), err: err}
}

// describe turns an error into the one line the user sees: what failed,
// the server's message, the HTTP status and the request ID.
func describe(err error) string {
	var oe *opError
	if errors.As(err, &oe) {
		return oe.what + ": " + describe(oe.err)
	}
	var ge *glance.Error
	if errors.As(err, &ge) {
		var b strings.Builder
		fmt.Fprintf(&b, "HTTP %s", ge.Status)
		if ge.Message != "" {
			b.WriteString(": ")
			b.WriteString(ge.Message)
		}
		fmt.Fprintf(&b, " (%s %s", ge.Method, ge.URL)
		if ge.RequestID != "" {
			fmt.Fprintf(&b, ", request ID %s", ge.RequestID)
		}
		b.WriteString(")")
		return b.String()
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		return fmt.Sprintf("Unable to establish connection to %s: %v", redactURL(ue.URL), ue.Err)
	}
	if errors.Is(err, auth.ErrUnauthorized) {
		return "Invalid OpenStack Identity credentials: " + err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out: " + err.Error()
	}
	return strings.TrimPrefix(err.Error(), "glance: ")
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}
