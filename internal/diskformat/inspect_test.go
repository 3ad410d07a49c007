package diskformat

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// inspect feeds data to a new Inspector in chunks of random sizes (up to
// max), as a network stream arrives.
func inspect(data []byte, rng *rand.Rand, max int) *Inspector {
	in := NewInspector()
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(max))
		in.Write(data[:n])
		data = data[n:]
	}
	return in
}

// qemuImg runs qemu-img, skipping the test loudly when it is not installed.
func qemuImg(t *testing.T, args ...string) string {
	t.Helper()
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("SKIPPED: qemu-img is not installed (Debian package qemu-utils)")
	}
	out, err := exec.Command(qemu, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img %v: %v: %s", args, err, out)
	}
	return string(out)
}

// qemuVirtualSize is the virtual size qemu-img reports for a file.
func qemuVirtualSize(t *testing.T, name, format string) int64 {
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal([]byte(qemuImg(t, "info", "-f", format, "--output=json", name)), &info); err != nil {
		t.Fatal(err)
	}
	return info.VirtualSize
}

// TestInspectQemuImages inspects images qemu-img writes, streamed in
// random chunks: each is recognised, has the virtual size qemu-img
// reports, and passes or fails the safety checks as Glance has it.
func TestInspectQemuImages(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	base := filepath.Join(dir, "base.qcow2")
	qemuImg(t, "create", "-f", "qcow2", base, "1M")
	for _, c := range []struct {
		name, qemuFormat, opts, size string
		want, failed                 string // detected format, failed safety check
	}{
		{"qcow2", "qcow2", "", "10M", "qcow2", ""},
		{"qcow2 v2", "qcow2", "compat=0.10", "3M", "qcow2", ""},
		{"qcow2 zstd", "qcow2", "compression_type=zstd", "3M", "qcow2", ""},
		{"qcow2 extended l2", "qcow2", "extended_l2=on", "3M", "qcow2", "unknown_features"},
		{"qcow2 backing file", "qcow2", "backing_file=" + base + ",backing_fmt=qcow2", "", "qcow2", "backing_file"},
		{"qcow2 data file", "qcow2", "data_file=" + filepath.Join(dir, "data.raw"), "2M", "qcow2", "data_file"},
		{"vmdk sparse", "vmdk", "", "5M", "vmdk", ""},
		{"vmdk stream", "vmdk", "subformat=streamOptimized", "5M", "vmdk", ""},
		{"vmdk 2GB sparse", "vmdk", "subformat=twoGbMaxExtentSparse", "5M", "vmdk", "descriptor"},
		{"vmdk flat", "vmdk", "subformat=monolithicFlat", "5M", "vmdk", "descriptor"},
		{"vhd dynamic", "vpc", "", "7M", "vhd", ""},
		{"vhd fixed", "vpc", "subformat=fixed", "7M", "vhd", ""},
		{"vhdx", "vhdx", "", "9M", "vhdx", ""},
		{"vhdx big", "vhdx", "block_size=1M", "3G", "vhdx", ""},
		{"vdi", "vdi", "", "6M", "vdi", ""},
		{"raw", "raw", "", "1M", "raw", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			args := []string{"create", "-f", c.qemuFormat}
			if c.opts != "" {
				args = append(args, "-o", c.opts)
			}
			args = append(args, name)
			if c.size != "" {
				args = append(args, c.size)
			}
			qemuImg(t, args...)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			in := inspect(data, rng, 70000)
			whole := NewInspector()
			whole.Write(data)
			got, err := in.Format()
			if g, _ := whole.Format(); g != got || whole.VirtualSize(g) != in.VirtualSize(got) {
				t.Errorf("one write found %s of %d, small writes %s of %d", g, whole.VirtualSize(g), got, in.VirtualSize(got))
			}
			if err != nil || got != c.want {
				t.Fatalf("format %q (%v), want %q", got, err, c.want)
			}
			err = in.Check(got, CheckOptions{})
			var se *SafetyError
			switch {
			case c.failed == "" && err != nil:
				t.Errorf("safety checks failed: %v", err)
			case c.failed != "" && (!errors.As(err, &se) || se.Failures[c.failed] == nil):
				t.Errorf("safety checks: %v, want the %s check to fail", err, c.failed)
			}
			if c.failed != "" {
				return
			}
			if v, want := in.VirtualSize(got), qemuVirtualSize(t, name, c.qemuFormat); v != want {
				t.Errorf("virtual size %d, qemu-img says %d", v, want)
			}
		})
	}
}

