package digest

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
)

// Sums are the digests of a whole stream.
type Sums struct {
	Size   int64
	MD5    string // hex
	SHA512 string // hex
}

// Reader hashes what is read through it: MD5 in the reading goroutine and
// SHA-512 beside it, so the two cost the time of the slower one.
type Reader struct {
	r      io.Reader
	n      int64
	md5    hash.Hash
	sha512 *Pipe
}

// NewReader returns a Reader over r. Call Sums or Close when done, or the
// SHA-512 goroutine stays.
func NewReader(r io.Reader) *Reader {
	h := &Reader{r: r}
	h.Reset()
	return h
}

// Reset starts the digests afresh (for a replayed upload).
func (h *Reader) Reset() {
	if h.sha512 != nil {
		h.sha512.Close()
	}
	h.n, h.md5, h.sha512 = 0, md5.New(), NewPipe(sha512.New())
}

func (h *Reader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.n += int64(n)
		h.sha512.Write(p[:n])
		h.md5.Write(p[:n])
	}
	return n, err
}

// N is the number of bytes read so far.
func (h *Reader) N() int64 { return h.n }

// Sums waits for the hashing to finish and returns the digests of what was
// read; the Reader is closed afterwards.
func (h *Reader) Sums() Sums {
	return Sums{Size: h.n, MD5: hex.EncodeToString(h.md5.Sum(nil)), SHA512: hex.EncodeToString(h.sha512.Sum())}
}

// Close stops the SHA-512 goroutine without waiting for a result.
func (h *Reader) Close() { h.sha512.Close() }
