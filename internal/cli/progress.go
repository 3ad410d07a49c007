package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressBar draws "[=====>    ] 42%" on a terminal. It writes to stderr
// (python-glanceclient used stdout, which breaks downloads to stdout) and
// redraws at most ten times a second.
type progressBar struct {
	w     io.Writer
	total int64 // <= 0: unknown, shows bytes only

	mu       sync.Mutex
	done     int64
	last     time.Time
	finished bool
}

const barWidth = 30

func newProgressBar(w io.Writer, total int64) *progressBar {
	return &progressBar{w: w, total: total}
}

func (p *progressBar) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progressBar) draw() {
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s", humanSize(p.done))
		return
	}
	frac := float64(p.done) / float64(p.total)
	frac = min(max(frac, 0), 1)
	filled := int(frac * barWidth)
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	fmt.Fprintf(p.w, "\r[%s] %d%%", bar, int(frac*100))
}

// finish draws the final state and ends the line.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.draw()
	fmt.Fprintln(p.w)
}

// reader counts what r yields. It stays an io.Seeker when r is one, so an
// upload can still be replayed after a re-authentication.
func (p *progressBar) reader(r io.Reader) io.Reader {
	if s, ok := r.(io.ReadSeeker); ok {
		return &progressReadSeeker{progressReader{r: r, p: p}, s}
	}
	return &progressReader{r: r, p: p}
}

type progressReadSeeker struct {
	progressReader
	s io.Seeker
}

func (r *progressReadSeeker) Seek(off int64, whence int) (int64, error) {
	return r.s.Seek(off, whence)
}

// writer counts what goes to w.
func (p *progressBar) writer(w io.Writer) io.Writer { return &progressWriter{w: w, p: p} }

type progressReader struct {
	r io.Reader
	p *progressBar
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	return n, err
}

type progressWriter struct {
	w io.Writer
	p *progressBar
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.add(n)
	return n, err
}
