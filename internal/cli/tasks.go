package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

// taskRecord is a task by its API field names, as the server sent it but
// for its links; raw keeps each field's JSON for printing in server order.
func taskRecord(t *glance.Task) (rec map[string]any, raw map[string]json.RawMessage) {
	if err := json.Unmarshal(t.Raw, &raw); err != nil || raw == nil {
		data, _ := json.Marshal(t)
		raw = nil
		json.Unmarshal(data, &raw)
	}
	delete(raw, "self")
	delete(raw, "schema")
	rec = make(map[string]any, len(raw))
	for k, v := range raw {
		rec[k] = decodeNumbers(v)
	}
	return rec, raw
}

// printTask prints a task the way python-glanceclient's print_dict does.
func (a *app) printTask(p *printOptions, t *glance.Task) error {
	rec, raw := taskRecord(t)
	return printRecord(a.io.Out, p, rec, func(k string, v any) string {
		switch v.(type) {
		case map[string]any, []any:
			return pyJSONRaw(raw[k])
		}
		return pyStr(v)
	})
}

func (a *app) cmdTaskShow() *cobra.Command {
	p := printOptions{MaxColumnWidth: 80} // print_dict's width
	c := &cobra.Command{
		Use:   "task-show <TASK_ID>",
		Short: "Show the details of a task.",
		Args:  exactArgs("<TASK_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				t, err := c.GetTask(ctx, args[0])
				if err != nil {
					return err
				}
				return a.printTask(&p, t)
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <TASK_ID>  ID of the task to show.\n"}
	addPrintFlags(c, &p)
	return c
}

func (a *app) cmdImageTasks() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "image-tasks <IMAGE_ID>",
		Short: "List the tasks run on an image, such as its imports.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cols := []column{{"Message", "message"}, {"Status", "status"}, {"Updated at", "updated_at"}}
			if a.g.verbose {
				cols = []column{{"Image Id", "image_id"}, {"Task Id", "id"}, {"Message", "message"}, {"Status", "status"},
					{"Updated at", "updated_at"}, {"User Id", "user_id"}, {"Request Id", "request_id"}, {"Result", "result"},
					{"Owner", "owner"}, {"Input", "input"}, {"Expires at", "expires_at"}}
			}
			return a.runImage(cmd, args[0], func(ctx context.Context, c *glance.Client, id string) error {
				tasks, err := c.ImageTasks(ctx, id)
				if err != nil {
					return err
				}
				recs := make([]map[string]any, len(tasks))
				for i := range tasks {
					recs[i], _ = taskRecord(&tasks[i])
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
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>  Image whose tasks to list, by ID or name.\n"}
	addPrintFlags(c, &p)
	return c
}

func (a *app) cmdTaskList() *cobra.Command {
	var (
		p                printOptions
		o                glance.TaskListOptions
		sortKey, sortDir = "status", "desc"
	)
	c := &cobra.Command{
		Use:   "task-list [--sort-key {id,type,status}] [--sort-dir {asc,desc}] [--page-size <SIZE>] [--type <TYPE>] [--status <STATUS>]",
		Short: "List the tasks visible to you.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.PageSize < 0 {
				return usageErrorf("argument --page-size: invalid value: %d", o.PageSize)
			}
			o.SortKey, o.SortDir = sortKey, sortDir
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				var recs []map[string]any
				for t, err := range c.ListTasks(ctx, &o) {
					if err != nil {
						return err
					}
					rec, _ := taskRecord(t)
					recs = append(recs, rec)
				}
				cols := []column{{"ID", "id"}, {"Type", "type"}, {"Status", "status"}, {"Owner", "owner"}}
				return printRecords(a.io.Out, &p, cols, recs, nil)
			})
		},
	}
	f := c.Flags()
	f.Var(&choice{v: &sortKey, choices: glance.TaskSortKeys}, "sort-key", "Field to sort the tasks by. Valid values: "+strings.Join(glance.TaskSortKeys, ", ")+".")
	f.Var(&choice{v: &sortDir, choices: []string{"asc", "desc"}}, "sort-dir", "Sort direction. Valid values: asc, desc.")
	f.IntVar(&o.PageSize, "page-size", 0, "How many tasks to ask the server for in each request (0: the server's default).")
	f.StringVar(&o.Type, "type", "", "Only tasks of this type, e.g. import.")
	f.StringVar(&o.Status, "status", "", "Only tasks in this status: pending, processing, success or failure.")
	addPrintFlags(c, &p)
	return c
}

func (a *app) cmdTaskCreate() *cobra.Command {
	var (
		p               = printOptions{MaxColumnWidth: 80} // print_dict's width
		taskType, input string
		wait            bool
	)
	c := &cobra.Command{
		Use:   "task-create [--type <TYPE>] [--input <STRING>] [--wait]",
		Short: "Start a task of the given type with a JSON input.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if taskType == "" || input == "" {
				return errors.New("Unable to create task. Specify task type and input.")
			}
			in, err := jsonObject(input, `Failed to parse the "input" parameter. Must be a valid JSON object.`)
			if err != nil {
				return err
			}
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				t, err := c.CreateTask(ctx, taskType, in)
				if err != nil {
					return err
				}
				if wait {
					if t, err = a.waitTask(ctx, c, t); err != nil {
						return err
					}
				}
				if err := a.printTask(&p, t); err != nil {
					return err
				}
				if wait && t.Status == "failure" {
					return silentError{} // the message is in the record printed
				}
				return nil
			})
		},
	}
	f := c.Flags()
	f.StringVar(&taskType, "type", "", "Task type, e.g. import; which types a cloud accepts is up to it.")
	f.StringVar(&input, "input", "{}", "Input of the task, as a JSON object.")
	f.BoolVar(&wait, "wait", false, "Wait until the task ends, telling its status on stderr; exit with status 1 if it failed.")
	addPrintFlags(c, &p)
	return c
}
