package v1

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/v1header"
)

// The v1 API carries image metadata in headers: x-image-meta-<field> for the
// base fields and x-image-meta-property-<key> for custom properties.
const (
	metaPrefix     = "x-image-meta-"
	propertyPrefix = "x-image-meta-property-"
	headerCopyFrom = "X-Glance-Api-Copy-From"
	headerPurge    = "X-Glance-Registry-Purge-Props"
)

// encodeValue makes s safe as a header value (see v1header.EncodeValue).
func encodeValue(s string) string { return v1header.EncodeValue(s) }

// encodeKey makes a property name usable in a header name (see
// v1header.EncodeName). Glance reads '-' in a header name as '_', so '_' is
// sent as '-' (which proxies such as nginx pass, while they drop names with
// underscores by default).
func encodeKey(k string) string { return v1header.EncodeName(strings.ReplaceAll(k, "_", "-")) }

// decodeValue undoes percent-encoding in a value a server sent.
func decodeValue(s string) string { return v1header.DecodeValue(s) }

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

// boolFromString is oslo's bool_from_string as Glance applied it.
func boolFromString(s string) bool { return v1header.BoolFromString(s) }
