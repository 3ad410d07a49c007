package glance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrTimeout is matched by errors.Is against a *TimeoutError.
var ErrTimeout = errors.New("timed out")

// TimeoutError reports a request given up because the server let it stall
// for longer than Options.StallTimeout.
type TimeoutError struct {
	Method, URL string
	After       time.Duration // the stall allowed
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("glance: %s %s: no progress for %v: %s", e.Method, e.URL, e.After, ErrTimeout)
}

// Is makes errors.Is(err, ErrTimeout) work.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout is true, as for net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// watchdog cancels a request when the time it spends waiting on the server
// passes its limit in one go. It runs only while the request waits on the
// network: from the start to the answer's headers, but not while the
// request body is read from its source, and, in the answer's body, only
// inside Read, so that a slow consumer (a disk, a pipe) is not taken for a
// stalled server. Any progress starts the count afresh, so a long transfer
// that keeps moving is never cut off.
type watchdog struct {
	limit  time.Duration
	cancel context.CancelCauseFunc
	err    *TimeoutError

	mu    sync.Mutex
	timer *time.Timer
	depth int // nested pauses: time stops while > 0
}

// newWatchdog returns a context that is cancelled when the watchdog fires,
// and the watchdog, which starts paused.
func newWatchdog(ctx context.Context, limit time.Duration, err *TimeoutError) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{limit: limit, cancel: cancel, err: err, depth: 1}
	w.timer = time.AfterFunc(limit, func() { cancel(w.err) })
	w.timer.Stop()
	return ctx, w
}

// run lets time count (after a pause), from the full limit.
func (w *watchdog) run() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.depth--; w.depth == 0 {
		w.timer.Reset(w.limit)
	}
}

// pause stops the count until the matching run.
func (w *watchdog) pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.depth++; w.depth == 1 {
		w.timer.Stop()
	}
}

// stop ends the watch for good and releases the context.
func (w *watchdog) stop() {
	w.mu.Lock()
	w.depth = 1 << 30
	w.timer.Stop()
	w.mu.Unlock()
	w.cancel(context.Canceled)
}

// fired turns an error into the *TimeoutError when the watchdog caused it.
func (w *watchdog) fired(ctx context.Context, err error) error {
	if err != nil && context.Cause(ctx) == error(w.err) {
		return w.err
	}
	return err
}

// sourceReader pauses the count while a request body is read from its
// source: only the time the transport spends sending counts.
type sourceReader struct {
	io.Reader
	w *watchdog
}

func (r *sourceReader) Read(p []byte) (int, error) {
	r.w.pause()
	defer r.w.run()
	return r.Reader.Read(p)
}

func (r *sourceReader) Close() error {
	if c, ok := r.Reader.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// watchedBody lets the count run only while an answer's body is read, and
// ends the watch when it is closed.
type watchedBody struct {
	io.ReadCloser
	ctx context.Context
	w   *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.w.run()
	n, err := b.ReadCloser.Read(p)
	b.w.pause()
	return n, b.w.fired(b.ctx, err)
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.w.stop()
	return err
}
