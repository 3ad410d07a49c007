// Package unpack recognises compressed image files (gzip, xz, zstd, bzip2)
// by their magic numbers and decompresses them as they stream.
package unpack

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Kinds of compression Open knows.
const (
	Gzip  = "gzip"
	XZ    = "xz"
	Zstd  = "zstd"
	Bzip2 = "bzip2"
)

var magics = []struct {
	kind  string
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{XZ, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{Bzip2, []byte("BZh")},
}

// Detect names the compression of data starting with head, or "".
func Detect(head []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.kind
		}
	}
	return ""
}

// Open returns r decompressed when it is compressed, and the kind of
// compression ("" and the data as it is otherwise). A corrupt stream shows
// as an error from Read. Close ends the decompressor's work (zstd runs
// goroutines).
func Open(r io.Reader) (io.ReadCloser, string, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(8)
	if err != nil && err != io.EOF {
		return nil, "", err
	}
	kind := Detect(head)
	var out io.Reader
	closer := func() {}
	switch kind {
	case "":
		return io.NopCloser(br), "", nil
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, kind, fmt.Errorf("gzip: %w", err)
		}
		out = zr
	case XZ:
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, kind, fmt.Errorf("xz: %w", err)
		}
		out = xr
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, kind, fmt.Errorf("zstd: %w", err)
		}
		out, closer = zr, zr.Close
	case Bzip2:
		out = bzip2.NewReader(br)
	}
	return &reader{Reader: out, kind: kind, close: closer}, kind, nil
}

// reader names the compression in its errors: a corrupt archive is then
// told apart from a network failure.
type reader struct {
	io.Reader
	kind  string
	close func()
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("decompressing %s data: %w", r.kind, err)
	}
	return n, err
}

func (r *reader) Close() error {
	r.close()
	return nil
}
