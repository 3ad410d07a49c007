package server

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// BenchmarkTransferLoopback uploads and downloads a 64 MiB image through a
// real glanced on a loopback port: the cost of pacing bodies and answers.
func BenchmarkTransferLoopback(b *testing.B) {
	const size = 64 << 20
	ts := startServer(b, Config{})
	id := ts.create(b, map[string]any{"disk_format": "raw", "container_format": "bare"})
	data := make([]byte, size)
	wantCode(b, "upload", do(b, "PUT", ts.URL+"/v2/images/"+id+"/file", data), 204)
	b.Run("download", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			res, err := http.Get(ts.URL + "/v2/images/" + id + "/file")
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil || n != size {
				b.Fatalf("download: %d bytes, %v", n, err)
			}
		}
	})
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			id := ts.create(b, map[string]any{"disk_format": "raw", "container_format": "bare"})
			wantCode(b, "upload", do(b, "PUT", ts.URL+"/v2/images/"+id+"/file", bytes.NewReader(data)), 204)
		}
	})
}
