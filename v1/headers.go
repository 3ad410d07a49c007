package v1

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The v1 API carries image metadata in headers: x-image-meta-<field> for the
// base fields and x-image-meta-property-<key> for custom properties.
const (
	metaPrefix     = "x-image-meta-"
	propertyPrefix = "x-image-meta-property-"
	headerCopyFrom = "X-Glance-Api-Copy-From"
	headerPurge    = "X-Glance-Registry-Purge-Props"
)

// encodeValue makes s safe as a header value. Bytes a header cannot carry
// (controls, non-ASCII), '%' itself, and spaces at either end (which HTTP
// trims) are percent-encoded; the rest goes as is. python-glanceclient 4.1
// percent-encodes every value (keeping '/' and ':'), so a v1 server decodes
// percent-escapes in any case; sending plain text as is also keeps names
// with spaces intact on the old Glance servers, which decoded nothing.
func encodeValue(s string) string {
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

// encodeKey makes a property name usable in a header name, which allows only
// token characters: others, and '%', are percent-encoded. Glance reads '-'
// in a header name as '_', so '_' is sent as '-' (which proxies such as
// nginx pass, while they drop names with underscores by default).
func encodeKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_':
			b.WriteByte('-')
		case isTokenChar(c) && c != '%':
			b.WriteByte(c)
		default:
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

// decodeValue undoes percent-encoding in a value a server sent; a value that
// is not valid percent-encoding is taken as it is.
func decodeValue(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// metaFromHeader collects the x-image-meta-* headers of a response into the
// fields of an image record, custom properties under "properties". Values are
// strings, except the numbers and booleans python-glanceclient converts too.
func metaFromHeader(h http.Header) map[string]any {
	fields := map[string]any{}
	props := map[string]any{}
	for name, values := range h {
		if len(values) == 0 {
			continue
		}
		key := strings.ToLower(name)
		value := decodeValue(values[0])
		switch {
		case strings.HasPrefix(key, propertyPrefix):
			props[decodeValue(key[len(propertyPrefix):])] = value
		case strings.HasPrefix(key, metaPrefix):
			field := strings.ReplaceAll(decodeValue(key[len(metaPrefix):]), "-", "_")
			fields[field] = typedValue(field, value)
		}
	}
	fields["properties"] = props
	return fields
}

// typedValue converts the header text of a numeric or boolean field.
func typedValue(field, v string) any {
	switch field {
	case "size", "min_ram", "min_disk", "virtual_size":
		if v == "" || v == "None" {
			return nil
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case "is_public", "protected", "deleted":
		return boolFromString(v)
	}
	return v
}

// boolFromString is oslo's bool_from_string as Glance applied it: the known
// true words are true, anything else false.
func boolFromString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}
