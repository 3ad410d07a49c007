package glance

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/digest"
)

// DownloadOptions tune Download and DownloadToFile.
type DownloadOptions struct {
	// Offset and Length ask for a byte range; Length 0 means to the end.
	// A partial download is not verified.
	Offset, Length int64
	// AllowMD5Fallback verifies with the MD5 checksum when the image's
	// os_hash_algo is one this client does not know.
	AllowMD5Fallback bool
	// NoVerify skips verification (and the request for the image record).
	NoVerify bool
	// Image is the record of the image, if the caller has it already; it saves
	// a request.
	Image *Image
	// Resume (DownloadToFile only) keeps the partial file of a failed
	// download, and continues such a file with a ranged request instead of
	// starting afresh; see DownloadToFile.
	Resume bool
	// Sparse (DownloadToFile only) leaves the aligned 4 KiB blocks of zeros
	// of the data unwritten, as holes: a raw disk image then takes on disk
	// only what it holds. The file reads the same.
	Sparse bool
	// Parallel (DownloadToFile only), above 1, fetches the image in that
	// many ranges at once, each on its own connection: over a link whose
	// bandwidth is bounded per connection (a long distance, a shaping
	// proxy) the transfer is that much faster. The whole file is still
	// hashed in order and verified. At most 16 ranges, of 4 MiB at least;
	// not with a kept part to resume.
	Parallel int
	// Prefer lists store identifiers in the order the server should try
	// them for the data (the prefer query parameter; python-glanceclient's
	// image-download --prefer). Empty ones are left out; servers without
	// multiple stores ignore it.
	Prefer []string
}

// Download is the data of an image being read. Read returns a *ChecksumError
// instead of io.EOF when the data does not match the image's hash, and
// io.ErrUnexpectedEOF when it is shorter than announced.
type Download struct {
	// Size is the length announced by the server, -1 if unknown.
	Size int64
	// Offset is where in the image the data read starts: the length of the
	// part kept from before in a resumed DownloadToFile, else 0.
	Offset int64
	// Algorithm is the hash that will be verified ("" when none can be).
	Algorithm string
	// Expected is the expected hex digest.
	Expected string
	// ContentRange is the server's Content-Range for a partial download.
	ContentRange string

	body io.ReadCloser
	h    hash.Hash // the chosen hash, fed through pipe once reading starts
	pipe *digest.Pipe
	n    int64
	err  error
}

// Read reads image data, verifying it at the end.
func (d *Download) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.h != nil && d.pipe == nil {
		d.pipe = digest.NewPipe(d.h)
	}
	n, err := d.body.Read(p)
	if n > 0 {
		d.n += int64(n)
		if d.pipe != nil {
			d.pipe.Write(p[:n])
		}
	}
	if err == io.EOF {
		err = d.finish()
	}
	if err != nil {
		d.err = err
	}
	return n, err
}

func (d *Download) finish() error {
	if err := checkLength(d.n, d.Size); err != nil {
		return err
	}
	if d.pipe != nil {
		return d.check(d.pipe.Sum())
	}
	return io.EOF
}

// checkLength says whether got bytes are what the server announced (-1: unknown).
func checkLength(got, want int64) error {
	if want >= 0 && got != want {
		return fmt.Errorf("glance: image data truncated after %d of %d bytes: %w", got, want, io.ErrUnexpectedEOF)
	}
	return nil
}

// check compares a digest with the expected one; io.EOF means it matched.
func (d *Download) check(sum []byte) error {
	if got := hex.EncodeToString(sum); !strings.EqualFold(got, d.Expected) {
		return &ChecksumError{Algorithm: d.Algorithm, Expected: d.Expected, Actual: got}
	}
	return io.EOF
}

// Close releases the connection.
func (d *Download) Close() error {
	if d.pipe != nil {
		d.pipe.Close()
	}
	return d.body.Close()
}

// Verified reports whether the data read so far was checked against a hash;
// true only after Read returned io.EOF.
func (d *Download) Verified() bool { return d.h != nil && d.err == io.EOF }

