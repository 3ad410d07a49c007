package glance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/go-glance/glance/internal/digest"
)

// minPart is the smallest range a parallel download asks for: below it the
// round trips cost more than the parallelism gains.
const minPart = 4 << 20

// fillParallel downloads the image into p with n ranged requests at once,
// each into its own stretch of the file, while one goroutine hashes the
// file in order as its beginning fills up. Any range that fails, comes
// short or is answered with the whole image fails the download.
func (c *Client) fillParallel(ctx context.Context, id string, total int64, n int, p *partFile, hp *digest.Pipe, progress io.Writer) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	part := max((total+int64(n)-1)/int64(n), minPart)
	var parts []*rangePart
	for off := int64(0); off < total; off += part {
		parts = append(parts, &rangePart{start: off, end: min(off+part, total)})
	}
	ord := &ordered{cond: sync.NewCond(new(sync.Mutex)), parts: parts, progress: progress}
	var wg sync.WaitGroup
	for _, rp := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.fetchRange(ctx, id, rp, p, ord); err != nil {
				cancel(err)
				ord.fail(err)
			}
		}()
	}
	herr := make(chan error, 1)
	go func() { herr <- ord.hash(p.f, hp) }()
	wg.Wait()
	if err := <-herr; err != nil {
		if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
			err = cause
		}
		if p.resume {
			// A kept part must be a prefix of the image: cut it where the
			// first range that did not finish stopped.
			p.have = ord.prefix()
			if terr := p.f.Truncate(p.have); terr != nil {
				p.resume = false // not a prefix: not to be kept
			}
		}
		return err
	}
	p.have = total
	if p.sparse {
		return p.f.Truncate(total) // holes at the end
	}
	return nil
}

// rangePart is one range of a parallel download and how much of it is in
// the file.
type rangePart struct {
	start, end int64
	done       int64 // bytes written from start, under ordered's lock
}

// ordered lets the hashing follow the ranges as they land in the file.
type ordered struct {
	cond     *sync.Cond
	parts    []*rangePart
	err      error
	progress io.Writer // counts what arrived (a progress bar), or nil
}

func (o *ordered) advance(rp *rangePart, b []byte) {
	o.cond.L.Lock()
	rp.done += int64(len(b))
	if o.progress != nil {
		o.progress.Write(b)
	}
	o.cond.L.Unlock()
	o.cond.Broadcast()
}

func (o *ordered) fail(err error) {
	o.cond.L.Lock()
	if o.err == nil {
		o.err = err
	}
	o.cond.L.Unlock()
	o.cond.Broadcast()
}

// prefix is how much of the file, from its start, holds the image.
func (o *ordered) prefix() int64 {
	o.cond.L.Lock()
	defer o.cond.L.Unlock()
	for _, rp := range o.parts {
		if rp.start+rp.done < rp.end {
			return rp.start + rp.done
		}
	}
	return o.parts[len(o.parts)-1].end
}

// hash reads the file in order, each range as far as it has arrived, into
// hp (nil: nothing to verify, only wait for the end).
func (o *ordered) hash(f io.ReaderAt, hp *digest.Pipe) error {
	buf := make([]byte, copyBuffer)
	for _, rp := range o.parts {
		for pos := rp.start; pos < rp.end; {
			o.cond.L.Lock()
			for rp.start+rp.done <= pos && o.err == nil {
				o.cond.Wait()
			}
			avail, err := rp.start+rp.done, o.err
			o.cond.L.Unlock()
			if err != nil {
				return err
			}
			for pos < avail {
				k, err := f.ReadAt(buf[:min(int64(len(buf)), avail-pos)], pos)
				if err != nil {
					return err
				}
				if hp != nil {
					hp.Write(buf[:k])
				}
				pos += int64(k)
			}
		}
	}
	return nil
}

// fetchRange gets one range into its stretch of the file.
func (c *Client) fetchRange(ctx context.Context, id string, rp *rangePart, p *partFile, o *ordered) error {
	resp, err := c.getData(ctx, id, rp.start, rp.end-rp.start, p.prefer)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		return fmt.Errorf("range %d-%d: %w", rp.start, rp.end-1, ErrNoRanges)
	}
	if err := checkContentRange(resp, rp.start); err != nil {
		return fmt.Errorf("range %d-%d: %w", rp.start, rp.end-1, err)
	}
	fw := newFileWriter(p.f, rp.start, p.sparse)
	defer fw.close()
	buf := make([]byte, 256<<10)
	for fw.off < rp.end {
		k, err := resp.Body.Read(buf[:min(int64(len(buf)), rp.end-fw.off)])
		if k > 0 {
			if _, werr := fw.Write(buf[:k]); werr != nil {
				return werr
			}
			o.advance(rp, buf[:k])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if fw.off != rp.end {
		return fmt.Errorf("range %d-%d: %d bytes came: %w", rp.start, rp.end-1, fw.off-rp.start, io.ErrUnexpectedEOF)
	}
	return nil
}
