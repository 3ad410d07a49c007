package diskformat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Inspector examines image data as it streams past (it is an io.Writer, so
// it sits behind an io.TeeReader), keeping only the parts of it that the
// formats' headers occupy: the first MiB and a bit, the last 1536 bytes, and
// the few regions a VHDX header points to. After the last Write, Format,
// VirtualSize and Check give the verdict.
type Inspector struct {
	n    int64
	head []byte
	tail []byte // the last tailLen bytes seen, in order
	caps []*capture
	vhdx vhdxState
}

const (
	// headMax covers a VMDK sparse header (512 bytes) and the descriptor
	// after it (up to 1 MiB), the VHDX region table (192 KiB + 64 KiB) and
	// the ISO 9660 volume descriptor (32 KiB + 2 KiB).
	headMax = 512 + 1<<20
	// tailLen covers a streamOptimized VMDK's footer marker, footer and
	// end-of-stream marker, and a fixed VHD's footer.
	tailLen = 1536
)

// capture collects len(buf) bytes of the stream from off.
type capture struct {
	off  int64
	buf  []byte
	have int
}

func (c *capture) done() bool { return c.have == len(c.buf) }

// fill copies the part of p (which starts at stream offset at) that c wants.
func (c *capture) fill(at int64, p []byte) {
	end := at + int64(len(p))
	from, to := max(c.off+int64(c.have), at), min(c.off+int64(len(c.buf)), end)
	if from >= to || from != c.off+int64(c.have) {
		return
	}
	c.have += copy(c.buf[from-c.off:to-c.off], p[from-at:to-at])
}

// NewInspector returns an Inspector for one stream.
func NewInspector() *Inspector { return &Inspector{} }

// Write takes the next part of the stream; it never fails.
func (in *Inspector) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		n := in.nextStop(len(p))
		in.take(p[:n])
		p = p[n:]
	}
	return total, nil
}

// nextStop bounds the next piece of a write at the end of a region a
// format still follows pointers from (the head part of a VHDX region
// table, an incomplete capture), so that the region it points to next can
// be asked for before the stream passes it.
func (in *Inspector) nextStop(n int) int {
	if in.vhdx.step == vhdxDone {
		return n
	}
	stop := func(end int64) {
		if end > in.n && end-in.n < int64(n) {
			n = int(end - in.n)
		}
	}
	stop(vhdxRegionEnd)
	for _, c := range in.caps {
		if !c.done() {
			stop(c.off + int64(len(c.buf)))
		}
	}
	return n
}

func (in *Inspector) take(p []byte) {
	at := in.n
	if in.head == nil && len(p) > 0 {
		in.head = make([]byte, 0, headMax)
	}
	if len(in.head) < headMax {
		k := min(len(p), headMax-len(in.head))
		in.head = append(in.head, p[:k]...)
	}
	for _, c := range in.caps {
		c.fill(at, p)
	}
	if len(p) >= tailLen {
		in.tail = append(in.tail[:0], p[len(p)-tailLen:]...)
	} else {
		in.tail = append(in.tail, p...)
		if over := len(in.tail) - tailLen; over > 0 {
			in.tail = append(in.tail[:0], in.tail[over:]...)
		}
	}
	in.n += int64(len(p))
	if in.vhdx.step != vhdxDone && len(in.head) >= 8 {
		in.vhdxAdvance()
	}
}

// Size is the number of bytes seen.
func (in *Inspector) Size() int64 { return in.n }

// want returns a capture of n bytes at off, or nil when that part of the
// stream has already gone by (and is not in the head).
func (in *Inspector) want(off int64, n int) ([]byte, *capture) {
	if off < 0 || n < 0 || off > in.n+1<<40 {
		return nil, nil
	}
	if off+int64(n) <= int64(len(in.head)) {
		return in.head[off : off+int64(n)], nil
	}
	if off < in.n {
		return nil, nil
	}
	c := &capture{off: off, buf: make([]byte, n)}
	in.caps = append(in.caps, c)
	return nil, c
}

// at returns n bytes of the head at off, or nil when the head is shorter.
func (in *Inspector) at(off, n int) []byte {
	if off < 0 || off+n > len(in.head) {
		return nil
	}
	return in.head[off : off+n]
}

// format is what the Inspector knows of one disk format.
type format struct {
	name   string
	match  func(in *Inspector) bool
	vsize  func(in *Inspector) int64
	checks []check
}

