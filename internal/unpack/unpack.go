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

// Open returns r decompressed when it is compressed, the kind of
// compression, and what ends the decompressor's work (zstd runs
// goroutines). Data that is not compressed comes back as it was: r itself
// when it is seekable (a file stays one). A corrupt stream shows as an
// error from Read.
func Open(r io.Reader) (io.Reader, string, func(), error) {
	head := make([]byte, 8)
	var in io.Reader
	if s, ok := r.(io.ReadSeeker); ok {
		n, err := io.ReadFull(s, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, "", nil, err
		}
		if _, err := s.Seek(int64(-n), io.SeekCurrent); err != nil {
			return nil, "", nil, err
		}
		head, in = head[:n], bufio.NewReaderSize(s, 1<<20)
	} else {
		br := bufio.NewReaderSize(r, 1<<20)
		var err error
		if head, err = br.Peek(8); err != nil && err != io.EOF {
			return nil, "", nil, err
		}
		r, in = br, br
	}
	kind := Detect(head)
	var out io.Reader
	closer := func() {}
	switch kind {
	case "":
		return r, "", closer, nil
	case Gzip:
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, kind, nil, fmt.Errorf("gzip: %w", err)
		}
		out = zr
	case XZ:
		xr, err := xz.NewReader(in)
		if err != nil {
			return nil, kind, nil, fmt.Errorf("xz: %w", err)
		}
		out = xr
	case Zstd:
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, kind, nil, fmt.Errorf("zstd: %w", err)
		}
		out, closer = zr, zr.Close
	case Bzip2:
		out = bzip2.NewReader(in)
	}
	return &reader{Reader: out, kind: kind}, kind, closer, nil
}

// reader names the compression in its errors: a corrupt archive is then
// told apart from a network failure.
type reader struct {
	io.Reader
	kind string
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("decompressing %s data: %w", r.kind, err)
	}
	return n, err
}
