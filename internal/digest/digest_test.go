package digest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

// TestPipeKeepsOrder: Write (copied, batched) and Submit (shared buffers)
// reach the writer in the order they were queued, whatever the sizes.
func TestPipeKeepsOrder(t *testing.T) {
	var got bytes.Buffer
	p := NewPipe(&got)
	pool := NewPool(2, 3<<20)
	var want bytes.Buffer
	for i, n := range []int{1, 100, 1 << 20, 3<<20 - 1, 7, 2 << 20} {
		b := bytes.Repeat([]byte{byte(i + 1)}, n)
		want.Write(b)
		if i%2 == 0 {
			p.Write(b)
			continue
		}
		c := pool.Get()
		copy(c.B, b)
		p.Submit(c, c.B[:n])
		c.Release()
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("the writer got %d bytes out of order or lost", got.Len())
	}
	// Every buffer came back to the pool.
	pool.Get()
	pool.Get()
}

type failAfter struct{ n int }

func (f *failAfter) Write(b []byte) (int, error) {
	if f.n -= len(b); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestPipeReportsWriterError(t *testing.T) {
	p := NewPipe(&failAfter{n: 2 << 20})
	chunk := make([]byte, 1<<20)
	var err error
	for i := 0; i < 64 && err == nil; i++ {
		_, err = p.Write(chunk)
	}
	if werr := p.Wait(); werr == nil || werr.Error() != "disk full" {
		t.Fatalf("Wait: %v, want the writer's error", werr)
	}
	if _, err := p.Write(chunk); err == nil {
		t.Fatal("Write after the error and Close succeeded")
	}
}

func TestReaderSums(t *testing.T) {
	data := bytes.Repeat([]byte("image data "), 300_000)
	m, s := md5.Sum(data), sha512.Sum512(data)
	r := NewReader(bytes.NewReader(data))
	io.Copy(io.Discard, r)
	got := r.Sums()
	if got.Size != int64(len(data)) || got.MD5 != hex.EncodeToString(m[:]) || got.SHA512 != hex.EncodeToString(s[:]) {
		t.Fatalf("sums %+v", got)
	}
	r = NewSHA512Reader(bytes.NewReader(data))
	io.Copy(io.Discard, r)
	if got := r.Sums(); got.MD5 != "" || got.SHA512 != hex.EncodeToString(s[:]) {
		t.Fatalf("SHA-512 only: %+v", got)
	}
}
