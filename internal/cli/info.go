package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

func (a *app) cmdImportInfo() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "import-info",
		Short: "Print import methods available from Glance.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.checkFormat(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.imageClient(ctx)
			if err != nil {
				return err
			}
			methods, err := c.ImportInfo(ctx)
			if errors.Is(err, glance.ErrNotFound) {
				return fmt.Errorf("Target Glance does not support Image Import workflow")
			}
			if err != nil {
				return err
			}
			return printRecord(a.io.Out, &p, map[string]any{"import-methods": methods}, nil)
		},
	}
	addPrintFlags(c.Flags(), &p)
	return c
}

func (a *app) cmdStoresInfo() *cobra.Command {
	var (
		p      printOptions
		detail bool
	)
	c := &cobra.Command{
		Use:   "stores-info [--detail]",
		Short: "Print available backends from Glance.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.checkFormat(); err != nil {
				return err
			}
			if detail {
				return errors.New("--detail is not supported by this client yet")
			}
			ctx := cmd.Context()
			c, err := a.imageClient(ctx)
			if err != nil {
				return err
			}
			stores, err := c.Stores(ctx)
			if errors.Is(err, glance.ErrNotFound) {
				return fmt.Errorf("Multi Backend support is not enabled")
			}
			if err != nil {
				return err
			}
			list := make([]any, len(stores))
			text := make([]string, len(stores))
			for i, s := range stores {
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
				list[i], text[i] = m, t+"}"
			}
			return printRecord(a.io.Out, &p, map[string]any{"stores": list}, func(string, any) string {
				return "[" + strings.Join(text, ", ") + "]"
			})
		},
	}
	c.Flags().BoolVar(&detail, "detail", false, "Shows details of stores. Admin only.")
	addPrintFlags(c.Flags(), &p)
	return c
}

func (a *app) cmdStoresDelete() *cobra.Command {
	var store string
	c := &cobra.Command{
		Use:   "stores-delete --store <STORE_ID> <IMAGE_ID>",
		Short: "Delete image from specific store.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if store == "" {
				return usageErrorf("the following arguments are required: --store")
			}
			ctx := cmd.Context()
			c, err := a.imageClient(ctx)
			if err != nil {
				return err
			}
			return resolveID(ctx, c, args[0], func(id string) error { return c.DeleteFromStore(ctx, store, id) })
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>          ID or name of image to update.\n"}
	c.Flags().StringVar(&store, "store", "", "Store to delete image from.")
	return c
}

func (a *app) cmdExplain() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "explain <MODEL>",
		Short: "Describe a specific model.",
		Args:  exactArgs("<MODEL>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.checkFormat(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.imageClient(ctx)
			if err != nil {
				return err
			}
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
		},
	}
	c.Annotations = map[string]string{"args": "  <MODEL>  Name of model to describe.\n"}
	addPrintFlags(c.Flags(), &p)
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

// taskRecord is a task by its API field names.
func taskRecord(t *glance.Task) map[string]any {
	data, _ := json.Marshal(t)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.Decode(&m)
	return m
}

func (a *app) cmdTaskShow() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "task-show <TASK_ID>",
		Short: "Describe a specific task.",
		Args:  exactArgs("<TASK_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.checkFormat(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.imageClient(ctx)
			if err != nil {
				return err
			}
			t, err := c.GetTask(ctx, args[0])
			if err != nil {
				return err
			}
			return printRecord(a.io.Out, &p, taskRecord(t), nil)
		},
	}
	c.Annotations = map[string]string{"args": "  <TASK_ID>  ID of task to describe.\n"}
	addPrintFlags(c.Flags(), &p)
	return c
}

func (a *app) cmdImageTasks() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "image-tasks <IMAGE_ID>",
		Short: "Get tasks associated with image",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.checkFormat(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.imageClient(ctx)
			if err != nil {
				return err
			}
			cols := []column{{"Message", "message"}, {"Status", "status"}, {"Updated at", "updated_at"}}
			if a.g.verbose {
				cols = []column{{"Image Id", "image_id"}, {"Task Id", "id"}, {"Message", "message"}, {"Status", "status"},
					{"Updated at", "updated_at"}, {"User Id", "user_id"}, {"Request Id", "request_id"}, {"Result", "result"},
					{"Owner", "owner"}, {"Input", "input"}, {"Expires at", "expires_at"}}
			}
			return resolveID(ctx, c, args[0], func(id string) error {
				tasks, err := c.ImageTasks(ctx, id)
				if err != nil {
					return err
				}
				recs := make([]map[string]any, len(tasks))
				for i := range tasks {
					recs[i] = taskRecord(&tasks[i])
				}
				return printRecords(a.io.Out, &p, cols, recs, func(_ string, v any) string {
					if v == nil {
						return ""
					}
					return pyStr(v)
				})
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>  ID or name of image to get tasks.\n"}
	addPrintFlags(c.Flags(), &p)
	return c
}
