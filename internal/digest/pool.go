package digest

import "sync/atomic"

// Pool is a fixed set of buffers handed from a producer to the pipes that
// consume them, without copies: data read into a buffer on one core and
// copied on another costs the cache lines' transfer between them, which on
// some machines is as slow as the disk. Memory stays bounded by the set.
type Pool struct {
	free chan *Chunk
}

// Chunk is one buffer of a Pool, counted by its holders.
type Chunk struct {
	B    []byte // the whole buffer; holders agree on the part in use
	refs atomic.Int32
	pool *Pool
}

// NewPool makes n buffers of size bytes.
func NewPool(n, size int) *Pool {
	p := &Pool{free: make(chan *Chunk, n)}
	for range n {
		p.free <- &Chunk{B: make([]byte, size), pool: p}
	}
	return p
}

// Get waits for a free buffer; the caller holds it once.
func (p *Pool) Get() *Chunk {
	c := <-p.free
	c.refs.Store(1)
	return c
}

// Hold adds a holder.
func (c *Chunk) Hold() { c.refs.Add(1) }

// Release drops a hold; the last one returns the buffer to its pool.
func (c *Chunk) Release() {
	if c.refs.Add(-1) == 0 {
		c.pool.free <- c
	}
}
