package glance_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/go-glance/glance"
)

// TestSparseDownload: a raw image that is mostly zeros takes on disk about
// what it holds, and reads the same, zeros at its end included.
func TestSparseDownload(t *testing.T) {
	data := make([]byte, 8<<20+1000) // 8 MiB and a bit, of which little is data
	copy(data[5000:], bytes.Repeat([]byte("boot"), 2000))
	copy(data[3<<20:], bytes.Repeat([]byte{0xff}, 100_000))
	data[6<<20+17] = 1 // a lone byte in a block of zeros
	_, c := newFake(t, data)
	dir := t.TempDir()
	for _, sparse := range []bool{false, true} {
		path := filepath.Join(dir, "img")
		if _, err := c.DownloadToFile(context.Background(), imageID, path, &glance.DownloadOptions{Sparse: sparse}, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, data) {
			t.Fatalf("sparse %v: the file differs from the image", sparse)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		onDisk := st.Blocks * 512
		t.Logf("sparse %v: %d bytes on disk for %d", sparse, onDisk, len(data))
		if sparse && onDisk > 1<<20 {
			t.Fatalf("the sparse file takes %d bytes on disk for %d of data", onDisk, len(data))
		}
		if !sparse && onDisk < int64(len(data))/2 {
			t.Skipf("SKIPPED: the file system of %s makes holes by itself (%d bytes on disk): no comparison", dir, onDisk)
		}
	}
}
