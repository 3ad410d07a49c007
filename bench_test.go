package glance_test

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-glance/glance"
)

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > z.n {
		k = z.n
	}
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// BenchmarkTransfer streams images of growing size through Upload and
// Download over loopback. Bytes allocated per operation stay flat as the
// image grows: memory does not depend on image size.
func BenchmarkTransfer(b *testing.B) {
	for _, mib := range []int64{16, 256} {
		size := mib << 20
		sum := sha512.New()
		io.Copy(sum, &zeroReader{size})
		record := fmt.Sprintf(`{"id": %q, "status": "active", "size": %d, "os_hash_algo": "sha512", "os_hash_value": %q}`,
			imageID, size, hex.EncodeToString(sum.Sum(nil)))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/file"):
				io.WriteString(w, record)
			case r.Method == http.MethodPut:
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			case r.Method == http.MethodGet:
				w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
				io.CopyBuffer(w, &zeroReader{size}, make([]byte, 1<<20))
			}
		}))
		c, _ := glance.New(srv.URL+"/v2", nil)
		ctx := context.Background()
		b.Run("upload/"+strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Upload(ctx, imageID, &zeroReader{size}, &glance.UploadOptions{Size: size, NoVerify: true}); err != nil {
					b.Fatal(err)
				}
			}
			reportHeap(b)
		})
		b.Run("download/"+strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			buf := make([]byte, 1<<20)
			for b.Loop() {
				d, err := c.Download(ctx, imageID, &glance.DownloadOptions{NoVerify: true})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, d, buf); err != nil {
					b.Fatal(err)
				}
				d.Close()
			}
			reportHeap(b)
		})
		b.Run("download-verified/"+strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			buf := make([]byte, 1<<20)
			for b.Loop() {
				d, err := c.Download(ctx, imageID, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, d, buf); err != nil || !d.Verified() {
					b.Fatal(err, d.Verified())
				}
				d.Close()
			}
			reportHeap(b)
		})
		srv.Close()
	}
}

func reportHeap(b *testing.B) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
}
