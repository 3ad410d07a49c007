package blob_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/blob"
)

// TestURLOption: a present query value is parsed into its destination, an
// absent one leaves it alone, a bad one is refused naming store and option.
func TestURLOption(t *testing.T) {
	q := url.Values{"part_size": {"5MiB"}, "path_style": {"true"}, "bad": {"12XB"}}
	size, on := int64(7), false
	if err := blob.URLOption("s3", q, "part_size", blob.ParseSize, &size); err != nil || size != 5<<20 {
		t.Fatalf("part_size: %d, %v", size, err)
	}
	if err := blob.URLOption("s3", q, "path_style", strconv.ParseBool, &on); err != nil || !on {
		t.Fatalf("path_style: %v, %v", on, err)
	}
	if err := blob.URLOption("s3", q, "absent", blob.ParseSize, &size); err != nil || size != 5<<20 {
		t.Fatalf("absent option: %d, %v", size, err)
	}
	err := blob.URLOption("swift", q, "bad", blob.ParseSize, &size)
	if err == nil || !strings.HasPrefix(err.Error(), "swift store: bad: ") || size != 5<<20 {
		t.Fatalf("bad option: %d, %v", size, err)
	}
}
