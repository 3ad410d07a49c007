package unpack

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// compress runs the usual command-line tool, as image files are made.
func compress(t *testing.T, tool string, data []byte) []byte {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("SKIPPED: %s is not installed", tool)
	}
	cmd := exec.Command(path, "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return out
}

// image is compressible but not trivial: text and random runs.
func image() []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	for b.Len() < 3<<20 {
		b.WriteString(strings.Repeat("sector ", 1+rng.IntN(200)))
		for range rng.IntN(500) {
			b.WriteByte(byte(rng.Uint32()))
		}
	}
	return b.Bytes()
}

var tools = map[string]string{Gzip: "gzip", XZ: "xz", Zstd: "zstd", Bzip2: "bzip2"}

func TestOpenDecompresses(t *testing.T) {
	data := image()
	for kind, tool := range tools {
		t.Run(kind, func(t *testing.T) {
			r, got, done, err := Open(bytes.NewReader(compress(t, tool, data)))
			if err != nil || got != kind {
				t.Fatalf("Open: %q, %v", got, err)
			}
			defer done()
			out, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("decompressed %d bytes (%v), want the %d of the image", len(out), err, len(data))
			}
		})
	}
}

func TestOpenPassesPlainData(t *testing.T) {
	data := image()
	src := bytes.NewReader(data)
	r, kind, _, err := Open(src)
	if err != nil || kind != "" || r != io.Reader(src) {
		t.Fatalf("%q, %v: want the reader itself back", kind, err)
	}
	if out, _ := io.ReadAll(r); !bytes.Equal(out, data) {
		t.Fatal("plain data changed")
	}
	r, _, _, _ = Open(io.MultiReader(bytes.NewReader(data))) // not seekable
	if out, _ := io.ReadAll(r); !bytes.Equal(out, data) {
		t.Fatal("plain data from a pipe changed")
	}
}

// TestOpenCorrupt: a flipped byte or a cut archive is an error that names
// the compression, never a short image passed off as whole.
func TestOpenCorrupt(t *testing.T) {
	data := image()
	for kind, tool := range tools {
		t.Run(kind, func(t *testing.T) {
			z := compress(t, tool, data)
			flipped := bytes.Clone(z)
			flipped[len(z)/2] ^= 0x55
			for name, bad := range map[string][]byte{"flipped": flipped, "cut": z[:len(z)*2/3]} {
				r, _, done, err := Open(bytes.NewReader(bad))
				if err != nil {
					continue // refused at the header: fine too
				}
				out, err := io.ReadAll(r)
				done()
				if err == nil {
					t.Errorf("%s: read %d bytes without an error", name, len(out))
					continue
				}
				if !strings.Contains(err.Error(), "decompressing "+kind) {
					t.Errorf("%s: error %q does not name %s", name, err, kind)
				}
				if errors.Is(err, io.EOF) {
					t.Errorf("%s: a bare EOF", name)
				}
			}
		})
	}
}
