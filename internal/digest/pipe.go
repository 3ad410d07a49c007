// Package digest computes the MD5 and SHA-512 digests of image data as it
// streams, with SHA-512 in a goroutine of its own beside the I/O.
package digest

import (
	"hash"
	"sync"
)

// Pipe runs a hash in its own goroutine, so that hashing a chunk
// overlaps with moving the next one: SHA-512 alone runs at about the speed
// of a fast disk, and doing it in turn with the I/O halves throughput.
// Write copies the data (the caller may reuse its buffer at once); a few
// buffers circulate, so memory stays bounded whatever the image size.
type Pipe struct {
	h    hash.Hash
	in   chan []byte
	free chan []byte
	done chan struct{}
	once sync.Once
}

const pipeDepth = 3

// NewPipe starts a goroutine that feeds h with what Write queues.
func NewPipe(h hash.Hash) *Pipe {
	p := &Pipe{
		h:    h,
		in:   make(chan []byte, pipeDepth),
		free: make(chan []byte, pipeDepth),
		done: make(chan struct{}),
	}
	for range pipeDepth {
		p.free <- nil
	}
	go func() {
		defer close(p.done)
		for b := range p.in {
			p.h.Write(b)
			p.free <- b
		}
	}()
	return p
}

// Write queues a copy of b for hashing.
func (p *Pipe) Write(b []byte) {
	if len(b) == 0 {
		return
	}
	buf := append((<-p.free)[:0], b...)
	p.in <- buf
}

// Sum waits for the queued data and returns the digest. The pipe is closed
// afterwards.
func (p *Pipe) Sum() []byte {
	p.Close()
	<-p.done
	return p.h.Sum(nil)
}

// Close stops the goroutine; queued data is still hashed. It is safe to
// call more than once.
func (p *Pipe) Close() { p.once.Do(func() { close(p.in) }) }
