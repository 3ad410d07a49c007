package server

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/go-glance/glance/internal/store"
)

// TestAttrsMatchSchema holds the attribute table against the image schema
// glanced serves (Glance 25.1's): every property the schema lists is in the
// table with the same type, nullability, read-only flag, length, values and
// pattern, and the table has nothing the schema lacks.
func TestAttrsMatchSchema(t *testing.T) {
	doc, err := schemaFS.ReadFile("schemas/image.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Type      any                     `json:"type"`
			ReadOnly  bool                    `json:"readOnly"`
			MaxLength int                     `json:"maxLength"`
			Enum      []any                   `json:"enum"`
			Pattern   string                  `json:"pattern"`
			IsBase    *bool                   `json:"is_base"`
			Items     struct{ MaxLength int } `json:"items"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc, &schema); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]store.Kind{"string": store.KindString, "integer": store.KindInt, "boolean": store.KindBool,
		"array": store.KindTags}
	for name, p := range schema.Properties {
		a, ok := store.LookupAttr(name)
		if !ok {
			t.Errorf("schema property %s is not in the attribute table", name)
			continue
		}
		var types []string
		switch ty := p.Type.(type) {
		case string:
			types = []string{ty}
		case []any:
			for _, x := range ty {
				types = append(types, x.(string))
			}
		}
		nullable := slices.Contains(types, "null")
		types = slices.DeleteFunc(types, func(s string) bool { return s == "null" })
		if len(types) != 1 {
			t.Errorf("%s: schema type %v", name, p.Type)
			continue
		}
		want := kinds[types[0]]
		if a.Kind == store.KindTime {
			want = store.KindTime // ISO strings on the wire
		}
		if name == "locations" {
			want = store.KindObject
		}
		if a.Kind != want || a.Nullable != nullable {
			t.Errorf("%s: table kind %v nullable %v, schema %v", name, a.Kind, a.Nullable, p.Type)
		}
		if ro := a.Access == store.ReadOnly; ro != p.ReadOnly {
			t.Errorf("%s: table read-only %v, schema readOnly %v", name, ro, p.ReadOnly)
		}
		maxLen := p.MaxLength
		if types[0] == "array" && name == "tags" {
			maxLen = p.Items.MaxLength
		}
		if a.MaxLen != maxLen {
			t.Errorf("%s: table max length %d, schema %d", name, a.MaxLen, maxLen)
		}
		var enum []string
		for _, e := range p.Enum {
			if s, ok := e.(string); ok {
				enum = append(enum, s)
			}
		}
		if !slices.Equal(a.Enum, enum) {
			t.Errorf("%s: table values %v, schema %v", name, a.Enum, enum)
		}
		pat := ""
		if a.Pattern != nil {
			pat = a.Pattern.String()
		}
		if pat != p.Pattern {
			t.Errorf("%s: table pattern %q, schema %q", name, pat, p.Pattern)
		}
		if base := p.IsBase == nil || *p.IsBase; base != a.Base {
			t.Errorf("%s: table base %v, schema is_base %v", name, a.Base, base)
		}
	}
	for _, a := range store.ImageAttrs {
		if _, ok := schema.Properties[a.Name]; !ok {
			t.Errorf("table attribute %s is not in the schema", a.Name)
		}
	}
	for _, k := range store.SortKeys {
		if a, ok := store.LookupAttr(k); !ok || a.Column == "" {
			t.Errorf("sort key %s is not a stored attribute", k)
		}
	}
}
