package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-glance/glance"
)

// waitInterval is how often --wait asks the server how an import goes.
const waitInterval = 2 * time.Second

// waitImport follows an import that the request reqID started, telling on
// stderr each change of state, until it ends; it returns the image as it
// is then, and an error with the server's reason when the import failed.
func (a *app) waitImport(ctx context.Context, c *glance.Client, id, reqID string) (*glance.Image, error) {
	s, err := c.WaitImport(ctx, id, reqID, waitInterval, func(s *glance.ImportStatus) {
		fmt.Fprintf(a.io.Err, "Image %s: %s\n", id, describeImport(s))
	})
	if s != nil && (len(s.Failed) > 0 || len(s.Stores) > 1) {
		fmt.Fprintf(a.io.Err, "Stores: %s\n", storeResults(s))
	}
	if err != nil {
		return nil, err // an *ImportError names the image and the reason
	}
	return s.Image, nil
}

// describeImport is one line on an import's state.
func describeImport(s *glance.ImportStatus) string {
	parts := []string{"status " + s.Image.Status}
	if s.Task != nil {
		parts = append(parts, "task "+s.Task.ID+" "+s.Task.Status)
	}
	if len(s.Importing) > 0 {
		parts = append(parts, "importing to "+strings.Join(s.Importing, ", "))
	}
	if len(s.Failed) > 0 {
		parts = append(parts, "failed in "+strings.Join(s.Failed, ", "))
	}
	return strings.Join(parts, ", ")
}

// storeResults says, store by store, where the data went.
func storeResults(s *glance.ImportStatus) string {
	var out []string
	for _, st := range s.Stores {
		out = append(out, st+" (imported)")
	}
	for _, st := range s.Failed {
		out = append(out, st+" (failed)")
	}
	for _, st := range s.Importing {
		out = append(out, st+" (not done)")
	}
	return strings.Join(out, ", ")
}

// waitTask polls a task until it succeeds or fails, telling each new
// status on stderr.
func (a *app) waitTask(ctx context.Context, c *glance.Client, t *glance.Task) (*glance.Task, error) {
	last := ""
	for {
		if t.Status != last {
			fmt.Fprintf(a.io.Err, "Task %s: %s\n", t.ID, t.Status)
			last = t.Status
		}
		if t.Status == "success" || t.Status == "failure" {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(waitInterval):
		}
		var err error
		if t, err = c.GetTask(ctx, t.ID); err != nil {
			return nil, err
		}
	}
}
