package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Text that reaches the database must be valid UTF-8 without NUL
// characters: PostgreSQL's text and jsonb hold neither (a NUL in one image's
// property would break every property filter), and SQLite would take them
// into a database that could then not move to PostgreSQL. Bad text is the
// client's: 400, checked before anything is stored.

var errBadText = errorf(http.StatusBadRequest, "Invalid input: the request holds a NUL character or bytes that are not UTF-8.")

// goodText reports whether s is valid UTF-8 without NUL characters.
func goodText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkURLText refuses a request whose path or query is bad text once
// percent-decoded.
func checkURLText(u *url.URL) *apiError {
	if !goodText(u.Path) {
		return errBadText
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil // the handlers answer a malformed query as they see fit
	}
	for k, vs := range q {
		if !goodText(k) {
			return errBadText
		}
		for _, v := range vs {
			if !goodText(v) {
				return errBadText
			}
		}
	}
	return nil
}

// decodeBody reads a JSON request body of at most 1 MiB into v, refusing
// bad text, and returns its bytes.
func decodeBody(r *http.Request, v any) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Could not read the request body.")
	}
	if err := checkJSONText(body); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, errorf(http.StatusBadRequest, "Malformed JSON in request body.")
	}
	return body, nil
}

// checkJSONText refuses a JSON document holding a NUL character: an escape
// \u0000 (raw control characters are not JSON). Invalid UTF-8 needs no
// check: the decoder replaces it.
func checkJSONText(data []byte) *apiError {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(`u0000`))
		if j < 0 {
			return nil
		}
		j += i
		// An escape when an odd number of backslashes come before it.
		n := 0
		for k := j - 1; k >= 0 && data[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return errBadText
		}
		i = j + 1
	}
}
