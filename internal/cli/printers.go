package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Output formats accepted by -f/--format.
var formats = []string{"table", "json", "yaml", "value"}

// column is one printed field: Header is what the table shows, Key the API's
// field name, used by json, yaml and -c.
type column struct {
	Header string
	Key    string
}

// printOptions are the output flags every printing command has.
type printOptions struct {
	Format         string
	Columns        []string
	MaxColumnWidth int  // 0: no limit
	HumanReadable  bool // sizes as 1.5kB
}

// checkFormat validates -f before any request is made.
func (p *printOptions) checkFormat() error {
	if !slices.Contains(formats, p.Format) {
		return usageErrorf("argument -f/--format: invalid choice: '%s' (choose from %s)", p.Format, quoteList(formats))
	}
	return nil
}

// selectColumns applies -c to the default columns. A -c name may be a header
// or an API field name; API fields outside the defaults are allowed, since
// every record carries them.
func (p *printOptions) selectColumns(def []column) []column {
	if len(p.Columns) == 0 {
		return def
	}
	var out []column
	for _, want := range p.Columns {
		found := false
		for _, c := range def {
			if strings.EqualFold(c.Header, want) || c.Key == want {
				out = append(out, c)
				found = true
				break
			}
		}
		if !found {
			out = append(out, column{Header: want, Key: want})
		}
	}
	return out
}

// printRecord prints one object. Table output is PrettyTable's sorted
// Property/Value layout; json and yaml print the record as the API named it.
func printRecord(w io.Writer, p *printOptions, rec map[string]any, tableValue func(key string, v any) string) error {
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(p.Columns) > 0 {
		keys = p.Columns
	}
	if tableValue == nil {
		tableValue = func(_ string, v any) string { return pyStr(v) }
	}
	switch p.Format {
	case "json", "yaml":
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			out[k] = rec[k]
		}
		return encode(w, p.Format, out)
	case "value":
		for _, k := range keys {
			fmt.Fprintln(w, tableValue(k, rec[k]))
		}
		return nil
	}
	t := &table{headers: []string{"Property", "Value"}, maxWidth: p.MaxColumnWidth}
	for _, k := range keys {
		t.rows = append(t.rows, []string{k, tableValue(k, rec[k])})
	}
	return t.write(w)
}

// printRecords prints a list of objects under the given columns. An empty
// list prints the header only, as python-glanceclient does.
func printRecords(w io.Writer, p *printOptions, def []column, recs []map[string]any, tableValue func(key string, v any) string) error {
	cols := p.selectColumns(def)
	if tableValue == nil {
		tableValue = func(_ string, v any) string { return listStr(v) }
	}
	switch p.Format {
	case "json", "yaml":
		out := make([]map[string]any, 0, len(recs))
		for _, r := range recs {
			m := make(map[string]any, len(cols))
			for _, c := range cols {
				m[c.Key] = r[c.Key]
			}
			out = append(out, m)
		}
		return encode(w, p.Format, out)
	case "value":
		for _, r := range recs {
			vals := make([]string, len(cols))
			for i, c := range cols {
				vals[i] = tableValue(c.Key, r[c.Key])
			}
			fmt.Fprintln(w, strings.Join(vals, " "))
		}
		return nil
	}
	t := &table{maxWidth: p.MaxColumnWidth}
	for _, c := range cols {
		t.headers = append(t.headers, c.Header)
	}
	for _, r := range recs {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = tableValue(c.Key, r[c.Key])
		}
		t.rows = append(t.rows, row)
	}
	return t.write(w)
}

// encode writes v as indented JSON or YAML.
func encode(w io.Writer, format string, v any) error {
	if format == "yaml" {
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(yamlSafe(v)); err != nil {
			return err
		}
		return enc.Close()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// yamlSafe turns json.Number into plain numbers so YAML does not quote them.
func yamlSafe(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = yamlSafe(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = yamlSafe(x)
		}
		return s
	case []map[string]any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = yamlSafe(x)
		}
		return s
	}
	return v
}

// pyStr renders a value the way python-glanceclient's print_dict does:
// None, True/False, and JSON for lists and objects.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case json.Number:
		return v.String()
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case []string:
		return pyJSON(v)
	case []any, map[string]any:
		return pyJSON(v)
	}
	return fmt.Sprint(v)
}

// listStr renders a list cell the way print_list does: falsy values are
// empty, lists are Python reprs.
func listStr(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if !x {
			return ""
		}
	case string:
		return x
	case json.Number:
		if x.String() == "0" {
			return ""
		}
	case []string:
		return pyRepr(x)
	case []any:
		s := make([]string, 0, len(x))
		for _, e := range x {
			s = append(s, pyStr(e))
		}
		return pyRepr(s)
	}
	return pyStr(v)
}

// pyJSON is Python's json.dumps: ", " and ": " separators, keys in the order
// given by the server (here sorted, as Go maps have none).
func pyJSON(v any) string {
	var b bytes.Buffer
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case []any:
		writePyList(b, v)
	case []string:
		writePyList(b, v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, k)
			b.WriteString(": ")
			writePyJSON(b, v[k])
		}
		b.WriteByte('}')
	case string:
		pyString(b, v) // non-ASCII escaped, <>& not: json.dumps, not json.Marshal
	default:
		data, err := json.Marshal(v)
		if err != nil {
			fmt.Fprint(b, v)
			return
		}
		b.Write(data)
	}
}

