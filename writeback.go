package glance

import (
	"bytes"
	"os"
)

// writebackEvery is how much a download writes between two starts of the
// disk's write-back: small enough that the disk works while data arrives,
// large enough that the calls cost nothing next to the data.
const writebackEvery = 8 << 20

// fileWriter writes a download into its file and starts the disk's
// write-back of each few MiB as soon as they are written, so that the
// final fsync finds little left to do: otherwise the kernel holds the whole
// image in its cache and writes it out only when asked, after the transfer.
type fileWriter struct {
	f      *os.File
	off    int64 // where the next write goes
	kicked int64 // write-back started up to here
	wb     writeback
	sparse bool // leave whole blocks of zeros unwritten: holes
}

func newFileWriter(f *os.File, off int64, sparse bool) *fileWriter {
	return &fileWriter{f: f, off: off, kicked: off, wb: newWriteback(f), sparse: sparse}
}

// holeBlock is the unit of holes: a file system block, aligned in the file.
const holeBlock = 4096

var zeroBlock [holeBlock]byte

func (w *fileWriter) Write(b []byte) (int, error) {
	var n int
	var err error
	if w.sparse {
		n, err = w.writeSparse(b)
	} else {
		n, err = w.f.WriteAt(b, w.off)
	}
	w.off += int64(n)
	if w.off-w.kicked >= writebackEvery {
		w.wb.start(w.kicked, w.off-w.kicked)
		w.kicked = w.off
	}
	return n, err
}

// writeSparse writes b at w.off but for the aligned blocks of zeros in it,
// which it skips: the file gets holes there once its size is set (setSize).
func (w *fileWriter) writeSparse(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		off := w.off + int64(done)
		// Up to the next block boundary: a whole block, or the pieces
		// before and after the aligned ones.
		k := min(len(b)-done, holeBlock-int(off%holeBlock))
		piece := b[done : done+k]
		if k == holeBlock && bytes.Equal(piece, zeroBlock[:]) {
			done += k
			continue
		}
		if _, err := w.f.WriteAt(piece, off); err != nil {
			return done, err
		}
		done += k
	}
	return done, nil
}

// setSize makes the file as long as what was written, holes at its end
// included.
func (w *fileWriter) setSize() error {
	if !w.sparse {
		return nil
	}
	return w.f.Truncate(w.off)
}

// close ends the write-back helper, if any; the file stays open.
func (w *fileWriter) close() { w.wb.close() }
