package glance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/digest"
)

// DownloadResult describes a completed DownloadToFile.
type DownloadResult struct {
	Size      int64
	Algorithm string // the hash verified, "" when none could be
	Digest    string
	// Resumed is how many bytes came from the partial file of an earlier
	// attempt (DownloadOptions.Resume).
	Resumed int64
}

// copyBuffer is the size of the chunks of a download, and poolBuffers
// their number: together they bound its memory.
const (
	copyBuffer  = 1 << 20
	poolBuffers = 8
	handOver    = copyBuffer / 2
)

// DownloadToFile downloads a whole image into path. The data goes to a
// file beside path, which is synced and renamed over path only after the
// whole image arrived and was verified; on any failure path is left
// untouched. Receiving, hashing and writing overlap, and the disk starts
// writing while data arrives.
//
// Without opts.Resume the partial file has a random name and is removed on
// any failure, cancellation included. With it, the partial file is
// ".NAME.part" beside path, with ".NAME.part.info" naming the image and its
// hash, and it is kept when the download fails (but for a checksum
// mismatch); a later call with Resume hashes what it holds and asks the
// server only for the rest. A server that ignores the range, or an image
// whose data changed since, starts the file afresh.
//
// progress, if not nil, is called with the Download before copying starts
// and may wrap the destination (for progress bars); it may return dst as is.
func (c *Client) DownloadToFile(ctx context.Context, id, path string, opts *DownloadOptions, progress func(*Download, io.Writer) io.Writer) (*DownloadResult, error) {
	var o DownloadOptions
	if opts != nil {
		o = *opts
	}
	if o.Offset > 0 || o.Length > 0 {
		return nil, errors.New("glance: DownloadToFile takes whole images: Offset and Length are for Download")
	}
	img := o.Image
	if img == nil && (!o.NoVerify || o.Resume) {
		var err error
		if img, err = c.GetImage(ctx, id); err != nil {
			return nil, err
		}
	}
	d := &Download{Size: -1}
	if !o.NoVerify {
		if err := d.chooseHash(id, img, &o); err != nil {
			return nil, err
		}
	}
	p, err := openPart(path, id, img, d, o.Resume)
	if err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	p.sparse, p.parallel, p.prefer = o.Sparse, o.Parallel, o.Prefer
	res, err := c.fillPart(ctx, id, img, d, p, o.NoVerify, progress)
	if err != nil {
		p.abandon(errors.Is(err, ErrChecksumMismatch))
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	if err := p.commit(path); err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	return res, nil
}

// fillPart brings p to the whole image and verifies it.
func (c *Client) fillPart(ctx context.Context, id string, img *Image, d *Download, p *partFile, noVerify bool, progress func(*Download, io.Writer) io.Writer) (*DownloadResult, error) {
	hp, err := p.hashKept(d)
	if err != nil {
		return nil, err
	}
	defer func() {
		if hp != nil {
			hp.Close()
		}
	}()
	total := int64(-1)
	if img != nil && img.Size != nil {
		total = *img.Size
	}
	if n := p.parallelism(total); n > 1 {
		d.Size = total
		var pw io.Writer
		if progress != nil {
			pw = progress(d, io.Discard)
		}
		if err := c.fillParallel(ctx, id, total, n, p, hp, pw); err != nil {
			return nil, err
		}
	} else if total < 0 || p.have < total {
		resp, err := c.getData(ctx, id, p.have, 0, p.prefer)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if p.have > 0 && resp.StatusCode == http.StatusOK {
			// No ranges here: start afresh with the whole image.
			if hp, err = p.restart(d, hp); err != nil {
				return nil, err
			}
		}
		if err := p.checkRange(resp); err != nil {
			return nil, err
		}
		if p.have == 0 && !noVerify {
			d.useContentMD5(resp)
			if hp == nil && d.h != nil {
				hp = digest.NewPipe(d.h)
			}
		}
		d.body, d.Size, d.Offset = resp.Body, resp.ContentLength, p.have
		d.ContentRange = resp.Header.Get("Content-Range")
		if err := p.receive(d, hp, progress); err != nil {
			return nil, err
		}
	}
	if total >= 0 && p.have != total {
		return nil, fmt.Errorf("the image holds %d bytes, the file %d: %w", total, p.have, io.ErrUnexpectedEOF)
	}
	res := &DownloadResult{Size: p.have, Algorithm: d.Algorithm, Resumed: p.kept}
	if hp != nil {
		sum := hp.Sum()
		hp = nil
		if err := d.check(sum); err != io.EOF {
			return nil, err
		}
		res.Digest = d.Expected
	}
	return res, nil
}

// maxParallel bounds the ranges fetched at once, and with them the memory
// (a buffer of 256 KiB each) and the connections.
const maxParallel = 16

// parallelism is how many ranges to fetch at once: Parallel (at most
// maxParallel), for a fresh download of a known size that gives each range
// minPart at least.
func (p *partFile) parallelism(total int64) int {
	if p.parallel < 2 || p.have > 0 || total < 2*minPart {
		return 1
	}
	return int(min(int64(p.parallel), total/minPart, maxParallel))
}

// partFile is the file a download goes to until it is complete.
type partFile struct {
	f        *os.File
	name     string
	info     string // the .info file beside a resumable part; "" otherwise
	have     int64  // bytes in the file
	kept     int64  // of which were there before this call
	resume   bool
	sparse   bool
	parallel int
	prefer   []string // DownloadOptions.Prefer, for every request
}

// openPart creates the file to download into, or opens the one an earlier
// attempt kept when it is of the same image data.
func openPart(path, id string, img *Image, d *Download, resume bool) (*partFile, error) {
	if !resume {
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
		if err != nil {
			return nil, err
		}
		return &partFile{f: f, name: f.Name()}, nil
	}
	p := &partFile{name: filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".part"), resume: true}
	p.info = p.name + ".info"
	want := partInfo(id, img, d)
	flags := os.O_RDWR | os.O_CREATE
	if got, err := os.ReadFile(p.info); err != nil || string(got) != want {
		flags |= os.O_TRUNC // not ours, or of other data
	}
	f, err := os.OpenFile(p.name, flags, 0o600)
	if err != nil {
		return nil, err
	}
	p.f = f
	fi, err := f.Stat()
	if err != nil {
		return nil, p.closeWith(err)
	}
	p.have, p.kept = fi.Size(), fi.Size()
	if img != nil && img.Size != nil && p.have > *img.Size {
		if err := p.truncate(); err != nil {
			return nil, p.closeWith(err)
		}
	}
	if err := os.WriteFile(p.info, []byte(want), 0o600); err != nil {
		return nil, p.closeWith(err)
	}
	return p, nil
}

