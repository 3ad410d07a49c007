package webfetch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Kinds of failure, for errors.Is on an *Error.
var (
	ErrFiltered = errors.New("webfetch: URI or address refused by the filter")
	ErrBusy     = errors.New("webfetch: too many fetches at once")
	ErrConnect  = errors.New("webfetch: could not connect")
	ErrTimeout  = errors.New("webfetch: no answer in time")
	ErrStatus   = errors.New("webfetch: unexpected HTTP status")
	ErrRedirect = errors.New("webfetch: redirect refused")
	ErrStalled  = errors.New("webfetch: transfer stalled")
	ErrTooLarge = errors.New("webfetch: data larger than the size cap")
	ErrTransfer = errors.New("webfetch: transfer failed")
)

// publicPrefix starts every public message.
const publicPrefix = "Failed to fetch the image data from the source URI: "

// Error is a failed fetch. Its Error text is safe to show users and to
// store in task messages: it names no internal address, port or low-level
// cause. The cause is kept for logs: Unwrap returns it with the kind, and
// LogValue (used by log/slog) and Detail include it.
type Error struct {
	Kind       error // one of the Err* values above
	StatusCode int   // the source's HTTP status, for ErrStatus
	public     string
	cause      error
}

func (e *Error) Error() string { return e.public }

// Unwrap lets errors.Is match the kind and the cause (context.Canceled, ...).
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

// Detail is the public message with its cause, for logs only.
func (e *Error) Detail() string {
	if e.cause == nil {
		return e.public
	}
	return e.public + " (" + e.cause.Error() + ")"
}

// LogValue makes slog log the detail, not only the public message.
func (e *Error) LogValue() slog.Value { return slog.StringValue(e.Detail()) }

// Public returns the user-safe message of the *Error in err's chain.
func Public(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.public, true
	}
	return "", false
}

// Detail returns the log detail of the *Error in err's chain, else err's text.
func Detail(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail()
	}
	return err.Error()
}

func newError(kind error, cause error, what string) *Error {
	return &Error{Kind: kind, public: publicPrefix + what, cause: cause}
}

func filteredError(fe *FilterError) *Error {
	return newError(ErrFiltered, fe, "the URI does not pass filtering")
}

func connectError(cause error) *Error {
	return newError(ErrConnect, cause, "could not connect to the source")
}

func statusError(code int) *Error {
	e := newError(ErrStatus, nil, fmt.Sprintf("the source answered %d %s", code, http.StatusText(code)))
	e.StatusCode = code
	return e
}

func tooLargeError(max int64) *Error {
	return newError(ErrTooLarge, nil, fmt.Sprintf("the image is larger than the size cap of %d bytes", max))
}

func busyError() *Error {
	return &Error{Kind: ErrBusy, public: "Too many image downloads are running; try the import again later"}
}
