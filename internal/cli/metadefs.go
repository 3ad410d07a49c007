package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf16"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

// The md-* commands: metadata definitions namespaces and their contents.

// view is an API object ready to print: rec for json/yaml and -c, raw for
// table cells, which keep the server's key order inside nested values as
// python-glanceclient's json.dumps does.
type view struct {
	rec map[string]any
	raw map[string]json.RawMessage
}

func newView(v any) (*view, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	w := &view{}
	if err := json.Unmarshal(data, &w.raw); err != nil {
		return nil, err
	}
	w.rec = make(map[string]any, len(w.raw))
	for k, r := range w.raw {
		w.rec[k] = decodeNumbers(r) // r is valid JSON: it was just encoded
	}
	delete(w.rec, "self")
	delete(w.raw, "self")
	return w, nil
}

// names replaces a list of objects or an object of objects by their names.
func (w *view) names(key string, names []string) {
	if _, ok := w.raw[key]; !ok {
		return
	}
	if names == nil {
		names = []string{}
	}
	w.rec[key] = names
	w.raw[key], _ = json.Marshal(names)
}

func (w *view) cell(key string, v any) string {
	if r, ok := w.raw[key]; ok {
		return pyCell(r)
	}
	return pyStr(v)
}

func (a *app) printView(p *printOptions, v any, edit func(*view)) error {
	w, err := newView(v)
	if err != nil {
		return err
	}
	if edit != nil {
		edit(w)
	}
	return printRecord(a.io.Out, p, w.rec, w.cell)
}

// pyCell renders a JSON value as print_dict does: strings bare, None,
// True/False, and json.dumps for lists and objects.
func pyCell(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		return s
	case 'n':
		return "None"
	case 't':
		return "True"
	case 'f':
		return "False"
	case '{', '[':
		var b bytes.Buffer
		if err := pyDump(&b, json.NewDecoder(bytes.NewReader(raw))); err != nil {
			return string(raw)
		}
		return b.String()
	}
	return string(raw)
}

// pyDump re-encodes one JSON value the way Python's json.dumps writes it:
// ", " and ": " separators, keys in the given order, non-ASCII escaped.
func pyDump(b *bytes.Buffer, dec *json.Decoder) error {
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte(']')
		if t == '{' {
			closing = '}'
		}
		b.WriteByte(byte(t))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				pyString(b, key.(string))
				b.WriteString(": ")
			}
			if err := pyDump(b, dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		b.WriteByte(closing)
	case string:
		pyString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	}
	return nil
}

// pyString writes a JSON string with ensure_ascii, as json.dumps does.
func pyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// mdCommand declares an md-* command: its positional arguments (help
// from column col, 0 for the default) go to run as argv, in order.
func (a *app) mdCommand(use, short string, args []posArg, col int, p *printOptions, run func(ctx context.Context, c *glance.Client, argv []string) error) *cobra.Command {
	argv := make([]string, len(args))
	for i := range args {
		args[i].to = &argv[i]
	}
	return a.command(&cmdSpec{use: use, short: short, args: args, argsCol: col, print: p,
		run: func(ctx context.Context, c *glance.Client) error { return run(ctx, c, argv) }})
}

// showWidth adds --max-column-width, 80 as in print_dict.
func showWidth(c *cobra.Command, p *printOptions) {
	c.Flags().IntVar(&p.MaxColumnWidth, "max-column-width", 80, "Wrap table cells wider than this many characters.")
}

func (a *app) mdCommands() []*cobra.Command {
	return []*cobra.Command{
		a.cmdMdNamespaceCreate(), a.cmdMdNamespaceImport(), a.cmdMdNamespaceUpdate(),
		a.cmdMdNamespaceShow(), a.cmdMdNamespaceList(), a.cmdMdNamespaceDelete(),
		a.cmdMdNamespaceContentsDelete("objects", (*glance.Client).DeleteAllMetadefObjects),
		a.cmdMdNamespaceContentsDelete("properties", (*glance.Client).DeleteAllMetadefProperties),
		a.cmdMdNamespaceContentsDelete("tags", (*glance.Client).DeleteAllMetadefTags),
		a.cmdMdNamespaceResourceTypeList(), a.cmdMdResourceTypeAssociate(),
		a.cmdMdResourceTypeDeassociate(), a.cmdMdResourceTypeList(),
		a.cmdMdPropertyCreate(), a.cmdMdPropertyUpdate(), a.cmdMdPropertyShow(),
		a.cmdMdPropertyDelete(), a.cmdMdPropertyList(),
		a.cmdMdObjectCreate(), a.cmdMdObjectUpdate(), a.cmdMdObjectShow(),
		a.cmdMdObjectPropertyShow(), a.cmdMdObjectDelete(), a.cmdMdObjectList(),
		a.cmdMdTagCreate(), a.cmdMdTagCreateMultiple(), a.cmdMdTagUpdate(),
		a.cmdMdTagShow(), a.cmdMdTagDelete(), a.cmdMdTagList(),
	}
}
