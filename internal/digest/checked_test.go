package digest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

var errMismatch = errors.New("mismatch")

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestChecked(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
		size             int64
		err              error
	}{
		{"match", "hello", md5hex("hello"), 5, nil},
		{"match, size unknown", "hello", md5hex("hello"), -1, nil},
		{"other digest", "hello", md5hex("jello"), 5, errMismatch},
		{"short", "hel", md5hex("hello"), 5, io.ErrUnexpectedEOF},
	} {
		c := NewChecked(strings.NewReader(tc.data), tc.size, md5.New(), tc.want, func(string) error { return errMismatch })
		got, err := io.ReadAll(c)
		c.Close()
		if tc.err == nil {
			if err != nil || string(got) != tc.data || !c.Verified() {
				t.Errorf("%s: %q, %v, verified %v", tc.name, got, err, c.Verified())
			}
			continue
		}
		if !errors.Is(err, tc.err) || c.Verified() {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
	// Without a hash only the length is checked, and nothing is verified.
	c := NewChecked(strings.NewReader("abc"), 3, nil, "", nil)
	if b, err := io.ReadAll(c); err != nil || string(b) != "abc" || c.Verified() {
		t.Errorf("unhashed: %q, %v, verified %v", b, err, c.Verified())
	}
}
