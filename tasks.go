package glance

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Task is an asynchronous job, such as an import.
type Task struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	Owner     string          `json:"owner"`
	Input     json.RawMessage `json:"input,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Message   string          `json:"message"`
	ImageID   string          `json:"image_id,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	UserID    string          `json:"user_id,omitempty"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
	ExpiresAt string          `json:"expires_at,omitempty"`

	// Raw is the task as the server sent it, keys in its order.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a task and keeps its raw form.
func (t *Task) UnmarshalJSON(data []byte) error {
	type plain Task // no methods: avoids recursion
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*t = Task(p)
	t.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// ImageTasks lists the tasks that worked on an image (API 2.12 and later).
func (c *Client) ImageTasks(ctx context.Context, imageID string) ([]Task, error) {
	var out struct {
		Tasks []Task `json:"tasks"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/images/"+escape(imageID)+"/tasks", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Tasks, nil
}

// GetTask returns one task.
func (c *Client) GetTask(ctx context.Context, id string) (*Task, error) {
	var t Task
	if _, err := c.doJSON(ctx, http.MethodGet, "/tasks/"+escape(id), nil, "", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTask starts a task of the given type (Glance 25 knows "import")
// with its input, any JSON object (nil sends {}). Only admins may by default.
func (c *Client) CreateTask(ctx context.Context, taskType string, input any) (*Task, error) {
	if input == nil {
		input = map[string]any{}
	}
	body := map[string]any{"type": taskType, "input": input}
	var t Task
	if _, err := c.doJSON(ctx, http.MethodPost, "/tasks", nil, "", body, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// TaskListOptions select, order and page a task list.
type TaskListOptions struct {
	Type, Status string
	// SortKey is id, type, status (the server's default is created_at);
	// SortDir is asc or desc.
	SortKey, SortDir string
	// PageSize is the number of tasks per request; 0 means 20, as
	// python-glanceclient asks.
	PageSize int
	// Marker starts the list after this task ID.
	Marker string
}

// TaskSortKeys are the keys a task list may be sorted by.
var TaskSortKeys = []string{"id", "type", "status"}

func (o *TaskListOptions) query() (url.Values, error) {
	q := url.Values{}
	if o.Type != "" {
		q.Set("type", o.Type)
	}
	if o.Status != "" {
		q.Set("status", o.Status)
	}
	if o.SortKey != "" {
		if !slices.Contains(TaskSortKeys, o.SortKey) {
			return nil, fmt.Errorf("glance: invalid task sort key %q (valid: id, type, status)", o.SortKey)
		}
		q.Set("sort_key", o.SortKey)
	}
	if o.SortDir != "" {
		if !(o.SortDir == "asc" || o.SortDir == "desc") {
			return nil, fmt.Errorf("glance: invalid sort direction %q (valid: asc, desc)", o.SortDir)
		}
		q.Set("sort_dir", o.SortDir)
	}
	if o.PageSize < 0 {
		return nil, fmt.Errorf("glance: invalid page size %d", o.PageSize)
	}
	size := o.PageSize
	if size == 0 {
		size = 20
	}
	q.Set("limit", strconv.Itoa(size))
	if o.Marker != "" {
		q.Set("marker", o.Marker)
	}
	return q, nil
}

// ListTasks iterates over the tasks that match opts, following the server's
// next links. Tasks are admin-only under Glance's default policy. An error
// ends the iteration after it is yielded.
func (c *Client) ListTasks(ctx context.Context, opts *TaskListOptions) iter.Seq2[*Task, error] {
	return func(yield func(*Task, error) bool) {
		if opts == nil {
			opts = &TaskListOptions{}
		}
		q, err := opts.query()
		if err != nil {
			yield(nil, err)
			return
		}
		path, query := "/tasks", q
		for {
			var page struct {
				Tasks []*Task `json:"tasks"`
				Next  string  `json:"next"`
			}
			if _, err := c.doJSON(ctx, http.MethodGet, path, query, "", nil, &page); err != nil {
				yield(nil, err)
				return
			}
			for _, t := range page.Tasks {
				if !yield(t, nil) {
					return
				}
			}
			if page.Next == "" || len(page.Tasks) == 0 {
				return
			}
			path, query = c.resolve(page.Next), nil
		}
	}
}