func writePyList[T any](b *bytes.Buffer, s []T) {
	b.WriteByte('[')
	for i, e := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		writePyJSON(b, e)
	}
	b.WriteByte(']')
}

// pyRepr renders a list of strings as Python's repr: ['a', 'b'].
func pyRepr(s []string) string {
	q := make([]string, len(s))
	for i, e := range s {
		if strings.Contains(e, "'") && !strings.Contains(e, `"`) {
			q[i] = `"` + e + `"`
		} else {
			q[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(e, `\`, `\\`), "'", `\'`) + "'"
		}
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// humanSize formats a byte count like python-glanceclient: base 1024,
// one decimal with trailing zeros dropped (1536 -> 1.5kB).
func humanSize(n int64) string {
	suffixes := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(suffixes)-1 {
		f /= 1024
		i++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	return s + suffixes[i]
}

// table draws a PrettyTable-style grid with left-aligned cells.
type table struct {
	headers  []string
	rows     [][]string
	maxWidth int // per column, 0 for none
}

func (t *table) write(w io.Writer) error {
	n := len(t.headers)
	cells := make([][][]string, 0, len(t.rows)+1) // row -> column -> lines
	widths := make([]int, n)
	add := func(row []string) {
		c := make([][]string, n)
		for i := range n {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			c[i] = wrapCell(v, t.maxWidth)
			// PrettyTable sizes a column by its unwrapped lines, capped at
			// the maximum width, not by the lines after wrapping.
			for _, l := range strings.Split(v, "\n") {
				wd := utf8.RuneCountInString(l)
				if t.maxWidth > 0 {
					wd = min(wd, t.maxWidth)
				}
				widths[i] = max(widths[i], wd)
			}
		}
		cells = append(cells, c)
	}
	add(t.headers)
	for _, r := range t.rows {
		add(r)
	}
	var b strings.Builder
	sep := func() {
		b.WriteByte('+')
		for _, wd := range widths {
			b.WriteString(strings.Repeat("-", wd+2))
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(c [][]string) {
		height := 1
		for _, l := range c {
			height = max(height, len(l))
		}
		for h := range height {
			b.WriteByte('|')
			for i, l := range c {
				s := ""
				if h < len(l) {
					s = l[h]
				}
				b.WriteByte(' ')
				b.WriteString(s)
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s)))
				b.WriteString(" |")
			}
			b.WriteByte('\n')
		}
	}
	sep()
	line(cells[0])
	sep()
	for _, c := range cells[1:] {
		line(c)
	}
	sep()
	_, err := io.WriteString(w, b.String())
	return err
}

// wrapCell splits a cell into lines no wider than width, the way Python's
// textwrap does for PrettyTable: at spaces, after hyphens inside words, and
// through words longer than the width.
func wrapCell(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if width <= 0 || utf8.RuneCountInString(para) <= width {
			out = append(out, para)
			continue
		}
		out = append(out, wrapLine(para, width)...)
	}
	return out
}

func wrapLine(s string, width int) []string {
	chunks := splitChunks(s)
	var lines []string
	var cur []rune
	for first := true; len(chunks) > 0; first = false {
		c := []rune(chunks[0])
		if len(cur) == 0 && !first && strings.TrimSpace(string(c)) == "" {
			// No leading white space on a line, except the paragraph's
			// own, which Python's textwrap keeps.
			chunks = chunks[1:]
			continue
		}
		if len(cur)+len(c) <= width {
			cur = append(cur, c...)
			chunks = chunks[1:]
			continue
		}
		if len(c) > width || len(cur) == 0 {
			// A long word: fill the rest of the line with its start.
			room := width - len(cur)
			if room <= 0 {
				lines = append(lines, strings.TrimRight(string(cur), " "))
				cur = nil
				continue
			}
			cur = append(cur, c[:room]...)
			chunks[0] = string(c[room:])
		}
		lines = append(lines, strings.TrimRight(string(cur), " "))
		cur = nil
	}
	if len(cur) > 0 {
		lines = append(lines, strings.TrimRight(string(cur), " "))
	}
	return lines
}

// splitChunks cuts s into words, runs of spaces, and word parts ending in a
// hyphen that sits between letters or digits.
func splitChunks(s string) []string {
	var chunks []string
	r := []rune(s)
	start := 0
	isWordChar := func(c rune) bool {
		return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c > 127
	}
	for i := 0; i < len(r); i++ {
		switch {
		case r[i] == ' ':
			if i > start {
				chunks = append(chunks, string(r[start:i]))
			}
			j := i
			for j < len(r) && r[j] == ' ' {
				j++
			}
			chunks = append(chunks, string(r[i:j]))
			start = j
			i = j - 1
		case r[i] == '-' && i > start && isWordChar(r[i-1]) && i+1 < len(r) && isWordChar(r[i+1]):
			chunks = append(chunks, string(r[start:i+1]))
			start = i + 1
		}
	}
	if start < len(r) {
		chunks = append(chunks, string(r[start:]))
	}
	return chunks
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, e := range s {
		q[i] = "'" + e + "'"
	}
	return strings.Join(q, ", ")
}
