package cli

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// debugTransport logs each request as a curl command that can be run
// again, and each response's status, with tokens and passwords redacted.
func (a *app) debugTransport(next http.RoundTripper) http.RoundTripper {
	return &curlLogger{next: next, w: a.io.Err}
}

type curlLogger struct {
	next http.RoundTripper
	mu   sync.Mutex
	w    io.Writer
}

// maxLoggedBody bounds the request bodies shown; image data is never shown.
const maxLoggedBody = 16 << 10

var secretHeaders = map[string]bool{"X-Auth-Token": true, "X-Subject-Token": true, "X-Service-Token": true}

func (l *curlLogger) RoundTrip(req *http.Request) (*http.Response, error) {
	l.log(curlLine(req))
	start := time.Now()
	resp, err := l.next.RoundTrip(req)
	if err != nil {
		l.log(fmt.Sprintf("%s %s failed after %s: %v", req.Method, req.URL.Redacted(), time.Since(start).Round(time.Millisecond), err))
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/%d.%d %s (%s)", resp.ProtoMajor, resp.ProtoMinor, resp.Status, time.Since(start).Round(time.Millisecond))
	for _, h := range []string{"X-Openstack-Request-Id", "Content-Type", "Content-Length"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "\n  %s: %s", h, v)
		}
	}
	l.log(b.String())
	return resp, nil
}

func (l *curlLogger) log(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

// curlLine renders req as a curl command line.
func curlLine(req *http.Request) string {
	var b strings.Builder
	b.WriteString("curl -g -i -X ")
	b.WriteString(req.Method)
	b.WriteString(" ")
	b.WriteString(shellQuote(req.URL.Redacted()))
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range req.Header[k] {
			if secretHeaders[http.CanonicalHeaderKey(k)] {
				v = redactToken(v)
			}
			fmt.Fprintf(&b, " -H %s", shellQuote(k+": "+v))
		}
	}
	if body := loggableBody(req); body != "" {
		fmt.Fprintf(&b, " -d %s", shellQuote(redactBody(body)))
	} else if req.Body != nil && req.Body != http.NoBody {
		b.WriteString(" --data-binary @-")
	}
	return b.String()
}

// loggableBody returns a copy of a small, replayable, non-binary body.
func loggableBody(req *http.Request) string {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil {
		return ""
	}
	if req.ContentLength < 0 || req.ContentLength > maxLoggedBody {
		return ""
	}
	if ct := req.Header.Get("Content-Type"); strings.Contains(ct, "octet-stream") {
		return ""
	}
	rc, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxLoggedBody))
	if err != nil || !isText(data) {
		return ""
	}
	return string(data)
}

func isText(b []byte) bool {
	return !bytes.ContainsAny(b, "\x00")
}

// redactToken shows a token as its SHA-1, enough to tell tokens apart.
func redactToken(tok string) string {
	sum := sha1.Sum([]byte(tok))
	return "{SHA1}" + hex.EncodeToString(sum[:])
}

var (
	secretField = regexp.MustCompile(`"(password|secret|passcode)"(\s*:\s*)"(?:[^"\\]|\\.)*"`)
	tokenField  = regexp.MustCompile(`("token"\s*:\s*\{\s*"id"\s*:\s*)"(?:[^"\\]|\\.)*"`)
)

// redactBody hides passwords, secrets and tokens in a JSON body.
func redactBody(s string) string {
	s = secretField.ReplaceAllString(s, `"$1"$2"***"`)
	return tokenField.ReplaceAllString(s, `$1"***"`)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