// newHash returns a hash for a Glance os_hash_algo name.
func newHash(algo string) hash.Hash {
	switch strings.ToLower(algo) {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// chooseHash sets the hash d is verified with, following python-glanceclient:
// os_hash_algo/os_hash_value when set (an unknown algorithm is an error
// unless AllowMD5Fallback), else the MD5 checksum. Without either, the
// Content-MD5 header of the answer may still serve (useContentMD5).
func (d *Download) chooseHash(id string, img *Image, o *DownloadOptions) error {
	switch {
	case img == nil:
	case img.HashValue != "" && newHash(img.HashAlgo) != nil:
		d.Algorithm, d.Expected, d.h = strings.ToLower(img.HashAlgo), img.HashValue, newHash(img.HashAlgo)
	case img.HashValue != "" && !o.AllowMD5Fallback:
		return fmt.Errorf("glance: image %s is hashed with %q, which this client cannot verify (allow the MD5 fallback to use the checksum)", id, img.HashAlgo)
	case img.Checksum != "":
		d.Algorithm, d.Expected, d.h = "md5", img.Checksum, md5.New()
	}
	return nil
}

// useContentMD5 verifies with the answer's Content-MD5 when the image record
// offered nothing to verify with.
func (d *Download) useContentMD5(resp *http.Response) {
	if sum := resp.Header.Get("Content-MD5"); d.h == nil && sum != "" {
		d.Algorithm, d.Expected, d.h = "md5", sum, md5.New()
	}
}

// Download opens an image's data for reading (GET /images/{id}/file). It
// returns ErrNoData for an image without data. The caller must Close it.
//
// Verification follows python-glanceclient: os_hash_algo/os_hash_value when
// set (an unknown algorithm is an error unless AllowMD5Fallback), else the
// MD5 checksum, else the Content-MD5 header, else none.
func (c *Client) Download(ctx context.Context, id string, opts *DownloadOptions) (*Download, error) {
	var o DownloadOptions
	if opts != nil {
		o = *opts
	}
	partial := o.Offset > 0 || o.Length > 0
	verify := !o.NoVerify && !partial
	img := o.Image
	if img == nil && verify {
		var err error
		if img, err = c.GetImage(ctx, id); err != nil {
			return nil, err
		}
	}
	d := &Download{Size: -1}
	if verify {
		if err := d.chooseHash(id, img, &o); err != nil {
			return nil, err
		}
	}
	resp, err := c.getData(ctx, id, o.Offset, o.Length, o.Prefer)
	if err != nil {
		return nil, err
	}
	if partial && resp.StatusCode == http.StatusOK {
		// The server ignored the range; refuse rather than hand back the wrong bytes.
		resp.Body.Close()
		return nil, fmt.Errorf("glance: image %s: %w", id, ErrNoRanges)
	}
	d.body, d.Size = resp.Body, resp.ContentLength
	d.ContentRange = resp.Header.Get("Content-Range")
	if verify {
		d.useContentMD5(resp)
	}
	return d, nil
}

// getData sends GET /images/{id}/file, for the bytes from offset on (to the
// end when length is 0) if either is set, asking for the stores in prefer
// first. No data (204) is ErrNoData.
func (c *Client) getData(ctx context.Context, id string, offset, length int64, prefer []string) (*http.Response, error) {
	req := &request{method: http.MethodGet, path: "/images/" + escape(id) + "/file", size: -1,
		header: http.Header{"Accept": {"application/octet-stream"}}}
	if stores := preferList(prefer); stores != "" {
		req.query = url.Values{"prefer": {stores}}
	}
	if offset > 0 || length > 0 {
		end := ""
		if length > 0 {
			end = strconv.FormatInt(offset+length-1, 10)
		}
		req.header.Set("Range", fmt.Sprintf("bytes=%d-%s", offset, end))
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		resp.Body.Close()
		return nil, fmt.Errorf("glance: image %s: %w", id, ErrNoData)
	}
	return resp, nil
}

// preferList joins store identifiers with commas, leaving out empty ones.
func preferList(stores []string) string {
	var kept []string
	for _, s := range stores {
		if s = strings.TrimSpace(s); s != "" {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, ",")
}
