package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

type taskShowOptions struct {
	print printOptions
	task  string
}

func (a *app) cmdTaskShow() *cobra.Command {
	o := &taskShowOptions{print: printOptions{MaxColumnWidth: 80}} // print_dict's width
	return a.command(&cmdSpec{
		use:   "task-show <TASK_ID>",
		short: "Show the details of a task.",
		args:  []posArg{{name: "<TASK_ID>", help: "ID of the task to show.", to: &o.task}},
		print: &o.print,
		run: func(ctx context.Context, c *glance.Client) error {
			t, err := c.GetTask(ctx, o.task)
			if err != nil {
				return err
			}
			return a.printTask(&o.print, t)
		},
	})
}

type imageTasksOptions struct {
	print printOptions
	image string
}

func (a *app) cmdImageTasks() *cobra.Command {
	o := &imageTasksOptions{}
	return a.command(&cmdSpec{
		use:   "image-tasks <IMAGE_ID>",
		short: "List the tasks run on an image, such as its imports.",
		args:  []posArg{imageArg("Image whose tasks to list, by ID or name.", &o.image)},
		print: &o.print,
		run:   func(ctx context.Context, c *glance.Client) error { return a.imageTasks(ctx, c, o) },
	})
}

func (a *app) imageTasks(ctx context.Context, c *glance.Client, o *imageTasksOptions) error {
	cols := []column{{"Message", "message"}, {"Status", "status"}, {"Updated at", "updated_at"}}
	if a.g.verbose {
		cols = []column{{"Image Id", "image_id"}, {"Task Id", "id"}, {"Message", "message"}, {"Status", "status"},
			{"Updated at", "updated_at"}, {"User Id", "user_id"}, {"Request Id", "request_id"}, {"Result", "result"},
			{"Owner", "owner"}, {"Input", "input"}, {"Expires at", "expires_at"}}
	}
	return resolveID(ctx, c, o.image, func(id string) error {
		tasks, err := c.ImageTasks(ctx, id)
		if err != nil {
			return err
		}
		recs := make([]map[string]any, len(tasks))
		for i := range tasks {
			recs[i], _ = taskRecord(&tasks[i])
		}
		return printRecords(a.io.Out, &o.print, cols, recs, func(_ string, v any) string {
			if v == nil {
				return ""
			}
			return pyStr(v)
		})
	})
}

type taskListOptions struct {
	print            printOptions
	list             glance.TaskListOptions
	sortKey, sortDir string
}

func (a *app) cmdTaskList() *cobra.Command {
	o := &taskListOptions{sortKey: "status", sortDir: "desc"}
	return a.command(&cmdSpec{
		use:   "task-list [--sort-key {id,type,status}] [--sort-dir {asc,desc}] [--page-size <SIZE>] [--type <TYPE>] [--status <STATUS>]",
		short: "List the tasks visible to you.",
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.Var(&choice{v: &o.sortKey, choices: glance.TaskSortKeys}, "sort-key", "Field to sort the tasks by. Valid values: "+strings.Join(glance.TaskSortKeys, ", ")+".")
			f.Var(&choice{v: &o.sortDir, choices: []string{"asc", "desc"}}, "sort-dir", "Sort direction. Valid values: asc, desc.")
			f.IntVar(&o.list.PageSize, "page-size", 0, "How many tasks to ask the server for in each request (0: the server's default).")
			f.StringVar(&o.list.Type, "type", "", "Only tasks of this type, e.g. import.")
			f.StringVar(&o.list.Status, "status", "", "Only tasks in this status: pending, processing, success or failure.")
		},
		check: func(*cobra.Command) error {
			if o.list.PageSize < 0 {
				return usageErrorf("argument --page-size: invalid value: %d", o.list.PageSize)
			}
			o.list.SortKey, o.list.SortDir = o.sortKey, o.sortDir
			return nil
		},
		run: func(ctx context.Context, c *glance.Client) error { return a.taskList(ctx, c, o) },
	})
}

func (a *app) taskList(ctx context.Context, c *glance.Client, o *taskListOptions) error {
	var recs []map[string]any
	for t, err := range c.ListTasks(ctx, &o.list) {
		if err != nil {
			return err
		}
		rec, _ := taskRecord(t)
		recs = append(recs, rec)
	}
	cols := []column{{"ID", "id"}, {"Type", "type"}, {"Status", "status"}, {"Owner", "owner"}}
	return printRecords(a.io.Out, &o.print, cols, recs, nil)
}

type taskCreateOptions struct {
	print           printOptions
	taskType, input string
	wait            bool
	in              map[string]any // input, parsed by check
}

func (a *app) cmdTaskCreate() *cobra.Command {
	o := &taskCreateOptions{print: printOptions{MaxColumnWidth: 80}} // print_dict's width
	return a.command(&cmdSpec{
		use:   "task-create [--type <TYPE>] [--input <STRING>] [--wait]",
		short: "Start a task of the given type with a JSON input.",
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&o.taskType, "type", "", "Task type, e.g. import; which types a cloud accepts is up to it.")
			f.StringVar(&o.input, "input", "{}", "Input of the task, as a JSON object.")
			f.BoolVar(&o.wait, "wait", false, "Wait until the task ends, telling its status on stderr; exit with status 1 if it failed.")
		},
		check: func(*cobra.Command) (err error) {
			if o.taskType == "" || o.input == "" {
				return errors.New("Unable to create task. Specify task type and input.")
			}
			o.in, err = jsonObject(o.input, `Failed to parse the "input" parameter. Must be a valid JSON object.`)
			return err
		},
		run: func(ctx context.Context, c *glance.Client) error { return a.taskCreate(ctx, c, o) },
	})
}

func (a *app) taskCreate(ctx context.Context, c *glance.Client, o *taskCreateOptions) error {
	t, err := c.CreateTask(ctx, o.taskType, o.in)
	if err != nil {
		return err
	}
	if o.wait {
		if t, err = a.waitTask(ctx, c, t); err != nil {
			return err
		}
	}
	if err := a.printTask(&o.print, t); err != nil {
		return err
	}
	if o.wait && t.Status == "failure" {
		return silentError{} // the message is in the record printed
	}
	return nil
}
