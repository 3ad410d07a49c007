package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits bounds what one connection or request may cost the server. A zero
// field takes its default (see withDefaults); docs/limits.md explains the
// choices.
type Limits struct {
	// HeaderTimeout bounds reading a request line and its headers
	// (http.Server.ReadHeaderTimeout); default 30s.
	HeaderTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that sends no new request;
	// default 2m, above the idle timeouts of common clients so that they,
	// not the server, close first.
	IdleTimeout time.Duration
	// TransferTimeout and TransferMinRate bound request bodies and answers
	// without a total limit: within each window of TransferTimeout spent
	// waiting on the network, TransferMinRate×TransferTimeout bytes must
	// move, else the connection is cut (see pacer). Defaults 1m and 1 KiB/s.
	TransferTimeout time.Duration
	TransferMinRate int64
	// MaxHeaderSize bounds the request line and headers together
	// (eventlet's MAX_TOTAL_HEADER_SIZE); default 64 KiB. Answered 431.
	MaxHeaderSize int
	// MaxHeaderLine bounds one header line, name and value (Glance's
	// max_header_line); default 16384. Answered 431.
	MaxHeaderLine int
	// MaxURLLength bounds the request target (eventlet's url_length_limit,
	// MAX_REQUEST_LINE); default 8192. Answered 414.
	MaxURLLength int
	// ListMaxFilters, ListMaxInValues and ListMaxSortKeys bound an image
	// listing: its query parameters other than sort ones, the values of all
	// its in: lists, its sort keys. Defaults 50, 1000 and 20; answered 400
	// before any query reaches the database.
	ListMaxFilters  int
	ListMaxInValues int
	ListMaxSortKeys int
}

// Ceilings of the list limits. Far beyond them a listing would reach
// SQLite's own limits (1000 levels of expression depth, 32766 bound
// variables) and fail with a 500; near them it gets slow: the keyset
// condition of a page after a marker grows with the square of the sort keys
// (100 keys take seconds), and 500 filters or 10,000 in: values take a few
// hundred milliseconds.
const (
	ceilListFilters  = 500
	ceilListInValues = 10000
	ceilListSortKeys = 32
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&l.HeaderTimeout, 30*time.Second)
	defDur(&l.IdleTimeout, 2*time.Minute)
	defDur(&l.TransferTimeout, time.Minute)
	if l.TransferMinRate <= 0 {
		l.TransferMinRate = 1 << 10
	}
	def(&l.MaxHeaderSize, 64<<10)
	def(&l.MaxHeaderLine, 16384)
	def(&l.MaxURLLength, 8192)
	def(&l.ListMaxFilters, 50)
	def(&l.ListMaxInValues, 1000)
	def(&l.ListMaxSortKeys, 20)
	l.ListMaxFilters = min(l.ListMaxFilters, ceilListFilters)
	l.ListMaxInValues = min(l.ListMaxInValues, ceilListInValues)
	l.ListMaxSortKeys = min(l.ListMaxSortKeys, ceilListSortKeys)
	return l
}

// checkRequest refuses request targets and headers beyond the limits, as
// Glance's eventlet server does (it answers 414, and 400 for headers where
// glanced answers the more precise 431). Headers past MaxHeaderSize plus
// net/http's slack of 4 KiB never get here: net/http answers 431 itself.
func (l Limits) checkRequest(r *http.Request) *apiError {
	if len(r.RequestURI) > l.MaxURLLength {
		return errorf(http.StatusRequestURITooLong, "The request URI is %d bytes long; at most %d are allowed.",
			len(r.RequestURI), l.MaxURLLength)
	}
	total := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	total += len("Host: ") + len(r.Host) + 2 // net/http moves Host out of r.Header
	for k, vs := range r.Header {
		for _, v := range vs {
			line := len(k) + 2 + len(v)
			if line > l.MaxHeaderLine {
				return errorf(http.StatusRequestHeaderFieldsTooLarge,
					"The header %s is %d bytes long; at most %d are allowed.", k, line, l.MaxHeaderLine)
			}
			total += line + 2
		}
	}
	if total > l.MaxHeaderSize {
		return errorf(http.StatusRequestHeaderFieldsTooLarge,
			"The request headers are %d bytes long; at most %d are allowed.", total, l.MaxHeaderSize)
	}
	return checkURLText(r.URL)
}

// checkList refuses an image listing with more filters, in: values or sort
// keys than allowed. It counts generously (every value that starts with
// "in:" counts its items, whatever the key), so anything it lets through
// stays far from the database's limits.
func (l Limits) checkList(pairs []queryPair) error {
	var filters, inValues, sortKeys, sortDirs int
	for _, p := range pairs {
		switch p.k {
		case "sort_key":
			sortKeys++
		case "sort_dir":
			sortDirs++
		case "sort":
			sortKeys += strings.Count(p.v, ",") + 1
		default:
			filters++
			if v, ok := strings.CutPrefix(p.v, "in:"); ok {
				inValues += len(splitIn(v))
			}
		}
	}
	tooMany := func(n, max int, what string) error {
		return errorf(http.StatusBadRequest, "Too many %s in the query: %d given, at most %d are allowed.", what, n, max)
	}
	switch {
	case filters > l.ListMaxFilters:
		return tooMany(filters, l.ListMaxFilters, "filters")
	case inValues > l.ListMaxInValues:
		return tooMany(inValues, l.ListMaxInValues, "values in 'in:' filters")
	case sortKeys > l.ListMaxSortKeys:
		return tooMany(sortKeys, l.ListMaxSortKeys, "sort keys")
	case sortDirs > l.ListMaxSortKeys:
		return tooMany(sortDirs, l.ListMaxSortKeys, "sort directions")
	}
	return nil
}

