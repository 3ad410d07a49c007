package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	add := addFunc(func(path string, spec ...any) {
		var methods []string
		for i := 0; i < len(spec); i += 2 {
			m := spec[i].(string)
			noBody := strings.HasSuffix(m, "!")
			m = strings.TrimSuffix(m, "!")
			h := spec[i+1].(func(http.ResponseWriter, *http.Request) error)
			methods = append(methods, m)
			mux.HandleFunc(m+" "+path, s.wrap(h, noBody))
		}
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, s.wrap(func(w http.ResponseWriter, r *http.Request) error {
			e := errorf(http.StatusMethodNotAllowed, "The method %s is not allowed for this resource. ", r.Method)
			e.header = http.Header{"Allow": {allow}}
			return e
		}, false))
	})
	add("/v2/images", "GET", s.listImages, "POST", s.createImage)
	add("/v2/images/{id}", "GET!", s.showImage, "PATCH", s.updateImage, "DELETE!", s.deleteImage)
	add("/v2/images/{id}/file", "GET!", s.downloadImage, "PUT", s.uploadImage)
	add("/v2/images/{id}/stage", "PUT", s.stageImage)
	add("/v2/images/{id}/import", "POST", s.importImage)
	add("/v2/images/{id}/tasks", "GET!", s.imageTasks)
	add("/v2/images/{id}/actions/deactivate", "POST!", s.deactivate)
	add("/v2/images/{id}/actions/reactivate", "POST!", s.reactivate)
	add("/v2/images/{id}/tags/{tag}", "PUT!", s.addTag, "DELETE!", s.deleteTag)
	add("/v2/images/{id}/members", "GET!", s.listMembers, "POST", s.addMember)
	add("/v2/images/{id}/members/{member}", "GET!", s.showMember, "PUT", s.updateMember, "DELETE!", s.deleteMember)
	add("/v2/schemas/image", "GET!", s.schema("image"))
	add("/v2/schemas/images", "GET!", s.schema("images"))
	add("/v2/schemas/member", "GET!", s.schema("member"))
	add("/v2/schemas/members", "GET!", s.schema("members"))
	add("/v2/schemas/task", "GET!", s.schema("task"))
	add("/v2/schemas/tasks", "GET!", s.schema("tasks"))
	add("/v2/info/import", "GET!", s.infoImport)
	add("/v2/info/usage", "GET!", s.infoUsage)
	s.multistoreRoutes(add)
	add("/v2/tasks", "GET!", s.listTasks, "POST", s.createTask)
	add("/v2/tasks/{id}", "GET!", s.showTask)
	s.v1Routes(add)
	s.metadefRoutes(add)
	mux.HandleFunc("/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}, false))

	return s.front(mux)
}

// addFunc registers the handlers of a path: method, handler, method,
// handler, ...; a method ending in "!" takes no body.
type addFunc func(path string, spec ...any)

// wrap adapts an error-returning handler: authentication, body rejection
// and error answers.
func (s *Server) wrap(h func(http.ResponseWriter, *http.Request) error, noBody bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.noteRoute(r)
		c, err := s.auth.authenticate(r)
		if err == nil && noBody && (r.ContentLength > 0 || len(r.TransferEncoding) > 0) {
			err = errorf(http.StatusBadRequest, "A body is not expected with this request.")
		}
		if err == nil {
			c.RequestID = w.Header().Get("X-Openstack-Request-Id")
			c.Admin = s.pol.IsAdmin(c.credentials())
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, c))
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}
}

// front adds what every request gets: a request id, a log line, the
// versions document and version negotiation, the health check.
func (s *Server) front(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Openstack-Request-Id")
		if rid == "" || len(rid) > 64 {
			rid = newRequestID()
		} else if !strings.HasPrefix(rid, "req-") {
			rid = "req-" + rid
		}
		w.Header().Set("X-Openstack-Request-Id", rid)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status(),
				"bytes", sw.n, "duration_ms", float64(time.Since(start).Microseconds())/1000, "request_id", rid)
		}()
		p := r.URL.Path
		switch {
		case p == "/healthcheck":
			sw.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			sw.Write([]byte("OK"))
			return
		case p == "/versions" || p == "/versions/":
			s.versions(sw, r, http.StatusOK)
			return
		}
		seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		// A version in the Accept header stands for the path prefix.
		byAccept := false
		if v, ok := strings.CutPrefix(r.Header.Get("Accept"), "application/vnd.openstack.images-"); ok && (s.versionAllowed(v) || s.v1Version(v)) {
			seg, rest, byAccept = v, strings.TrimPrefix(p, "/"), true
		}
		major := "v2"
		if s.v1Version(seg) {
			major = "v1"
		} else if !s.versionAllowed(seg) {
			s.versions(sw, r, http.StatusMultipleChoices)
			return
		}
		if seg != major || byAccept {
			r2 := *r
			u := *r.URL
			u.Path, u.RawPath = "/"+major+"/"+rest, ""
			r2.URL = &u
			r = &r2
		}
		mux.ServeHTTP(sw, r)
	})
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("req-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newUUID() string { return strings.TrimPrefix(newRequestID(), "req-") }

// baseURL is the public root for absolute links.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, code int) {
	href := s.baseURL(r) + "/v2/"
	b := []byte(`{"versions": [`)
	for i, v := range s.apiVersions() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"id": "`+v.id+`", "status": "`+v.status+`", "links": [{"rel": "self", "href": `...)
		b = appendJSONString(b, href)
		b = append(b, "}]}"...)
	}
	b = s.appendV1Versions(b, r)
	b = append(b, "]}"...)
	writeJSON(w, code, b)
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// writeValue answers v as JSON.
func writeValue(w http.ResponseWriter, code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(w, code, b)
	return nil
}

// statusWriter records the status and size of an answer for the log.
type statusWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// ReadFrom keeps the sendfile path of net/http for downloads.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
