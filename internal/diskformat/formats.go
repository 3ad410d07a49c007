package diskformat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The formats' layouts, from their specifications: QEMU's qcow2.txt,
// Microsoft's Virtual Hard Disk Image Format and MS-VHDX, VMware's Virtual
// Disk Format 1.1, VirtualBox's VDI header, ECMA-119 (ISO 9660) and the
// UEFI specification's protective MBR. The safety checks are the ones
// Glance 30 applies to uploads (oslo.utils' format inspector), so that
// glanced refuses what Glance refuses.

// QCOW2: a big-endian header; version 3 adds feature bitmaps.
func qcowMatch(in *Inspector) bool { return len(in.head) >= 512 && string(in.head[:4]) == "QFI\xfb" }
func qcowSize(in *Inspector) int64 { return be64(in.head[24:32]) }

func qcowBackingFile(in *Inspector, _ CheckOptions) error {
	if be64(in.head[8:16]) != 0 {
		return errors.New("image has a backing file")
	}
	return nil
}

// qcowIncompatible is the incompatible-features bitmap of a version 3 header.
func qcowIncompatible(in *Inspector) uint64 { return binary.BigEndian.Uint64(in.head[0x48:0x50]) }

func qcowFeatures(in *Inspector, _ CheckOptions) error {
	switch binary.BigEndian.Uint32(in.head[4:8]) {
	case 2:
		return nil // no feature bitmaps
	case 3:
	default:
		return errors.New("unsupported qcow2 version")
	}
	// Known: dirty, corrupt, external data file, compression type (bits 0-3).
	if qcowIncompatible(in)&^0xf != 0 {
		return errors.New("unknown QCOW2 features found")
	}
	return nil
}

func qcowDataFile(in *Inspector, _ CheckOptions) error {
	if binary.BigEndian.Uint32(in.head[4:8]) >= 3 && qcowIncompatible(in)&0x4 != 0 {
		return errors.New("image has data_file set")
	}
	return nil
}

// VHD: a 512-byte footer, copied to the start for dynamic and differencing
// disks; a fixed disk has it only at the end.
func vhdFooter(in *Inspector) []byte {
	if len(in.head) >= 512 && string(in.head[:8]) == "conectix" {
		return in.head[:512]
	}
	if len(in.tail) >= 512 && string(in.tail[len(in.tail)-512:][:8]) == "conectix" {
		return in.tail[len(in.tail)-512:]
	}
	return nil
}

func vhdMatch(in *Inspector) bool { return vhdFooter(in) != nil }
func vhdSize(in *Inspector) int64 { return be64(vhdFooter(in)[48:56]) } // Current Size

// VHDX: the region table at 192 KiB points to the metadata region, whose
// table points to the Virtual Disk Size item.
const (
	vhdxMetaRegion = "8B7CA206-4790-4B9A-B8FE-575F050F886E"
	vhdxVDS        = "2FA54224-CD1B-4876-B211-5DBED83BF4B8"
	vhdxMaxEntries = 2047
	vhdxRegionEnd  = 256 << 10 // the end of the region table, at 192 KiB
)

type vhdxState struct {
	step    int
	metaOff int64
	meta    []byte // the metadata table, when in the head
	metaCap *capture
	vds     []byte
	vdsCap  *capture
}

const (
	vhdxRegions = iota
	vhdxMeta
	vhdxItem
	vhdxDone
)

func vhdxMatch(in *Inspector) bool { return len(in.head) >= 32 && string(in.head[:8]) == "vhdxfile" }

