// Package diskformat tells an image's disk format from its first bytes (and,
// for VHD, its last 512), after the formats' specifications: QCOW2 (QEMU),
// VMDK (VMware Virtual Disk Format 1.1), VHD (Microsoft Virtual Hard Disk
// Image Format), VHDX (MS-VHDX), VDI (VirtualBox), ploop (Virtuozzo) and
// ISO 9660. Anything else is raw.
package diskformat

import (
	"bytes"
	"io"
)

// HeadSize is how much of the start Detect needs: an ISO 9660 volume
// descriptor starts at 32 KiB.
const HeadSize = 0x8000 + 6

// Detect returns the format of data that starts with head and, when the
// data's end is known (a file), ends with tail (its last 512 bytes; nil
// otherwise). It returns "raw" for none of the known formats.
func Detect(head, tail []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		return "qcow2"
	case bytes.HasPrefix(head, []byte("KDMV")), bytes.HasPrefix(head, []byte("COWD")),
		bytes.HasPrefix(head, []byte("# Disk DescriptorFile")):
		return "vmdk" // sparse extent, ESX sparse extent, descriptor
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		return "vhdx"
	case bytes.HasPrefix(head, []byte("conectix")):
		return "vhd" // dynamic and differencing disks copy the footer to the start
	case len(head) >= 0x44 && bytes.Equal(head[0x40:0x44], []byte{0x7f, 0x10, 0xda, 0xbe}):
		return "vdi"
	case bytes.HasPrefix(head, []byte("WithoutFreeSpace")), bytes.HasPrefix(head, []byte("WithouFreSpacExt")):
		return "ploop"
	case isISO(head):
		return "iso"
	case len(tail) >= 512 && bytes.HasPrefix(tail[len(tail)-512:], []byte("conectix")):
		return "vhd" // a fixed disk has its footer only at the end
	}
	return "raw"
}

// isISO looks for the first volume descriptor's "CD001" at 32 KiB + 1.
func isISO(head []byte) bool {
	return len(head) >= 0x8006 && bytes.Equal(head[0x8001:0x8006], []byte("CD001"))
}

// Sniff reads the start of r for Detect and returns a reader that yields r
// whole again, with the format found. A seekable r (a file) is also read at
// its end, for fixed VHDs, and is returned itself, put back where it was,
// so that it stays seekable.
func Sniff(r io.Reader) (io.Reader, string, error) {
	if s, ok := r.(io.ReadSeeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			return sniffSeeker(s, start)
		}
	}
	head, err := readHead(r)
	if err != nil {
		return nil, "", err
	}
	return io.MultiReader(bytes.NewReader(head), r), Detect(head, nil), nil
}

func sniffSeeker(s io.ReadSeeker, start int64) (io.Reader, string, error) {
	head, err := readHead(s)
	if err != nil {
		return nil, "", err
	}
	var tail []byte
	if end, err := s.Seek(0, io.SeekEnd); err == nil && end-start >= 512 {
		tail = make([]byte, 512)
		if _, err := s.Seek(end-512, io.SeekStart); err != nil {
			return nil, "", err
		}
		if _, err := io.ReadFull(s, tail); err != nil {
			return nil, "", err
		}
	}
	if _, err := s.Seek(start, io.SeekStart); err != nil {
		return nil, "", err
	}
	return s, Detect(head, tail), nil
}

func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return head[:n], nil
}