// partInfo names the image data a partial file holds a prefix of.
func partInfo(id string, img *Image, d *Download) string {
	size := "unknown"
	if img != nil && img.Size != nil {
		size = strconv.FormatInt(*img.Size, 10)
	}
	checksum := ""
	if img != nil {
		checksum = img.Checksum
	}
	return fmt.Sprintf("glance image download\nimage %s\nsize %s\nchecksum %s\nhash %s %s\n",
		id, size, checksum, d.Algorithm, strings.ToLower(d.Expected))
}

func (p *partFile) closeWith(err error) error {
	p.f.Close()
	return err
}

func (p *partFile) truncate() error {
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	p.have, p.kept = 0, 0
	return nil
}

// hashKept feeds what the file holds already to a new hash pipe (nil when
// nothing is verified).
func (p *partFile) hashKept(d *Download) (*digest.Pipe, error) {
	if d.h == nil {
		return nil, nil
	}
	hp := digest.NewPipe(d.h)
	if p.have == 0 {
		return hp, nil
	}
	if _, err := io.CopyBuffer(hp, io.NewSectionReader(p.f, 0, p.have), make([]byte, copyBuffer)); err != nil {
		hp.Close()
		return nil, err
	}
	return hp, nil
}

// restart empties the file and the hash when the server sent everything.
func (p *partFile) restart(d *Download, hp *digest.Pipe) (*digest.Pipe, error) {
	if hp != nil {
		hp.Close()
		hp = nil
	}
	if err := p.truncate(); err != nil {
		return nil, err
	}
	if d.h != nil {
		d.h = newHash(d.Algorithm)
		hp = digest.NewPipe(d.h)
	}
	return hp, nil
}

// checkRange makes sure a partial answer starts where the file ends.
func (p *partFile) checkRange(resp *http.Response) error {
	if resp.StatusCode != http.StatusPartialContent {
		return nil
	}
	return checkContentRange(resp, p.have)
}

// checkContentRange makes sure a partial answer starts at start.
func checkContentRange(resp *http.Response, start int64) error {
	cr := resp.Header.Get("Content-Range")
	var from, end int64
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/", &from, &end); err != nil || from != start {
		return fmt.Errorf("asked for the bytes from %d on, got Content-Range %q", start, cr)
	}
	return nil
}

// receive copies the answer's body into the file and the hash. Each chunk
// is read, written and hashed in the same buffer: the hash in a goroutine
// of its own, the write here, on the core that received the data.
func (p *partFile) receive(d *Download, hp *digest.Pipe, progress func(*Download, io.Writer) io.Writer) error {
	fw := newFileWriter(p.f, p.have, p.sparse)
	defer fw.close()
	var dst io.Writer = fw
	if progress != nil {
		dst = progress(d, fw)
	}
	pool := digest.NewPool(poolBuffers, copyBuffer)
	var n int64
	var err error
	for err == nil {
		// Each read goes to the file at once (progress, a prompt stop);
		// the hash gets the chunk once it holds handOver bytes, so that a
		// link that delivers little at a time does not cost a hand-over
		// (a goroutine wake-up) per read.
		c := pool.Get()
		fill := 0
		for err == nil && fill < handOver {
			var k int
			k, err = d.body.Read(c.B[fill:])
			if k > 0 {
				if _, werr := dst.Write(c.B[fill : fill+k]); werr != nil {
					err = werr
				}
				fill += k
			}
		}
		n += int64(fill)
		if hp != nil && fill > 0 {
			hp.Submit(c, c.B[:fill])
		}
		c.Release()
	}
	p.have = fw.off
	if serr := fw.setSize(); err == io.EOF || err == nil {
		err = cmp.Or(serr, err)
	}
	if err == io.EOF {
		err = checkLength(n, d.Size)
	}
	return err
}

// abandon removes the file, or keeps it for a resume (unless its data is
// known to be wrong).
func (p *partFile) abandon(corrupt bool) {
	p.f.Close()
	if p.resume && !corrupt {
		return
	}
	os.Remove(p.name)
	if p.info != "" {
		os.Remove(p.info)
	}
}

// commit makes the complete, verified file durable and puts it at path.
func (p *partFile) commit(path string) error {
	ok := false
	defer func() {
		if !ok {
			p.abandon(false)
		}
	}()
	if err := p.f.Sync(); err != nil {
		return err
	}
	if err := p.f.Close(); err != nil {
		return err
	}
	// A new file gets the usual permissions, not those of a temporary file.
	mode := os.FileMode(0o666) &^ umask()
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	os.Chmod(p.name, mode)
	if err := os.Rename(p.name, path); err != nil {
		return err
	}
	ok = true
	if p.info != "" {
		os.Remove(p.info)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable, where the system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
