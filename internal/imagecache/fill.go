package imagecache

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-glance/glance/internal/atomicfile"
)

// reserve marks image id as being filled; only one fill per image runs.
func (c *Cache) reserve(id string, size int64) error {
	if !validID(id) {
		return fmt.Errorf("imagecache: bad image ID %q", id)
	}
	if size > c.opts.MaxSize {
		return ErrTooLarge
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.filling[id] {
		return ErrBusy
	}
	c.filling[id] = true
	return nil
}

func (c *Cache) release(id string) {
	c.mu.Lock()
	delete(c.filling, id)
	c.mu.Unlock()
}

// Fill caches what r yields as image id. The data must be size bytes and,
// when sum (hex SHA-512) is given, have that digest; otherwise nothing is
// cached. Older entries are pruned first to make room.
func (c *Cache) Fill(ctx context.Context, id string, size int64, sum string, r io.Reader) error {
	if err := c.reserve(id, size); err != nil {
		return err
	}
	defer c.release(id)
	return c.write(ctx, id, size, sum, r)
}

// write does the work of Fill once the image is reserved.
func (c *Cache) write(ctx context.Context, id string, size int64, sum string, r io.Reader) error {
	if _, _, err := c.pruneTo(c.opts.MaxSize - size); err != nil {
		return err
	}
	err := atomicfile.Write(c.path(id), func(w io.Writer) error {
		h := sha512.New()
		n, err := io.Copy(io.MultiWriter(w, h), &ctxReader{ctx: ctx, r: r})
		if err != nil {
			return err
		}
		if n != size || sum != "" && hex.EncodeToString(h.Sum(nil)) != sum {
			return ErrMismatch
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("imagecache: fill %s: %w", id, err)
	}
	now := time.Now()
	c.mu.Lock()
	c.entries[id] = &Entry{ImageID: id, Size: size, LastAccessed: now, LastModified: now}
	c.mu.Unlock()
	return nil
}

// ctxReader ends a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// teeDepth is how many chunks a tee holds for its cache writer: a disk that
// falls this far behind the client ends the fill rather than the download.
const teeDepth = 64

// Tee streams r to its reader and, on the side, into the cache as one
// image; see Cache.Tee.
type Tee struct {
	r              io.Reader
	ch             chan []byte
	abort          chan struct{}
	done           chan error
	n, size        int64
	ended, dropped bool
}

// Tee returns a reader of r that also fills the cache with image id (size
// bytes, SHA-512 sum), without slowing whoever reads: chunks are copied to
// a writer goroutine through a bounded queue, and the fill is abandoned
// when that queue is full, when r fails, or when the reader is closed
// before the end. It returns nil when the image cannot be cached now (being
// filled already, too large). Close it when done.
func (c *Cache) Tee(id string, size int64, sum string, r io.Reader) *Tee {
	if c.reserve(id, size) != nil {
		return nil
	}
	t := &Tee{r: r, ch: make(chan []byte, teeDepth), abort: make(chan struct{}), done: make(chan error, 1), size: size}
	go func() {
		defer c.release(id)
		err := c.write(context.Background(), id, size, sum, &chanReader{ch: t.ch, abort: t.abort})
		if err != nil && !errors.Is(err, errAbandoned) {
			c.log.Warn("image cache: fill on download failed", "image", id, "err", err)
		}
		t.done <- err
	}()
	return t
}

var errAbandoned = errors.New("cache fill abandoned")

// Read implements io.Reader.
func (t *Tee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if n > 0 && !t.ended && !t.dropped {
		select {
		case t.ch <- append([]byte(nil), p[:n]...):
		default:
			t.abandon()
		}
	}
	if err != nil && !t.ended && !t.dropped {
		if err == io.EOF && t.n == t.size {
			t.ended = true
			close(t.ch)
		} else {
			t.abandon()
		}
	}
	return n, err
}

func (t *Tee) abandon() {
	if !t.ended && !t.dropped {
		t.dropped = true
		close(t.abort)
	}
}

// Close abandons a fill that did not see the whole stream and waits for it
// to end. A fill that saw the whole stream finishes on its own (syncing and
// renaming the file), so that the download's end is not held up; Wait
// waits for it.
func (t *Tee) Close() error {
	if t.ended {
		return nil
	}
	t.abandon()
	return t.Wait()
}

// Wait waits for the fill to end and returns its result: nil when the
// image is now cached. Call it once, after the stream ended or Close.
func (t *Tee) Wait() error { return <-t.done }

// chanReader reads the chunks of a Tee until the end or an abort.
type chanReader struct {
	ch    chan []byte
	abort chan struct{}
	buf   []byte
}

func (c *chanReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		select {
		case b, ok := <-c.ch:
			if !ok {
				return 0, io.EOF
			}
			c.buf = b
		case <-c.abort:
			return 0, errAbandoned
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}