// TestInspectSynthetic covers what qemu-img does not write: ISO 9660,
// partition tables, truncated and garbage headers, disguised formats.
func TestInspectSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	iso := make([]byte, 0x9000)
	iso[0x8000] = 1
	copy(iso[0x8001:], "CD001")
	binary.LittleEndian.PutUint32(iso[0x8000+80:], 300) // blocks
	binary.LittleEndian.PutUint16(iso[0x8000+128:], 2048)
	mbr := func(parts ...byte) []byte {
		b := make([]byte, 4096)
		for i, typ := range parts {
			e := b[446+16*i:]
			e[2], e[4] = 2, typ
			binary.LittleEndian.PutUint32(e[8:], 1)
		}
		b[510], b[511] = 0x55, 0xaa
		return b
	}
	hybrid := append([]byte(nil), iso...)
	copy(hybrid, mbr(0xee)[:512])
	qcow := make([]byte, 512)
	copy(qcow, "QFI\xfb\x00\x00\x00\x03")
	vhdFooterOnly := make([]byte, 1536)
	copy(vhdFooterOnly[1024:], "conectix")
	garbage := make([]byte, 100000)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	garbage[510], garbage[511] = 0, 0
	for _, c := range []struct {
		name   string
		data   []byte
		want   string
		vsize  int64
		failed string
	}{
		{"iso", iso, "iso", 300 * 2048, ""},
		{"iso with protective MBR", hybrid, "iso", 300 * 2048, ""},
		{"gpt", mbr(0xee), "gpt", 4096, ""},
		{"mbr with two partitions", mbr(0x83, 0x82), "gpt", 4096, ""},
		{"gpt and more partitions", mbr(0xee, 0x83), "gpt", 4096, "mbr"},
		{"qcow2 header", qcow, "qcow2", 0, ""},
		{"qcow2 truncated", qcow[:100], "raw", 100, ""},
		{"empty", nil, "raw", 0, ""},
		{"garbage", garbage, "raw", int64(len(garbage)), ""},
		{"vhd footer at the end", vhdFooterOnly, "vhd", 0, ""},
		{"qed", []byte("QED\x00" + strings.Repeat("\x00", 600)), "qed", 0, "banned"},
		{"text file", []byte(strings.Repeat("hello world\n", 100)), "raw", 1200, ""},
	} {
		in := inspect(c.data, rng, 5000)
		got, err := in.Format()
		if err != nil || got != c.want {
			t.Errorf("%s: format %q (%v), want %q", c.name, got, err, c.want)
			continue
		}
		if v := in.VirtualSize(got); v != c.vsize {
			t.Errorf("%s: virtual size %d, want %d", c.name, v, c.vsize)
		}
		err = in.Check(got, CheckOptions{})
		var se *SafetyError
		if (c.failed == "") != (err == nil) || (c.failed != "" && (!errors.As(err, &se) || se.Failures[c.failed] == nil)) {
			t.Errorf("%s: safety checks %v, want failed %q", c.name, err, c.failed)
		}
	}
	// A qcow2 header on an MBR is two formats: refused, not guessed.
	both := mbr(0x83)
	copy(both, qcow[:0x68])
	if got, err := inspect(both, rng, 100).Format(); !errors.Is(err, ErrMultiple) {
		t.Errorf("qcow2 on an MBR: %q, %v; want ErrMultiple", got, err)
	}
	// Non-fatal checks are only that.
	in := inspect(mbr(0xee, 0x83), rng, 100)
	if err := in.Check("gpt", CheckOptions{Nonfatal: []string{"mbr"}}); err != nil {
		t.Errorf("non-fatal mbr check: %v", err)
	}
}

// FuzzInspector feeds arbitrary data, split at an arbitrary point: the
// inspector never panics and decides the same whatever the split.
func FuzzInspector(f *testing.F) {
	qcow := make([]byte, 512)
	copy(qcow, "QFI\xfb\x00\x00\x00\x03")
	f.Add(qcow, 7)
	f.Add([]byte("KDMV\x01\x00\x00\x00"), 3)
	f.Add([]byte("# Disk DescriptorFile\ncreateType=\"monolithicSparse\"\nRW 100 SPARSE \"x.vmdk\"\n"), 20)
	f.Add(append([]byte("vhdxfile"), make([]byte, 300<<10)...), 1000)
	f.Add([]byte("conectix"), 1)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		split = min(max(split, 0), len(data))
		a, b := NewInspector(), NewInspector()
		a.Write(data)
		b.Write(data[:split])
		b.Write(data[split:])
		fa, ea := a.Format()
		fb, eb := b.Format()
		if fa != fb || (ea == nil) != (eb == nil) {
			t.Fatalf("split at %d changed the format: %q %v / %q %v", split, fa, ea, fb, eb)
		}
		for _, f := range append([]string{"raw"}, namesOf()...) {
			if a.VirtualSize(f) != b.VirtualSize(f) || (a.Check(f, CheckOptions{}) == nil) != (b.Check(f, CheckOptions{}) == nil) {
				t.Fatalf("split at %d changed the %s verdict", split, f)
			}
		}
	})
}

func namesOf() []string {
	var n []string
	for _, f := range formats {
		n = append(n, f.name)
	}
	return n
}

// TestCaptureAcrossWrites checks that a region the stream reaches later is
// collected across writes of any size.
func TestCaptureAcrossWrites(t *testing.T) {
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, chunk := range []int{1, 13, 4096, 1 << 20} {
		in := NewInspector()
		in.Write(data[:10])
		got, c := in.want(2<<20+5, 1000)
		if got != nil || c == nil {
			t.Fatalf("want of a later region: %v %v", got, c)
		}
		for off := 10; off < len(data); off += chunk {
			in.Write(data[off:min(off+chunk, len(data))])
		}
		if !c.done() || !bytes.Equal(c.buf, data[2<<20+5:2<<20+1005]) {
			t.Errorf("chunk %d: capture wrong", chunk)
		}
		if got, c := in.want(100, 10); c != nil || !bytes.Equal(got, data[100:110]) {
			t.Errorf("chunk %d: a region of the head is not served from it", chunk)
		}
		if got, c := in.want(2<<20, 10); got != nil || c != nil {
			t.Errorf("chunk %d: a region gone by is offered", chunk)
		}
	}
}

// BenchmarkInspector measures the cost the inspection adds to an upload
// streamed in 256 KiB writes.
func BenchmarkInspector(b *testing.B) {
	data := make([]byte, 64<<20)
	copy(data, "QFI\xfb\x00\x00\x00\x03")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		in := NewInspector()
		for off := 0; off < len(data); off += 256 << 10 {
			in.Write(data[off : off+256<<10])
		}
		if f, _ := in.Format(); f != "qcow2" {
			b.Fatal(f)
		}
	}
}
