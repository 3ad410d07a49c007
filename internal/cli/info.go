package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

func (a *app) cmdImportInfo() *cobra.Command {
	p := printOptions{MaxColumnWidth: 80} // print_dict's width
	return a.command(&cmdSpec{
		use:   "import-info",
		short: "Show the import methods the cloud offers.",
		print: &p,
		run:   func(ctx context.Context, c *glance.Client) error { return a.importInfo(ctx, c, &p) },
	})
}

func (a *app) importInfo(ctx context.Context, c *glance.Client, p *printOptions) error {
	raw, err := c.ImportInfoDocument(ctx)
	if errors.Is(err, glance.ErrNotFound) {
		return fmt.Errorf("Target Glance does not support Image Import workflow")
	}
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("decoding import info: %w", err)
	}
	rec := make(map[string]any, len(doc))
	for k, v := range doc {
		rec[k] = decodeNumbers(v)
	}
	// The whole document, nested objects in the server's key order.
	return printRecord(a.io.Out, p, rec, func(k string, v any) string {
		if _, ok := v.(string); ok {
			return pyStr(v)
		}
		return pyJSONRaw(doc[k])
	})
}

// decodeNumbers decodes JSON keeping numbers as json.Number.
func decodeNumbers(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	dec.Decode(&v)
	return v
}

// pyJSONRaw is Python's json.dumps of a JSON document, keeping its key order.
func pyJSONRaw(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := pyDump(&b, json.NewDecoder(bytes.NewReader(raw))); err != nil {
		return string(raw)
	}
	return b.String()
}

func (a *app) cmdStoresInfo() *cobra.Command {
	var (
		p      = printOptions{MaxColumnWidth: 80} // print_dict's width
		detail bool
	)
	return a.command(&cmdSpec{
		use:   "stores-info [--detail]",
		short: "List the stores (backends) the cloud offers.",
		print: &p,
		flags: func(f *pflag.FlagSet) {
			f.BoolVar(&detail, "detail", false, "Include each store's type and settings (admin only).")
		},
		run: func(ctx context.Context, c *glance.Client) error { return a.storesInfo(ctx, c, &p, detail) },
	})
}

func (a *app) storesInfo(ctx context.Context, c *glance.Client, p *printOptions, detail bool) error {
	var list []any
	var text []string
	if detail {
		stores, err := c.StoresDetail(ctx)
		if errors.Is(err, glance.ErrNotFound) {
			return fmt.Errorf("Multi Backend support is not enabled")
		}
		if err != nil {
			return err
		}
		for _, s := range stores {
			list = append(list, decodeNumbers(s.Raw))
			text = append(text, pyJSONRaw(s.Raw))
		}
	} else {
		stores, err := c.Stores(ctx)
		if errors.Is(err, glance.ErrNotFound) {
			return fmt.Errorf("Multi Backend support is not enabled")
		}
		if err != nil {
			return err
		}
		for _, s := range stores {
			m := map[string]any{"id": s.ID, "description": s.Description}
			// The server's key order, as python-glanceclient prints it.
			t := fmt.Sprintf(`{"id": %s, "description": %s`, pyJSON(s.ID), pyJSON(s.Description))
			if s.Default {
				m["default"] = "true"
				t += `, "default": "true"`
			}
			if s.ReadOnly {
				m["read-only"] = "true"
				t += `, "read-only": "true"`
			}
			list, text = append(list, m), append(text, t+"}")
		}
	}
	if list == nil {
		list = []any{}
	}
	return printRecord(a.io.Out, p, map[string]any{"stores": list}, func(string, any) string {
		return "[" + strings.Join(text, ", ") + "]"
	})
}

func (a *app) cmdUsage() *cobra.Command {
	var p printOptions
	return a.command(&cmdSpec{
		use:   "usage",
		short: "Show your project's image quotas and how much of each is used.",
		print: &p,
		run:   func(ctx context.Context, c *glance.Client) error { return a.usage(ctx, c, &p) },
	})
}

func (a *app) usage(ctx context.Context, c *glance.Client, p *printOptions) error {
	quotas, err := c.Usage(ctx)
	if err != nil {
		return err
	}
	recs := make([]map[string]any, len(quotas))
	for i, q := range quotas {
		recs[i] = map[string]any{"quota": q.Name, "limit": q.Limit, "usage": q.Usage}
	}
	cols := []column{{"Quota", "quota"}, {"Limit", "limit"}, {"Usage", "usage"}}
	// Every value is printed, zeros included (print_dict_list).
	return printRecords(a.io.Out, p, cols, recs, func(_ string, v any) string { return fmt.Sprint(v) })
}

func (a *app) cmdStoresDelete() *cobra.Command {
	var image, store string
	return a.command(&cmdSpec{
		use:   "stores-delete --store <STORE_ID> <IMAGE_ID>",
		short: "Remove an image's data from one store.",
		args:  []posArg{imageArg("Image whose data to remove, by ID or name.", &image)}, argsCol: 22,
		flags: func(f *pflag.FlagSet) { f.StringVar(&store, "store", "", "ID of the store to remove the data from.") },
		check: func(*cobra.Command) error {
			if store == "" {
				return usageErrorf("the following arguments are required: --store")
			}
			return nil
		},
		run: func(ctx context.Context, c *glance.Client) error {
			return resolveID(ctx, c, image, func(id string) error { return c.DeleteFromStore(ctx, store, id) })
		},
	})
}

type explainOptions struct {
	print printOptions
	model string
}

func (a *app) cmdExplain() *cobra.Command {
	o := &explainOptions{}
	return a.command(&cmdSpec{
		use:   "explain <MODEL>",
		short: "List the attributes of an API schema and what they mean.",
		args:  []posArg{{name: "<MODEL>", help: "Schema name, e.g. image, member or task.", to: &o.model}},
		print: &o.print,
		run:   func(ctx context.Context, c *glance.Client) error { return a.explain(ctx, c, o) },
	})
}

func (a *app) explain(ctx context.Context, c *glance.Client, o *explainOptions) error {
	s, err := c.GetSchema(ctx, o.model)
	if err != nil {
		return fmt.Errorf("Unable to find requested model '%s': %w", o.model, err)
	}
	names, err := orderedKeys(s.Raw, "properties")
	if err != nil {
		return err
	}
	recs := make([]map[string]any, 0, len(names))
	for _, n := range names {
		var prop struct {
			Description string `json:"description"`
		}
		json.Unmarshal(s.Properties[n], &prop)
		recs = append(recs, map[string]any{"name": n, "description": prop.Description})
	}
	return printRecords(a.io.Out, &o.print, []column{{"Attribute", "name"}, {"Description", "description"}}, recs, nil)
}

// orderedKeys returns the keys of the object doc[field] in document order,
// which Go maps lose.
func orderedKeys(doc json.RawMessage, field string) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(top[field]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
