package glance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ImportStatus is an import's state at one poll of WaitImport.
type ImportStatus struct {
	Image *Image
	// Task is the import's task (the one whose request ID ImportImage
	// returned); nil when the server does not list an image's tasks (API
	// before 2.12) or has not made it yet.
	Task *Task
	// Importing, Failed and Stores are the stores still to do, those that
	// failed (os_glance_importing_to_stores, os_glance_failed_import) and
	// those holding the data.
	Importing, Failed, Stores []string
}

// Done reports whether the import ended, well or not.
func (s *ImportStatus) Done() bool { return s.outcome() != "" }

// outcome is "success", "failure" or "" while the import goes on.
func (s *ImportStatus) outcome() string {
	if s.Task != nil {
		switch s.Task.Status {
		case "failure":
			return "failure"
		case "success":
			if len(s.Importing) == 0 {
				return "success"
			}
		}
		return ""
	}
	switch s.Image.Status {
	case "active":
		if len(s.Importing) == 0 {
			return "success"
		}
	case "killed", "deleted", "pending_delete":
		return "failure"
	}
	return ""
}

// ErrImportFailed is matched by errors.Is against an *ImportError.
var ErrImportFailed = errors.New("import failed")

// ImportError is an import that failed, with the server's reason.
type ImportError struct {
	ImageID string
	TaskID  string // "" when the server lists no tasks
	Message string // the task's message, or what WaitImport saw
	Failed  []string
}

func (e *ImportError) Error() string {
	msg := fmt.Sprintf("import of image %s failed", e.ImageID)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if len(e.Failed) > 0 {
		msg += " (failed stores: " + strings.Join(e.Failed, ", ") + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrImportFailed) work.
func (e *ImportError) Is(target error) bool { return target == ErrImportFailed }

// WaitImport polls an image whose import started with the request requestID
// (from ImportImage; "" takes the image's newest task) every interval until
// the import ends, calling progress (if not nil) with each new state. It
// returns the final state, and an *ImportError if the import failed. With
// several target stores and AllowFailure the import succeeds with some
// stores failed: they are in the state's Failed.
func (c *Client) WaitImport(ctx context.Context, id, requestID string, interval time.Duration, progress func(*ImportStatus)) (*ImportStatus, error) {
	tasks, importing := true, false
	var last string
	for {
		img, err := c.GetImage(ctx, id)
		if err != nil {
			return nil, err
		}
		s := &ImportStatus{Image: img, Importing: storeList(img.Properties["os_glance_importing_to_stores"]),
			Failed: storeList(img.Properties["os_glance_failed_import"]), Stores: storeList(img.Stores)}
		if tasks {
			s.Task, err = c.importTask(ctx, id, requestID)
			if errors.Is(err, ErrNotFound) {
				tasks = false // no task list: the image's status tells
			} else if err != nil {
				return nil, err
			}
		}
		if key := s.key(); key != last && progress != nil {
			last = key
			progress(s)
		}
		outcome := s.outcome()
		if s.Task == nil && outcome == "" && importing && (img.Status == "queued" || img.Status == "uploading") {
			outcome = "failure" // without tasks, a step back is how a failure shows
		}
		importing = importing || img.Status == "importing"
		switch outcome {
		case "success":
			return s, nil
		case "failure":
			e := &ImportError{ImageID: id, Failed: s.Failed, Message: "the image is " + img.Status}
			if importing && img.Status != "killed" && img.Status != "deleted" && img.Status != "pending_delete" {
				e.Message = "the image went back to " + img.Status
			}
			if s.Task != nil {
				e.TaskID, e.Message = s.Task.ID, s.Task.Message
			}
			return s, e
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// importTask finds the import's task among the image's.
func (c *Client) importTask(ctx context.Context, id, requestID string) (*Task, error) {
	ts, err := c.ImageTasks(ctx, id)
	if err != nil {
		return nil, err
	}
	var found *Task
	for i := range ts {
		t := &ts[i]
		if requestID != "" && t.RequestID == requestID {
			return t, nil
		}
		if requestID == "" && (found == nil || t.CreatedAt > found.CreatedAt) {
			found = t
		}
	}
	return found, nil
}

// key sums up a state, to report only changes.
func (s *ImportStatus) key() string {
	task := ""
	if s.Task != nil {
		task = s.Task.Status
	}
	return strings.Join([]string{s.Image.Status, task, strings.Join(s.Importing, ","), strings.Join(s.Failed, ",")}, "|")
}

// storeList splits a comma-separated list of stores.
func storeList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
