package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// A write's lease can lapse while its node lives (cut off from the
// database for longer than the lease lasts); another node then resets the
// image and a new write may start. The old write must then neither finish
// the image nor undo the new write's status: its status changes are fenced
// by its lease's token (store.UpdateImageFenced), and its transfer stops as
// soon as a renewal finds the lease gone.

// errLeaseLost answers a write that lost its lease.
var errLeaseLost = errorf(http.StatusConflict,
	"The upload was interrupted: this server lost its hold on the image to a recovery; upload the data again.")

// writeKey carries a write's lease in its context.
type writeKey struct{}

// withWrite returns ctx for the write under lease l: its status changes
// are fenced by l and its transfers stop when l is lost.
func withWrite(ctx context.Context, l *store.Lease) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, writeKey{}, l)
}

// writeOf is the lease of the write to image id that ctx is for, if any.
func writeOf(ctx context.Context, id string) *store.Lease {
	if l, ok := ctx.Value(writeKey{}).(*store.Lease); ok && l.ID == id {
		return l
	}
	return nil
}

// writes are this node's leases on image writes in progress, by token.
type writes struct {
	mu   sync.Mutex
	held map[string]*heldWrite
}

type heldWrite struct {
	lease *store.Lease
	since time.Time // when it was taken: renewals started before it cannot know it
	lost  bool
	stops map[*int]context.CancelCauseFunc
}

// hold records l, taken by this node, until drop.
func (w *writes) hold(l *store.Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil {
		w.held = map[string]*heldWrite{}
	}
	w.held[l.Token] = &heldWrite{lease: l, since: time.Now(), stops: map[*int]context.CancelCauseFunc{}}
}

// drop forgets l.
func (w *writes) drop(l *store.Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.held, l.Token)
}

// guard returns ctx, cancelled with errLeaseLost once the write under l
// loses its lease; stop ends the guard.
func (w *writes) guard(ctx context.Context, l *store.Lease) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.held[l.Token]
	switch {
	case h == nil:
		return ctx, func() { cancel(nil) }
	case h.lost:
		cancel(errLeaseLost)
		return ctx, func() {}
	}
	key := new(int)
	h.stops[key] = cancel
	return ctx, func() {
		w.mu.Lock()
		delete(h.stops, key)
		w.mu.Unlock()
		cancel(nil)
	}
}

// renewed marks lost the leases taken before a renewal that started at
// start and that it did not renew (tokens), and stops their transfers.
func (w *writes) renewed(tokens []string, start time.Time) (lost []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for token, h := range w.held {
		if h.lost || !h.since.Before(start) || slices.Contains(tokens, token) {
			continue
		}
		h.lost = true
		lost = append(lost, h.lease.ID)
		for _, stop := range h.stops {
			stop(errLeaseLost)
		}
	}
	return lost
}

// endWrite releases the lease of a write that ended (nil: none was taken).
func (s *Server) endWrite(l *store.Lease) {
	if l == nil {
		return
	}
	s.cl.writes.drop(l)
	if err := s.meta.ReleaseLease(context.Background(), l.Kind, l.ID, l.Node, l.Token); err != nil {
		s.log.Warn("release lease", "kind", l.Kind, "id", l.ID, "err", err)
	}
}

// updateWrite is UpdateImage for a write's status changes (its end, its
// failure): fenced by the lease of the write ctx is for, if any.
func (s *Server) updateWrite(ctx context.Context, id string, fn func(*store.Image) error) (*store.Image, error) {
	l := writeOf(ctx, id)
	if l == nil {
		return s.meta.UpdateImage(ctx, id, fn)
	}
	im, err := s.meta.UpdateImageFenced(ctx, id, l, fn)
	if errors.Is(err, store.ErrLeaseLost) {
		s.log.Warn("a write lost its lease; another write recovered the image", "image", id)
		return nil, errLeaseLost
	}
	return im, err
}

// guardWrite returns ctx for a transfer of the write to image id that ctx
// is for: cancelled when its lease is lost.
func (s *Server) guardWrite(ctx context.Context, id string) (context.Context, func()) {
	l := writeOf(ctx, id)
	if l == nil {
		return ctx, func() {}
	}
	return s.cl.writes.guard(ctx, l)
}

// lostOr is errLeaseLost when ctx, from guardWrite, ended for it; else err.
func lostOr(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errLeaseLost) {
		return errLeaseLost
	}
	return err
}
