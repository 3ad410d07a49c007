package glance

import "os"

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
}

func newFileWriter(f *os.File, off int64) *fileWriter {
	return &fileWriter{f: f, off: off, kicked: off, wb: newWriteback(f)}
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.off += int64(n)
	if w.off-w.kicked >= writebackEvery {
		w.wb.start(w.kicked, w.off-w.kicked)
		w.kicked = w.off
	}
	return n, err
}

// close ends the write-back helper, if any; the file stays open.
func (w *fileWriter) close() { w.wb.close() }