// guid formats a GUID stored in Microsoft's mixed-endian layout.
func guid(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

// vhdxAdvance follows the VHDX pointers as far as the stream allows,
// asking for the regions it needs next before the stream reaches them.
func (in *Inspector) vhdxAdvance() {
	v := &in.vhdx
	if !vhdxMatch(in) && len(in.head) >= 32 {
		v.step = vhdxDone
		return
	}
	for {
		switch v.step {
		case vhdxRegions:
			rt := in.at(vhdxRegionEnd-64<<10, 64<<10)
			if rt == nil {
				return
			}
			off, ok := vhdxFindMeta(rt)
			if !ok {
				v.step = vhdxDone
				return
			}
			v.metaOff = off
			if v.meta, v.metaCap = in.want(off, 32*(vhdxMaxEntries+1)); v.meta == nil && v.metaCap == nil {
				v.step = vhdxDone
				return
			}
			v.step = vhdxMeta
		case vhdxMeta:
			item, ready, ok := vhdxFindItem(v.metaTable())
			if !ok {
				v.step = vhdxDone
				return
			}
			if !ready {
				return
			}
			if v.vds, v.vdsCap = in.want(v.metaOff+item, 8); v.vds == nil && v.vdsCap == nil {
				v.step = vhdxDone
				return
			}
			v.step = vhdxItem
		default:
			return
		}
	}
}

func (v *vhdxState) metaTable() []byte {
	if v.meta != nil {
		return v.meta
	}
	return v.metaCap.buf[:v.metaCap.have]
}

// vhdxFindMeta returns the offset of the metadata region from the region table.
func vhdxFindMeta(rt []byte) (int64, bool) {
	if string(rt[:4]) != "regi" {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(rt[8:12]))
	if n > vhdxMaxEntries {
		return 0, false
	}
	for i := range n {
		e := rt[16+32*i : 16+32*(i+1)]
		if guid(e[:16]) == vhdxMetaRegion {
			return le64(e[16:24]), true
		}
	}
	return 0, false
}

// vhdxFindItem returns the offset of the Virtual Disk Size item in the
// metadata region; ready is false while the table is still arriving.
func vhdxFindItem(t []byte) (off int64, ready, ok bool) {
	if len(t) < 32 {
		return 0, false, true
	}
	if string(t[:8]) != "metadata" {
		return 0, false, false
	}
	n := int(binary.LittleEndian.Uint16(t[10:12]))
	if n > vhdxMaxEntries {
		return 0, false, false
	}
	if len(t) < 32+32*n {
		return 0, false, true
	}
	for i := range n {
		e := t[32+32*i : 32+32*(i+1)]
		if guid(e[:16]) == vhdxVDS {
			return int64(binary.LittleEndian.Uint32(e[16:20])), true, true
		}
	}
	return 0, false, false
}

func vhdxSize(in *Inspector) int64 {
	v := &in.vhdx
	switch {
	case v.vds != nil:
		return le64(v.vds)
	case v.vdsCap != nil && v.vdsCap.done():
		return le64(v.vdsCap.buf)
	}
	return 0
}

// VMDK: a sparse extent starts with a 512-byte little-endian header
// followed by the text descriptor; a descriptor file is the text alone.
const (
	vmdkDescMax = 1<<20 - 1
	vmdkGDAtEnd = ^uint64(0)
)

type vmdkInfo struct {
	sparse   bool
	header   []byte // 64 bytes of the sparse header
	desc     string // lower-cased descriptor text
	typ      string // lower-cased createType, "" if none
	gdAtEnd  bool
	capacity int64
}

func vmdkParse(in *Inspector) (vmdkInfo, bool) {
	h := in.head
	if len(h) < 64 {
		return vmdkInfo{}, false
	}
	var vi vmdkInfo
	var desc []byte
	if string(h[:4]) == "KDMV" {
		ver := binary.LittleEndian.Uint32(h[4:8])
		descSec, descNum := binary.LittleEndian.Uint64(h[28:36]), binary.LittleEndian.Uint64(h[36:44])
		if ver < 1 || ver > 3 || descSec != 1 {
			return vmdkInfo{}, false
		}
		vi.sparse, vi.header = true, h[:64]
		vi.capacity = le64(h[12:20])
		vi.gdAtEnd = binary.LittleEndian.Uint64(h[56:64]) == vmdkGDAtEnd
		size := int(min(descNum, vmdkDescMax/512+1)) * 512
		desc = h[min(512, len(h)):min(512+min(size, vmdkDescMax), len(h))]
	} else {
		if !printable(h[:min(512, len(h))]) {
			return vmdkInfo{}, false
		}
		desc = h[:min(vmdkDescMax, len(h))]
	}
	if i := strings.IndexByte(string(desc), 0); i >= 0 {
		desc = desc[:i]
	}
	if !printable(desc) {
		return vi, vi.sparse
	}
	vi.desc = strings.ToLower(string(desc))
	if _, rest, ok := strings.Cut(vi.desc, `createtype="`); ok {
		if t, _, ok := strings.Cut(rest, `"`); ok && len(t) < 64 {
			vi.typ = t
		}
	}
	return vi, vi.sparse || vi.typ != ""
}

func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v' {
			return false
		}
	}
	return true
}

func vmdkMatch(in *Inspector) bool { _, ok := vmdkParse(in); return ok }

func vmdkSize(in *Inspector) int64 {
	vi, ok := vmdkParse(in)
	if !ok || !vi.sparse || !contains(defaultVMDKTypes, vi.typ) {
		return 0
	}
	return vi.capacity * 512
}

var defaultVMDKTypes = []string{"monolithicsparse", "streamoptimized"}

