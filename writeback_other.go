//go:build !linux

package glance

import "os"

// writeback elsewhere has no call that only starts write-back: an fsync in
// a goroutine of its own does it, while the writing goes on.
type writeback struct {
	kick chan struct{}
	done chan struct{}
}

func newWriteback(f *os.File) writeback {
	w := writeback{kick: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for range w.kick {
			f.Sync()
		}
	}()
	return w
}

// start asks for an fsync unless one is pending already.
func (w *writeback) start(off, n int64) {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *writeback) close() {
	close(w.kick)
	<-w.done
}
