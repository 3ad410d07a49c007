// Package v1header holds the rules of Image API v1 header values that the
// client (package v1) and the server (glanced's /v1) share: how a value is
// percent-encoded to travel in a header, how it is decoded, and how a
// boolean is read.
package v1header

import (
	"fmt"
	"net/url"
	"strings"
)

// EncodeValue makes s safe as a header value. Bytes a header cannot carry
// (controls, non-ASCII), '%' itself, and spaces at either end (which HTTP
// trims) are percent-encoded; the rest goes as is. python-glanceclient 4.1
// percent-encodes every value (keeping '/' and ':'), so a v1 server decodes
// percent-escapes in any case; sending plain text as is also keeps names
// with spaces intact on the old Glance servers, which decoded nothing.
func EncodeValue(s string) string {
	if !NeedsEncoding(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		edge := c == ' ' && (i == 0 || i == len(s)-1)
		if c < 0x20 || c >= 0x7f || c == '%' || edge {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// NeedsEncoding reports whether EncodeValue changes s.
func NeedsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '%' || (c == ' ' && (i == 0 || i == len(s)-1)) {
			return true
		}
	}
	return false
}

// DecodeValue undoes percent-encoding in a header value; a value that is
// not valid percent-encoding is taken as it is (old clients sent '%' bare).
func DecodeValue(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// BoolFromString is oslo's bool_from_string as Glance applied it: the known
// true words are true, anything else false.
func BoolFromString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

// EncodeName makes a property name usable in a header name, which allows
// only token characters: others, and '%', are percent-encoded.
func EncodeName(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if isTokenChar(c) && c != '%' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
