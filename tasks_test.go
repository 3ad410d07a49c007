package glance_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
)

func TestIntegrationTasks(t *testing.T) {
	cloud := testenv.Peer(t)
	admin, _, _ := login(t, cloud, cloud.Admin, "")
	ctx := context.Background()

	// A legacy import from a URL that nothing serves: the task is accepted
	// and fails in the background without leaving an image.
	input := map[string]any{
		"import_from": "http://127.0.0.1:1/none.img", "import_from_format": "raw",
		"image_properties": map[string]string{"name": uniq(t), "disk_format": "raw", "container_format": "bare"},
	}
	task, err := admin.CreateTask(ctx, "import", input)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type != "import" || task.Status != "pending" || task.ID == "" || len(task.Raw) == 0 {
		t.Fatalf("created %+v", task)
	}
	var in map[string]any
	if err := json.Unmarshal(task.Input, &in); err != nil || in["import_from"] != "http://127.0.0.1:1/none.img" {
		t.Fatalf("task input %s (%v)", task.Input, err)
	}
	got, err := admin.GetTask(ctx, task.ID)
	if err != nil || got.ID != task.ID || got.Owner != task.Owner {
		t.Fatalf("GetTask: %+v, %v", got, err)
	}

	// Pages of two, newest first: the new task is among import tasks.
	n, seen := 0, false
	for tk, err := range admin.ListTasks(ctx, &glance.TaskListOptions{Type: "import", PageSize: 2, SortKey: "id", SortDir: "asc"}) {
		if err != nil {
			t.Fatal(err)
		}
		if tk.Type != "import" {
			t.Fatalf("type filter let through %+v", tk)
		}
		seen = seen || tk.ID == task.ID
		n++
	}
	if !seen {
		t.Fatalf("task %s not listed among %d import tasks", task.ID, n)
	}
	for tk, err := range admin.ListTasks(ctx, &glance.TaskListOptions{Type: "import", Status: "success"}) {
		if err != nil {
			t.Fatal(err)
		}
		if tk.ID == task.ID || tk.Status != "success" {
			t.Fatalf("status filter let through %+v", tk)
		}
	}

	for _, bad := range []glance.TaskListOptions{{SortKey: "name"}, {SortDir: "up"}, {PageSize: -1}} {
		for _, err := range admin.ListTasks(ctx, &bad) {
			if err == nil {
				t.Fatalf("ListTasks(%+v) accepted", bad)
			}
			break
		}
	}
	if _, err := admin.CreateTask(ctx, "import", nil); !errors.Is(err, glance.ErrBadRequest) {
		t.Fatalf("import task without input: %v", err)
	}

	member, _, _ := login(t, cloud, cloud.AlphaMember, "")
	for _, err := range member.ListTasks(ctx, nil) {
		if !errors.Is(err, glance.ErrForbidden) {
			t.Fatalf("member ListTasks: %v", err)
		}
	}
}
