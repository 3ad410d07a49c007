package glance

import (
	"hash"
	"sync"
)

// hashPipe runs a hash in its own goroutine, so that hashing a chunk
// overlaps with moving the next one: SHA-512 alone runs at about the speed
// of a fast disk, and doing it in turn with the I/O halves throughput.
// Write copies the data (the caller may reuse its buffer at once); a few
// buffers circulate, so memory stays bounded whatever the image size.
type hashPipe struct {
	h    hash.Hash
	in   chan []byte
	free chan []byte
	done chan struct{}
	once sync.Once
}

const hashPipeDepth = 3

func newHashPipe(h hash.Hash) *hashPipe {
	p := &hashPipe{
		h:    h,
		in:   make(chan []byte, hashPipeDepth),
		free: make(chan []byte, hashPipeDepth),
		done: make(chan struct{}),
	}
	for range hashPipeDepth {
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
func (p *hashPipe) Write(b []byte) {
	if len(b) == 0 {
		return
	}
	buf := append((<-p.free)[:0], b...)
	p.in <- buf
}

// Sum waits for the queued data and returns the digest. The pipe is closed
// afterwards.
func (p *hashPipe) Sum() []byte {
	p.Close()
	<-p.done
	return p.h.Sum(nil)
}

// Close stops the goroutine; queued data is still hashed. It is safe to
// call more than once.
func (p *hashPipe) Close() { p.once.Do(func() { close(p.in) }) }
