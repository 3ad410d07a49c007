package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The md-* commands that print take -f and -c, like the other printing
// commands; python-glanceclient's do not.
func init() {
	for _, c := range testRoot("2").Commands() {
		if strings.HasPrefix(c.Name(), "md-") && c.Flags().Lookup("format") != nil {
			ourOptions[c.Name()] = []string{"-f", "--format", "-c", "--column"}
		}
	}
}

func TestPyCellKeepsOrderAndEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`{"type": "string", "enum": ["a", "b"]}`: `{"type": "string", "enum": ["a", "b"]}`,
		`{"b":1,"a":[true,null,1.5]}`:            `{"b": 1, "a": [true, null, 1.5]}`,
		`["Microsoft® \"x\"\n", "😀"]`:            `["Microsoft\u00ae \"x\"\n", "\ud83d\ude00"]`,
		`"plain é"`:                              `plain é`,
		`null`:                                   `None`,
		`false`:                                  `False`,
		`42`:                                     `42`,
		`[]`:                                     `[]`,
	} {
		if got := pyCell(json.RawMessage(in)); got != want {
			t.Errorf("pyCell(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestMergeSchema(t *testing.T) {
	type prop struct {
		Name  string `json:"name"`
		Title string `json:"title"`
		Type  string `json:"type"`
	}
	p := prop{Name: "n", Title: "T"}
	if err := mergeSchema(`{"type": "string", "title": "Over"}`, &p); err != nil {
		t.Fatal(err)
	}
	if p != (prop{"n", "Over", "string"}) {
		t.Errorf("merged %+v", p)
	}
	err := mergeSchema(`{"type": `, &p)
	if err == nil || err.Error() != "Schema is not a valid JSON object." {
		t.Errorf("bad JSON: %v", err)
	}
	err = mergeSchema(`{"bogus": 1}`, &p)
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("unknown key: %v", err)
	}
	err = mergeSchema(`["a"]`, &p)
	if err == nil || err.Error() != "Schema is not a valid JSON object." {
		t.Errorf("array: %v", err)
	}
}

func TestPyDumpDeepNesting(t *testing.T) {
	var b bytes.Buffer
	in := `{"a": {"b": {"c": [1, {"d": "e"}]}}}`
	if err := pyDump(&b, json.NewDecoder(strings.NewReader(in))); err != nil || b.String() != in {
		t.Errorf("pyDump = %q, %v", b.String(), err)
	}
}