// vmdkDescriptor allows only single-file types whose extents name no path,
// so that no reader of the image opens other files of the host.
func vmdkDescriptor(in *Inspector, o CheckOptions) error {
	vi, _ := vmdkParse(in)
	if vi.desc == "" {
		return errors.New("no descriptor found")
	}
	types := o.VMDKTypes
	if len(types) == 0 {
		types = defaultVMDKTypes
	}
	if !contains(types, vi.typ) {
		return errors.New("unsupported subformat")
	}
	extents := 0
	for _, line := range strings.Split(vi.desc, "\n") {
		line = strings.TrimSpace(line)
		first, _, _ := strings.Cut(line, " ")
		key, _, isField := strings.Cut(line, "=")
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "ddb"):
		case isField && !strings.Contains(key, " "):
		case first == "rw" || first == "rdonly" || first == "noaccess":
			if strings.Contains(line, "/") {
				return errors.New("invalid extent filenames found")
			}
			extents++
		default:
			return errors.New("invalid VMDK descriptor data")
		}
	}
	if extents == 0 {
		return errors.New("no extents found")
	}
	return nil
}

// vmdkFooter checks a streamOptimized extent's end: footer marker, a
// footer that repeats the header, end-of-stream marker.
func vmdkFooter(in *Inspector, _ CheckOptions) error {
	vi, _ := vmdkParse(in)
	if !vi.sparse || !vi.gdAtEnd {
		return nil
	}
	if len(in.tail) < tailLen {
		return errors.New("footer not found")
	}
	marker, footer, eos := in.tail[:512], in.tail[512:1024], in.tail[1024:]
	h := vi.header
	switch {
	case string(footer[:4]) != string(h[:4]):
		return errors.New("header and footer signature do not match")
	case string(footer[4:8]) != string(h[4:8]):
		return errors.New("header and footer versions do not match")
	case string(footer[28:44]) != string(h[28:44]):
		return errors.New("footer specifies a different descriptor than header")
	case binary.LittleEndian.Uint64(footer[56:64]) == vmdkGDAtEnd:
		return errors.New("footer indicates another footer")
	case !zero(marker[8:12]) || binary.LittleEndian.Uint32(marker[12:16]) != 3 || !zero(marker[16:]):
		return errors.New("footer marker is invalid")
	case !zero(eos):
		return errors.New("end-of-stream marker is invalid")
	}
	return nil
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// VDI: a little-endian header with its signature at 0x40.
func vdiMatch(in *Inspector) bool {
	return len(in.head) >= 512 && binary.LittleEndian.Uint32(in.head[0x40:0x44]) == 0xbeda107f
}
func vdiSize(in *Inspector) int64 { return le64(in.head[0x170:0x178]) }

// ISO 9660 / UDF: a volume descriptor after the 32 KiB system area.
func isoMatch(in *Inspector) bool {
	if len(in.head) < 0x8800 {
		return false
	}
	sig := string(in.head[0x8001:0x8006])
	return sig == "CD001" || sig == "NSR02" || sig == "NSR03"
}

func isoSize(in *Inspector) int64 {
	d := in.head[0x8000:0x8800]
	if d[0] != 1 { // not a primary volume descriptor
		return 0
	}
	return int64(binary.LittleEndian.Uint16(d[128:130])) * int64(binary.LittleEndian.Uint32(d[80:84]))
}

// GPT (and any MBR-partitioned disk): the boot signature, unless the first
// sector is a FAT boot record.
func gptMatch(in *Inspector) bool {
	h := in.head
	if len(h) < 512 {
		return false
	}
	fat := h[0x10] == 2 && h[0x15] == 0xf8
	return !fat && binary.LittleEndian.Uint16(h[510:512]) == 0xaa55
}

// gptMBR checks the partition entries of the (protective) MBR.
func gptMBR(in *Inspector, _ CheckOptions) error {
	var valid []int
	gpt := false
	for i := range 4 {
		e := in.head[446+16*i : 446+16*(i+1)]
		if e[0] != 0 && e[0] != 0x80 {
			return fmt.Errorf("MBR PTE %d has invalid boot flag", i)
		}
		if e[4] != 0 {
			valid = append(valid, i)
		}
		if e[4] == 0xee {
			gpt = true
			if e[1] != 0 || e[2] != 2 || e[3] != 0 {
				return errors.New("GPT MBR has invalid start CHS")
			}
			if binary.LittleEndian.Uint32(e[8:12]) != 1 {
				return errors.New("GPT MBR has invalid start LBA")
			}
		}
	}
	if gpt && (len(valid) != 1 || valid[0] != 0) {
		return errors.New("GPT MBR defines invalid extra partitions")
	}
	if len(valid) == 0 {
		return errors.New("GPT MBR has no partitions defined")
	}
	return nil
}
