package diskformat

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDetectImagesOfQemuImg checks Detect on images made by qemu-img, the
// tool most images come from, in every format it writes that Glance knows.
func TestDetectImagesOfQemuImg(t *testing.T) {
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("SKIPPED: qemu-img is not installed (Debian package qemu-utils); the synthetic headers below still run")
	}
	dir := t.TempDir()
	for _, c := range []struct{ qemuFormat, opts, want string }{
		{"qcow2", "", "qcow2"},
		{"vmdk", "", "vmdk"},
		{"vmdk", "subformat=streamOptimized", "vmdk"},
		{"vpc", "", "vhd"},                // dynamic: footer copy at the start
		{"vpc", "subformat=fixed", "vhd"}, // fixed: footer at the end only
		{"vhdx", "", "vhdx"},
		{"vdi", "", "vdi"},
		{"raw", "", "raw"},
	} {
		name := filepath.Join(dir, c.qemuFormat+c.opts)
		args := []string{"create", "-f", c.qemuFormat}
		if c.opts != "" {
			args = append(args, "-o", c.opts)
		}
		if out, err := exec.Command(qemu, append(args, name, "1M")...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v: %s", args, err, out)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, got, err := Sniff(f)
		if err != nil || got != c.want {
			t.Errorf("%s %s: detected %q (%v), want %q", c.qemuFormat, c.opts, got, err, c.want)
		}
		// The reader gives the whole file, from its start, and stays a file.
		whole, _ := os.ReadFile(name)
		if data, _ := io.ReadAll(r); !bytes.Equal(data, whole) || r != io.Reader(f) {
			t.Errorf("%s %s: Sniff did not give back the whole file", c.qemuFormat, c.opts)
		}
		f.Close()
	}
}

func TestDetectHeaders(t *testing.T) {
	at := func(off int, b string) []byte {
		h := make([]byte, HeadSize)
		copy(h[off:], b)
		return h
	}
	for _, c := range []struct {
		name       string
		head, tail []byte
		want       string
	}{
		{"vmdk descriptor", []byte("# Disk DescriptorFile\nversion=1\n"), nil, "vmdk"},
		{"ploop", []byte("WithoutFreeSpace\x00\x00"), nil, "ploop"},
		{"iso 9660", at(0x8001, "CD001"), nil, "iso"},
		{"iso descriptor cut short", at(0x8001, "CD001")[:0x8003], nil, "raw"},
		{"fixed vhd tail", make([]byte, 100), append(make([]byte, 0, 512), at(0, "conectix")[:512]...), "vhd"},
		{"empty", nil, nil, "raw"},
		{"zeros", make([]byte, HeadSize), make([]byte, 512), "raw"},
	} {
		if got := Detect(c.head, c.tail); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestSniffPipe: a pipe is not seekable; what Sniff read is given back first.
func TestSniffPipe(t *testing.T) {
	data := append([]byte("QFI\xfb"), bytes.Repeat([]byte{7}, 100_000)...)
	r, got, err := Sniff(io.MultiReader(bytes.NewReader(data))) // hides Seek
	if err != nil || got != "qcow2" {
		t.Fatalf("%q, %v", got, err)
	}
	if back, _ := io.ReadAll(r); !bytes.Equal(back, data) {
		t.Fatal("Sniff lost data")
	}
}
