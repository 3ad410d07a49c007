package webfetch

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// errIdle is the cancel cause the idle timer sets.
var errIdle = errors.New("no data received within the idle timeout")

// body is a response body bounded in size and in time between bytes.
type body struct {
	rc      io.ReadCloser
	ctx     context.Context
	cancel  context.CancelCauseFunc
	idle    time.Duration
	timer   *time.Timer
	max     int64
	read    int64
	err     error // sticky: once failed, always failed
	once    sync.Once
	release func()
}

func newBody(rc io.ReadCloser, idle time.Duration, max int64, ctx context.Context, cancel context.CancelCauseFunc, release func()) *body {
	b := &body{rc: rc, ctx: ctx, cancel: cancel, idle: idle, max: max, release: release}
	// Cancelling the request's context makes a blocked Read return.
	b.timer = time.AfterFunc(time.Hour, func() { cancel(errIdle) })
	b.timer.Stop()
	return b
}

// Read times only the wait for the source, never the caller's own pace:
// the timer runs only while Read blocks.
func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if left := b.max - b.read; int64(len(p)) > left+1 {
		p = p[:left+1] // one byte past the cap tells a body too large
	}
	b.timer.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	b.read += int64(n)
	if b.read > b.max {
		b.err = tooLargeError(b.max)
		return n - int(b.read-b.max), b.err
	}
	if err != nil && err != io.EOF {
		b.err = b.readError(err)
		return n, b.err
	}
	return n, err
}

func (b *body) readError(err error) *Error {
	switch cause := context.Cause(b.ctx); {
	case errors.Is(cause, errIdle):
		return newError(ErrStalled, err, "the transfer stalled")
	case cause != nil:
		return newError(ErrTransfer, cause, "the transfer was cancelled")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return newError(ErrTransfer, err, "the source closed the connection before sending all the data")
	}
	return newError(ErrTransfer, err, "the transfer was interrupted")
}

// Close ends the transfer and frees the fetch slot; it is safe to call
// more than once.
func (b *body) Close() error {
	var err error
	b.once.Do(func() {
		b.timer.Stop()
		err = b.rc.Close()
		b.cancel(nil)
		b.release()
	})
	return err
}
