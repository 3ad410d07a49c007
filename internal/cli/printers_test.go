package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0B", 1023: "1023B", 1024: "1kB", 1536: "1.5kB", 3000: "2.9kB",
		1000000: "976.6kB", 5 << 30: "5GB", 1 << 50: "1PB",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// The expected tables are python-glanceclient 4.1's output for the same data.
func TestRecordTableLikePrettyTable(t *testing.T) {
	rec := map[string]any{
		"id":            "60eb83a9-ff1a-402a-9570-47a4c4ecbf25",
		"os_hash_value": "817ef0cd2b27ce572b38ddd42dbec7b5488e2d3c2c98dce1eb5d442087c6b786dd0798a89d7a3ff260377812bac1050c5ca98fa78f6b23abcc99f951f9995273",
		"tags":          []any{"b", "newtag", "a"},
		"protected":     false,
		"size":          json.Number("3000"),
		"locations":     nil,
	}
	var out bytes.Buffer
	p := &printOptions{Format: "table", MaxColumnWidth: 30}
	if err := printRecord(&out, p, rec, nil); err != nil {
		t.Fatal(err)
	}
	want := `+---------------+--------------------------------+
| Property      | Value                          |
+---------------+--------------------------------+
| id            | 60eb83a9-ff1a-402a-9570-       |
|               | 47a4c4ecbf25                   |
| locations     | None                           |
| os_hash_value | 817ef0cd2b27ce572b38ddd42dbec7 |
|               | b5488e2d3c2c98dce1eb5d442087c6 |
|               | b786dd0798a89d7a3ff260377812ba |
|               | c1050c5ca98fa78f6b23abcc99f951 |
|               | f9995273                       |
| protected     | False                          |
| size          | 3000                           |
| tags          | ["b", "newtag", "a"]           |
+---------------+--------------------------------+
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestWrapLikeTextwrap(t *testing.T) {
	got := wrapCell(`{"description": "Import methods available.", "type": "array", "value": ["glance-direct", "web-download", "copy-image"]}`, 80)
	want := []string{
		`{"description": "Import methods available.", "type": "array", "value": ["glance-`,
		`direct", "web-download", "copy-image"]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestListTableFalsyCellsEmpty(t *testing.T) {
	recs := []map[string]any{
		{"id": "a", "name": "x", "size": json.Number("0"), "tags": []any{"t1", "t'2"}},
		{"id": "b", "name": nil, "size": json.Number("12"), "tags": []any{}},
	}
	cols := []column{{"ID", "id"}, {"Name", "name"}, {"Size", "size"}, {"Tags", "tags"}}
	var out bytes.Buffer
	if err := printRecords(&out, &printOptions{Format: "table"}, cols, recs, nil); err != nil {
		t.Fatal(err)
	}
	want := `+----+------+------+---------------+
| ID | Name | Size | Tags          |
+----+------+------+---------------+
| a  | x    |      | ['t1', "t'2"] |
| b  |      | 12   | []            |
+----+------+------+---------------+
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestFormatsAndColumns(t *testing.T) {
	recs := []map[string]any{{"id": "a", "name": "x", "status": "active"}}
	cols := []column{{"ID", "id"}, {"Name", "name"}}
	for _, tc := range []struct {
		p    printOptions
		want string
	}{
		{printOptions{Format: "json"}, "[\n  {\n    \"id\": \"a\",\n    \"name\": \"x\"\n  }\n]\n"},
		{printOptions{Format: "yaml"}, "- id: a\n  name: x\n"},
		{printOptions{Format: "value"}, "a x\n"},
		{printOptions{Format: "value", Columns: []string{"Name"}}, "x\n"},
		// -c may name any API field, not only the default columns.
		{printOptions{Format: "value", Columns: []string{"status", "id"}}, "active a\n"},
	} {
		var out bytes.Buffer
		if err := printRecords(&out, &tc.p, cols, recs, nil); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.p, out.String(), tc.want)
		}
	}
	p := printOptions{Format: "xml"}
	if err := p.checkFormat(); err == nil {
		t.Error("format xml accepted")
	}
}

func TestYAMLNumbersUnquoted(t *testing.T) {
	var out bytes.Buffer
	if err := printRecord(&out, &printOptions{Format: "yaml"}, map[string]any{"size": json.Number("3000"), "name": "x"}, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != "name: x\nsize: 3000\n" {
		t.Errorf("got %q", out.String())
	}
}

// Python's json.dumps escapes non-ASCII and leaves <, > and & alone; so must
// every nested value this CLI prints.
func TestPyJSONLikeJSONDumps(t *testing.T) {
	const want = `{"a": ["caf\u00e9", "<b>&"], "n": null, "x": 1.5}`
	if got := pyJSONRaw(json.RawMessage(`{"a": ["café", "<b>&"], "n": null, "x": 1.5}`)); got != want {
		t.Errorf("pyJSONRaw: %s, want %s", got, want)
	}
	if got := pyJSON(map[string]any{"a": []any{"café", "<b>&"}, "n": nil, "x": json.Number("1.5")}); got != want {
		t.Errorf("pyJSON: %s, want %s", got, want)
	}
}
