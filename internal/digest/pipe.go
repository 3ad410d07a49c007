// Package digest computes the MD5 and SHA-512 digests of image data as it
// streams, each hash in a goroutine of its own beside the I/O.
package digest

import (
	"errors"
	"hash"
	"io"
	"sync"
)

// Pipe runs a writer (a hash, a file) in its own goroutine, so that
// handling a chunk overlaps with moving the next one: SHA-512 alone runs at
// about the speed of a fast disk, and doing it in turn with the I/O halves
// throughput. Write copies the data (the caller may reuse its buffer at
// once) into batches of up to 1 MiB; a few batches circulate, so memory
// stays bounded whatever the image size.
type Pipe struct {
	w    io.Writer
	in   chan item
	free chan []byte
	done chan struct{}
	cur  []byte // the batch being filled
	shut bool   // Close was called
	once sync.Once

	mu  sync.Mutex
	err error // the first error of w
}

// item is a batch of Write, or a chunk of a Pool (then b is the part of it
// to write).
type item struct {
	b []byte
	c *Chunk
}

const (
	pipeDepth = 4
	batchSize = 1 << 20
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("digest: write to a closed pipe")

// NewPipe starts a goroutine that writes to w what Write queues.
func NewPipe(w io.Writer) *Pipe {
	p := &Pipe{
		w:    w,
		in:   make(chan item, pipeDepth),
		free: make(chan []byte, pipeDepth),
		done: make(chan struct{}),
	}
	for range pipeDepth {
		p.free <- nil
	}
	go p.run()
	return p
}

func (p *Pipe) run() {
	defer close(p.done)
	for it := range p.in {
		if p.Err() == nil {
			if _, err := p.w.Write(it.b); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
		if it.c != nil {
			it.c.Release()
		} else {
			p.free <- it.b[:0]
		}
	}
}

// Err is the first error the writer returned, if any yet.
func (p *Pipe) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write queues a copy of b. Its error is the writer's first error, which
// may come from an earlier chunk.
func (p *Pipe) Write(b []byte) (int, error) {
	if err := p.Err(); err != nil {
		return 0, err
	}
	if p.shut {
		return 0, ErrClosed
	}
	n := len(b)
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = <-p.free
			if cap(p.cur) < batchSize {
				p.cur = make([]byte, 0, batchSize)
			}
		}
		k := min(len(b), batchSize-len(p.cur))
		p.cur = append(p.cur, b[:k]...)
		b = b[k:]
		if len(p.cur) == batchSize {
			p.flush()
		}
	}
	return n, nil
}

// Submit queues b, a part of c's buffer, without copying it: the pipe
// holds c until it has written b, after what Write queued before.
func (p *Pipe) Submit(c *Chunk, b []byte) error {
	if err := p.Err(); err != nil {
		return err
	}
	if p.shut {
		return ErrClosed
	}
	p.flush()
	c.Hold()
	p.in <- item{b: b, c: c}
	return nil
}

func (p *Pipe) flush() {
	if len(p.cur) > 0 {
		p.in <- item{b: p.cur}
	} else if p.cur != nil {
		p.free <- p.cur
	}
	p.cur = nil
}

// Wait hands over what is queued, waits until the writer has it all and
// returns the writer's first error. The pipe is closed afterwards.
func (p *Pipe) Wait() error {
	p.Close()
	<-p.done
	return p.Err()
}

// Sum waits for the queued data and returns the digest of a Pipe over a
// hash.Hash. The pipe is closed afterwards.
func (p *Pipe) Sum() []byte {
	p.Wait()
	return p.w.(hash.Hash).Sum(nil)
}

// Close stops the goroutine once the queued data is written, without
// waiting for that. It is safe to call more than once, but not at the same
// time as Write.
func (p *Pipe) Close() {
	p.once.Do(func() {
		p.shut = true
		p.flush()
		close(p.in)
	})
}
