package glance_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
)

// TestIntegrationResume interrupts a download from the real Glance once data
// flows, then resumes it: Glance answers the Range request, and the whole
// file is verified against the image's hash.
func TestIntegrationResume(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, cnt := login(t, cloud, cloud.AlphaMember, "")
	ctx := context.Background()
	const size = 24 << 20
	img, err := c.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t), DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupImage(t, c, img.ID)
	if _, err := c.Upload(ctx, img.ID, &pattern{n: size}, &glance.UploadOptions{Size: size}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "disk.raw")
	cut, cancel := context.WithCancel(ctx)
	_, err = c.DownloadToFile(cut, img.ID, path, &glance.DownloadOptions{Resume: true}, func(d *glance.Download, w io.Writer) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			n, err := w.Write(p)
			cancel() // after the first chunk is in the file
			return n, err
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted download: %v", err)
	}
	part, err := os.Stat(partName(path))
	if err != nil || part.Size() == 0 || part.Size() >= size {
		t.Fatalf("kept part: %v, %v bytes", err, part)
	}
	res, err := c.DownloadToFile(ctx, img.ID, path, &glance.DownloadOptions{Resume: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != part.Size() || res.Size != size || res.Algorithm != "sha512" {
		t.Fatalf("result %+v, want %d bytes resumed", res, part.Size())
	}
	if n := cnt.count("GET /v2/images/" + img.ID + "/file"); n != 2 {
		t.Fatalf("%d data requests, want 2", n)
	}
	got, _ := os.ReadFile(path)
	want, _ := io.ReadAll(&pattern{n: size})
	if !bytes.Equal(got, want) {
		t.Fatal("the resumed file differs from the image")
	}
	assertOnly(t, dir, "disk.raw")
}

// TestIntegrationParallel downloads from the real Glance in three ranges,
// each answered with its Content-Range, and verifies the whole file.
func TestIntegrationParallel(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, cnt := login(t, cloud, cloud.AlphaMember, "")
	ctx := context.Background()
	const size = 14<<20 + 5
	img, err := c.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t), DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupImage(t, c, img.ID)
	if _, err := c.Upload(ctx, img.ID, &pattern{n: size}, &glance.UploadOptions{Size: size}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "disk.raw")
	res, err := c.DownloadToFile(ctx, img.ID, path, &glance.DownloadOptions{Parallel: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := cnt.count("GET /v2/images/" + img.ID + "/file"); n != 3 || res.Algorithm != "sha512" || res.Size != size {
		t.Fatalf("%d data requests, result %+v; want 3 and a verified file", n, res)
	}
	got, _ := os.ReadFile(path)
	want, _ := io.ReadAll(&pattern{n: size})
	if !bytes.Equal(got, want) {
		t.Fatal("the file differs from the image")
	}
}