// limitSettings are the command-line settings of Limits and image_size_cap.
var limitSettings = []setting{
	{"image-size-cap", "GLANCED_IMAGE_SIZE_CAP", "largest image data accepted, in bytes or with a unit such as 10GiB (default 1TiB, Glance's image_size_cap)"},
	{"header-timeout", "GLANCED_HEADER_TIMEOUT", "time allowed to send a request's headers (default 30s)"},
	{"idle-timeout", "GLANCED_IDLE_TIMEOUT", "time a kept-alive connection may stay idle (default 2m)"},
	{"transfer-timeout", "GLANCED_TRANSFER_TIMEOUT", "window in which a request body or an answer must move transfer-min-rate per second of it, else the connection is cut; time the server itself spends does not count (default 1m)"},
	{"transfer-min-rate", "GLANCED_TRANSFER_MIN_RATE", "slowest average rate of a body or answer over a transfer-timeout window, bytes per second, units allowed (default 1KiB)"},
	{"max-header-size", "GLANCED_MAX_HEADER_SIZE", "largest request line and headers together, answered 431 (default 64KiB)"},
	{"max-header-line", "GLANCED_MAX_HEADER_LINE", "largest single header line, answered 431 (default 16384, Glance's max_header_line)"},
	{"max-url-length", "GLANCED_MAX_URL_LENGTH", "longest request URI, answered 414 (default 8192)"},
	{"list-max-filters", "GLANCED_LIST_MAX_FILTERS", fmt.Sprintf("most filter parameters in an image listing, answered 400 (default 50, at most %d)", ceilListFilters)},
	{"list-max-in-values", "GLANCED_LIST_MAX_IN_VALUES", fmt.Sprintf("most values of in: filters in an image listing (default 1000, at most %d)", ceilListInValues)},
	{"list-max-sort-keys", "GLANCED_LIST_MAX_SORT_KEYS", fmt.Sprintf("most sort keys in an image listing (default 20, at most %d)", ceilListSortKeys)},
}

// limitsFile holds the same settings in the YAML config file.
type limitsFile struct {
	ImageSizeCap    string `yaml:"image-size-cap"`
	HeaderTimeout   string `yaml:"header-timeout"`
	IdleTimeout     string `yaml:"idle-timeout"`
	TransferTimeout string `yaml:"transfer-timeout"`
	TransferMinRate string `yaml:"transfer-min-rate"`
	MaxHeaderSize   string `yaml:"max-header-size"`
	MaxHeaderLine   string `yaml:"max-header-line"`
	MaxURLLength    string `yaml:"max-url-length"`
	ListMaxFilters  string `yaml:"list-max-filters"`
	ListMaxInValues string `yaml:"list-max-in-values"`
	ListMaxSortKeys string `yaml:"list-max-sort-keys"`
}

func init() {
	registerFeature(feature{order: 10, settings: limitSettings, file: limitsFile{}, load: loadLimits})
}

func (f limitsFile) values() map[string]string {
	return map[string]string{
		"image-size-cap": f.ImageSizeCap, "header-timeout": f.HeaderTimeout, "idle-timeout": f.IdleTimeout,
		"transfer-timeout": f.TransferTimeout, "transfer-min-rate": f.TransferMinRate,
		"max-header-size": f.MaxHeaderSize, "max-header-line": f.MaxHeaderLine, "max-url-length": f.MaxURLLength,
		"list-max-filters": f.ListMaxFilters, "list-max-in-values": f.ListMaxInValues, "list-max-sort-keys": f.ListMaxSortKeys,
	}
}

// loadLimits sets cfg.MaxImageSize and cfg.Limits from the settings that
// get resolves (flag, environment or file); an empty value keeps the default.
func loadLimits(get func(string) string, cfg *Config) error {
	l := &cfg.Limits
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"header-timeout", &l.HeaderTimeout}, {"idle-timeout", &l.IdleTimeout}, {"transfer-timeout", &l.TransferTimeout}} {
		if v := get(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return fmt.Errorf("%s: %q is not a positive duration such as 30s", d.name, v)
			}
			*d.dst = t
		}
	}
	sizes := []struct {
		name string
		max  int64
		set  func(int64)
	}{
		{"image-size-cap", math.MaxInt64, func(n int64) { cfg.MaxImageSize = n }},
		{"transfer-min-rate", math.MaxInt64, func(n int64) { l.TransferMinRate = n }},
		{"max-header-size", math.MaxInt32, func(n int64) { l.MaxHeaderSize = int(n) }},
		{"max-header-line", math.MaxInt32, func(n int64) { l.MaxHeaderLine = int(n) }},
		{"max-url-length", math.MaxInt32, func(n int64) { l.MaxURLLength = int(n) }},
		{"list-max-filters", ceilListFilters, func(n int64) { l.ListMaxFilters = int(n) }},
		{"list-max-in-values", ceilListInValues, func(n int64) { l.ListMaxInValues = int(n) }},
		{"list-max-sort-keys", ceilListSortKeys, func(n int64) { l.ListMaxSortKeys = int(n) }},
	}
	for _, s := range sizes {
		v := get(s.name)
		if v == "" {
			continue
		}
		n, err := parseSize(v)
		if err != nil || n <= 0 || n > s.max {
			return fmt.Errorf("%s: %q is not a number from 1 to %d", s.name, v, s.max)
		}
		s.set(n)
	}
	return nil
}

// sizeUnits are the suffixes parseSize accepts: binary (KiB) and decimal (KB).
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15,
}

// parseSize parses a whole number of bytes with an optional unit: 1099511627776, 1TiB, 500MB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	mult, ok := sizeUnits[strings.TrimSpace(s[i:])]
	if !ok || i == 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
