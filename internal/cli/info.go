package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

func (a *app) cmdImportInfo() *cobra.Command {
	p := printOptions{MaxColumnWidth: 80} // print_dict's width
	c := &cobra.Command{
		Use:   "import-info",
		Short: "Show the import methods the cloud offers.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
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
				return printRecord(a.io.Out, &p, rec, func(k string, v any) string {
					if _, ok := v.(string); ok {
						return pyStr(v)
					}
					return pyJSONRaw(doc[k])
				})
			})
		},
	}
	addPrintFlags(c, &p)
	return c
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
	c := &cobra.Command{
		Use:   "stores-info [--detail]",
		Short: "List the stores (backends) the cloud offers.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
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
				return printRecord(a.io.Out, &p, map[string]any{"stores": list}, func(string, any) string {
					return "[" + strings.Join(text, ", ") + "]"
				})
			})
		},
	}
	c.Flags().BoolVar(&detail, "detail", false, "Include each store's type and settings (admin only).")
	addPrintFlags(c, &p)
	return c
}

func (a *app) cmdUsage() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "usage",
		Short: "Show your project's image quotas and how much of each is used.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
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
				return printRecords(a.io.Out, &p, cols, recs, func(_ string, v any) string { return fmt.Sprint(v) })
			})
		},
	}
	addPrintFlags(c, &p)
	return c
}

func (a *app) cmdStoresDelete() *cobra.Command {
	var store string
	c := &cobra.Command{
		Use:   "stores-delete --store <STORE_ID> <IMAGE_ID>",
		Short: "Remove an image's data from one store.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if store == "" {
				return usageErrorf("the following arguments are required: --store")
			}
			return a.runImage(cmd, args[0], func(ctx context.Context, c *glance.Client, id string) error {
				return c.DeleteFromStore(ctx, store, id)
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>          Image whose data to remove, by ID or name.\n"}
	c.Flags().StringVar(&store, "store", "", "ID of the store to remove the data from.")
	return c
}

func (a *app) cmdExplain() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "explain <MODEL>",
		Short: "List the attributes of an API schema and what they mean.",
		Args:  exactArgs("<MODEL>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				s, err := c.GetSchema(ctx, args[0])
				if err != nil {
					return fmt.Errorf("Unable to find requested model '%s': %w", args[0], err)
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
				return printRecords(a.io.Out, &p, []column{{"Attribute", "name"}, {"Description", "description"}}, recs, nil)
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <MODEL>  Schema name, e.g. image, member or task.\n"}
	addPrintFlags(c, &p)
	return c
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
