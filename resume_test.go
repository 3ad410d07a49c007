package glance_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-glance/glance"
)

var resume = &glance.DownloadOptions{Resume: true}

// cutDownload runs a resumable download that the server cuts after cut
// bytes, and checks that the partial file holds exactly those bytes.
func cutDownload(t *testing.T, f *fakeImage, c *glance.Client, path string, cut int) {
	t.Helper()
	f.truncateAt = cut
	_, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut at %d: want unexpected EOF, got %v", cut, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("cut at %d: %s exists after a failed download", cut, path)
	}
	part, err := os.ReadFile(partName(path))
	if err != nil {
		t.Fatalf("cut at %d: the partial file was not kept: %v", cut, err)
	}
	if string(part) != string(f.data[:len(part)]) || len(part) > cut {
		t.Fatalf("cut at %d: the partial file holds %d bytes that are not the image's first ones", cut, len(part))
	}
	f.truncateAt = 0
}

func partName(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".part")
}

func TestResumeContinuesWithRange(t *testing.T) {
	data := payload(3 << 20)
	f, c := newFake(t, data)
	f.ranges = true
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		dir := t.TempDir()
		path := filepath.Join(dir, "img")
		cut := 1 + rng.IntN(len(data)-1)
		cutDownload(t, f, c, path, cut)
		kept, _ := os.Stat(partName(path))
		f.gotRanges = nil
		res, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil)
		if err != nil {
			t.Fatalf("cut at %d: resume: %v", cut, err)
		}
		if res.Resumed != kept.Size() || res.Size != int64(len(data)) || res.Algorithm != "sha512" {
			t.Fatalf("cut at %d (kept %d): result %+v", cut, kept.Size(), res)
		}
		if want := "bytes=" + itoa(kept.Size()) + "-"; len(f.gotRanges) != 1 || f.gotRanges[0] != want {
			t.Fatalf("cut at %d: Range headers %q, want one %q", cut, f.gotRanges, want)
		}
		got, _ := os.ReadFile(path)
		if string(got) != string(data) {
			t.Fatalf("cut at %d: the resumed file differs from the image", cut)
		}
		assertOnly(t, dir, "img")
	}
}

func TestResumeWithoutRangeSupportRestarts(t *testing.T) {
	data := payload(1 << 20)
	f, c := newFake(t, data)
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	cutDownload(t, f, c, path, 400_000)
	res, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 0 || res.Size != int64(len(data)) {
		t.Fatalf("result %+v, want a whole download", res)
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("the file differs from the image")
	}
	assertOnly(t, dir, "img")
}

func TestResumeOfChangedImageRestarts(t *testing.T) {
	f, c := newFake(t, payload(1<<20))
	f.ranges = true
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	cutDownload(t, f, c, path, 500_000)
	// The image is now other data (deleted and made again under the same
	// ID, as an import can): the kept part is of no use.
	data := payload(1<<20 + 3)
	data[0] ^= 0xff
	m, s := digests(data)
	f.data = data
	f.record = map[string]any{"id": imageID, "status": "active", "size": len(data),
		"checksum": m, "os_hash_algo": "sha512", "os_hash_value": s}
	f.gotRanges = nil
	res, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 0 || len(f.gotRanges) != 1 || f.gotRanges[0] != "" {
		t.Fatalf("result %+v, Range headers %q: want a whole download", res, f.gotRanges)
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("the file differs from the new image")
	}
	assertOnly(t, dir, "img")
}

func TestResumeOfCorruptPartFailsAndStartsOver(t *testing.T) {
	data := payload(1 << 20)
	f, c := newFake(t, data)
	f.ranges = true
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	cutDownload(t, f, c, path, 300_000)
	part, _ := os.ReadFile(partName(path))
	part[100] ^= 1 // a bit flipped on the disk
	os.WriteFile(partName(path), part, 0o600)
	_, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil)
	if !errors.Is(err, glance.ErrChecksumMismatch) {
		t.Fatalf("want a checksum mismatch, got %v", err)
	}
	assertEmptyDir(t, dir) // bad data is not kept for the next try
	if _, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("the file differs from the image")
	}
}

func TestResumeOfCompletePartOnlyVerifies(t *testing.T) {
	data := payload(200_000)
	f, c := newFake(t, data)
	f.ranges = true
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	cutDownload(t, f, c, path, 150_000)
	// The rest arrives, but the rename never happens (the process died).
	os.WriteFile(partName(path), data, 0o600)
	f.gotRanges = nil
	res, err := c.DownloadToFile(context.Background(), imageID, path, resume, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != int64(len(data)) || len(f.gotRanges) != 0 {
		t.Fatalf("result %+v, data requests %q: want none", res, f.gotRanges)
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("the file differs from the image")
	}
}

// assertOnly fails unless dir holds just the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
	for i := range got {
		if got[i] != names[i] {
			t.Fatalf("%s holds %q, want %q", dir, got, names)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
