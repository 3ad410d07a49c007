package store

import (
	"strings"
	"testing"
)

// TestAttrColumns holds the SQL columns to the attribute table: every
// stored attribute is selected and scanned, and its field reads back what
// was written.
func TestAttrColumns(t *testing.T) {
	cols := map[string]bool{}
	for _, c := range strings.Split(imageCols, ",") {
		cols[strings.TrimSpace(c)] = true
	}
	for _, a := range ImageAttrs {
		if a.Column == "" {
			continue
		}
		if !cols[a.Column] {
			t.Errorf("attribute %s: column %s is not read with an image", a.Name, a.Column)
		}
		if a.Field == nil {
			t.Errorf("attribute %s has a column but no field", a.Name)
		}
		if _, _, ok := listColumn(a.Name); ok != (a.Kind != KindTags) {
			t.Errorf("attribute %s: list column %v", a.Name, ok)
		}
	}
}
