package server

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// newHTTPServer is the net/http server of Serve, with the timeouts and
// header limits of s.cfg.Limits. Bodies and answers are bounded by guard,
// not by ReadTimeout/WriteTimeout: those would cut long transfers at any
// speed.
func (s *Server) newHTTPServer() *http.Server {
	l := s.cfg.Limits
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: l.HeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		// net/http adds 4 KiB of slack and answers 431 past it; checkRequest
		// holds the exact limit.
		MaxHeaderBytes: l.MaxHeaderSize,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// drainTimeout bounds how long net/http may go on reading a request body the
// handler left unread (it reads up to 256 KiB so the connection can be
// reused) after the answer has been sent.
const drainTimeout = 2 * time.Second

// guard applies the per-request limits: the URI and header sizes, and the
// pacing of the request body and of the answer (see pacer). A request whose
// body the handler does not read to its end (for example one refused before
// authentication) is answered with "Connection: close", and the connection
// is closed soon after the answer rather than waiting for that body.
func (s *Server) guard(next http.Handler) http.Handler {
	l := s.cfg.Limits
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		pw := &pacedWriter{ResponseWriter: w, rc: rc, p: newPacer(l)}
		var body *pacedBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &pacedBody{rc: r.Body, ctl: rc, p: newPacer(l)}
			r.Body = body
			pw.body = body
		}
		if err := l.checkRequest(r); err != nil {
			pw.Header().Set("Connection", "close")
			s.log.Warn("request refused", "method", r.Method, "remote", r.RemoteAddr, "err", err.msg)
			s.writeError(pw, r, err)
		} else {
			next.ServeHTTP(pw, r)
		}
		// The final flush of the answer happens after the handler returns.
		rc.SetWriteDeadline(pw.p.deadline(time.Now()))
		if body != nil && !body.eof {
			rc.SetReadDeadline(time.Now().Add(min(drainTimeout, l.TransferTimeout)))
		}
	})
}

// pacer enforces a minimum transfer rate without a total limit, in the way
// of Apache's mod_reqtimeout MinRate rather than nginx's client_body_timeout
// (a timeout between two reads, which a body sent at one byte a second never
// trips). The transfer is cut into windows: within each, the time spent
// blocked on the network may add up to window, and the window closes, and a
// new one opens, once quota bytes have moved. So a stalled peer is cut after
// window, a peer slower on average than quota/window within window, and a
// peer at least that fast never, however long the transfer. Only time spent
// waiting in Read or Write counts, so a slow store or a busy server does not
// count against the client.
type pacer struct {
	window time.Duration
	quota  int64
	used   time.Duration // blocked in I/O in the current window
	moved  int64         // bytes moved in the current window
}

func newPacer(l Limits) pacer {
	q := int64(l.TransferTimeout.Seconds() * float64(l.TransferMinRate))
	return pacer{window: l.TransferTimeout, quota: max(q, 1)}
}

// deadline is the deadline of the next I/O call started at now.
func (p *pacer) deadline(now time.Time) time.Time { return now.Add(p.window - p.used) }

// left is how many bytes close the current window.
func (p *pacer) left() int64 { return p.quota - p.moved }

// account records an I/O call that moved n bytes in d.
func (p *pacer) account(n int64, d time.Duration) {
	p.used += d
	p.moved += n
	if p.moved >= p.quota {
		p.used, p.moved = 0, 0
	}
}

// pacedBody is a request body whose reads are paced; its errors are
// *bodyError: the client's fault, never the server's.
type pacedBody struct {
	rc  io.ReadCloser
	ctl *http.ResponseController
	p   pacer
	eof bool
}

func (b *pacedBody) Read(buf []byte) (int, error) {
	if b.eof {
		// net/http reads on in the background once the body has ended;
		// a deadline set now would cut that read and cancel the request.
		return b.rc.Read(buf)
	}
	start := time.Now()
	b.ctl.SetReadDeadline(b.p.deadline(start))
	n, err := b.rc.Read(buf)
	b.p.account(int64(n), time.Since(start))
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		err = &bodyError{err: err}
	}
	return n, err
}

func (b *pacedBody) Close() error { return b.rc.Close() }

// bodyError is a failure to read the request body: malformed chunked
// encoding, a body cut short, a client too slow.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// clientBodyError is the answer to err when it comes from reading the
// request body (408 when the client was too slow, else 400), or nil.
func clientBodyError(err error) *apiError {
	var be *bodyError
	if !errors.As(err, &be) {
		return nil
	}
	if errors.Is(be.err, os.ErrDeadlineExceeded) {
		return errorf(http.StatusRequestTimeout, "The request body was not sent fast enough.")
	}
	return errorf(http.StatusBadRequest, "The request body could not be read: %v", be.err)
}

// pacedWriter paces the writes of an answer. Before the answer starts it
// also marks it "Connection: close" when the handler left the request body
// unread, so net/http neither waits for that body before answering nor
// reads another request from where it stopped.
type pacedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	p       pacer
	body    *pacedBody
	started bool
}

func (w *pacedWriter) start() {
	if w.started {
		return
	}
	w.started = true
	if w.body != nil && !w.body.eof {
		w.Header().Set("Connection", "close")
	}
}

func (w *pacedWriter) WriteHeader(code int) {
	if code >= 200 {
		w.start()
	}
	w.ResponseWriter.WriteHeader(code)
}

// io runs one write of at most n bytes under the pacer's deadline.
func (w *pacedWriter) io(fn func() (int64, error)) (int64, error) {
	w.start()
	begin := time.Now()
	w.rc.SetWriteDeadline(w.p.deadline(begin))
	n, err := fn()
	w.p.account(n, time.Since(begin))
	return n, err
}

func (w *pacedWriter) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		k := int(min(int64(len(b)), w.p.left()))
		n, err := w.io(func() (int64, error) {
			n, err := w.ResponseWriter.Write(b[:k])
			return int64(n), err
		})
		total += int(n)
		if err != nil {
			return total, err
		}
		b = b[k:]
	}
	return total, nil
}

// ReadFrom keeps net/http's sendfile path, a window's quota at a time.
func (w *pacedWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		n, err := w.io(func() (int64, error) {
			return io.Copy(w.ResponseWriter, io.LimitReader(r, w.p.left()))
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

func (w *pacedWriter) Flush() {
	w.io(func() (int64, error) { return 0, w.rc.Flush() })
}

func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