// check is one named safety check: an error says what is wrong.
type check struct {
	name string
	fn   func(in *Inspector, o CheckOptions) error
}

var formats []format // set in init, so the table can name the functions

func init() {
	formats = []format{
		{name: "qcow2", match: qcowMatch, vsize: qcowSize, checks: []check{
			{"backing_file", qcowBackingFile}, {"data_file", qcowDataFile}, {"unknown_features", qcowFeatures}}},
		{name: "qed", match: func(in *Inspector) bool { return string(in.at(0, 4)) == "QED\x00" },
			vsize:  func(in *Inspector) int64 { return 0 },
			checks: []check{{"banned", func(*Inspector, CheckOptions) error { return errors.New("this file format is not allowed") }}}},
		{name: "vhd", match: vhdMatch, vsize: vhdSize},
		{name: "vhdx", match: vhdxMatch, vsize: vhdxSize},
		{name: "vmdk", match: vmdkMatch, vsize: vmdkSize, checks: []check{{"descriptor", vmdkDescriptor}, {"footer", vmdkFooter}}},
		{name: "vdi", match: vdiMatch, vsize: vdiSize},
		{name: "iso", match: isoMatch, vsize: isoSize},
		{name: "gpt", match: gptMatch, vsize: func(in *Inspector) int64 { return in.n }, checks: []check{{"mbr", gptMBR}}},
	}
}

// Inspectable reports whether the Inspector recognises a disk format's
// content (raw included): others (ami, ari, aki, ploop) can only be told
// apart from the formats it knows.
func Inspectable(name string) bool {
	if name == "raw" {
		return true
	}
	_, ok := lookup(name)
	return ok
}

func lookup(name string) (format, bool) {
	for _, f := range formats {
		if f.name == name {
			return f, true
		}
	}
	return format{}, false
}

// ErrMultiple is the error of Format when the content matches several
// formats (other than an ISO with a partition table in front).
var ErrMultiple = errors.New("multiple formats detected")

// Format returns the format the content has: "raw" when no other matches.
func (in *Inspector) Format() (string, error) {
	var names []string
	for _, f := range formats {
		if f.match(in) {
			names = append(names, f.name)
		}
	}
	switch {
	case len(names) == 0:
		return "raw", nil
	case len(names) == 1:
		return names[0], nil
	case len(names) == 2 && names[0] == "iso" && names[1] == "gpt":
		return "iso", nil // a bootable ISO may have an MBR in front
	}
	sort.Strings(names)
	return "", fmt.Errorf("%w: %s", ErrMultiple, strings.Join(names, ","))
}

// VirtualSize returns the size of the disk the content presents if it is
// of format name (the data size for raw), 0 if unknown.
func (in *Inspector) VirtualSize(name string) int64 {
	if name == "raw" {
		return in.n
	}
	f, ok := lookup(name)
	if !ok || !f.match(in) {
		return 0
	}
	return max(f.vsize(in), 0) // a size past 2^63 is garbage, not a size

}

// CheckOptions tune the safety checks.
type CheckOptions struct {
	// VMDKTypes are the VMDK createTypes allowed, compared without case;
	// empty means monolithicSparse and streamOptimized, as Glance allows.
	VMDKTypes []string
	// Nonfatal names checks whose failure is ignored (Glance's
	// gpt_safety_checks_nonfatal, e.g. "mbr").
	Nonfatal []string
}

// SafetyError lists the safety checks the content failed, by check name.
type SafetyError struct {
	Format   string
	Failures map[string]error
}

func (e *SafetyError) Error() string {
	names := make([]string, 0, len(e.Failures))
	for n := range e.Failures {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + e.Failures[n].Error()
	}
	return fmt.Sprintf("%s image failed safety checks (%s)", e.Format, strings.Join(parts, "; "))
}

// Check runs the safety checks of format name on the content: a
// *SafetyError lists what failed.
func (in *Inspector) Check(name string, o CheckOptions) error {
	f, ok := lookup(name)
	if !ok || !f.match(in) {
		return nil
	}
	fail := map[string]error{}
	for _, c := range f.checks {
		if err := c.fn(in, o); err != nil && !contains(o.Nonfatal, c.name) {
			fail[c.name] = err
		}
	}
	if len(fail) > 0 {
		return &SafetyError{Format: name, Failures: fail}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func be64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }
func le64(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }
