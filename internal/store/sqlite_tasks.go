package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const taskCols = `id, type, status, owner, input, result, message, image_id, request_id, user_id, created_at, updated_at, expires_at`

func taskArgs(t *Task) []any {
	var exp any
	if t.ExpiresAt != nil {
		exp = micros(*t.ExpiresAt)
	}
	return []any{t.ID, t.Type, t.Status, t.Owner, t.Input, t.Result, t.Message, t.ImageID, t.RequestID, t.UserID,
		micros(t.CreatedAt), micros(t.UpdatedAt), exp}
}

func scanTask(sc scanner) (*Task, error) {
	var t Task
	var c, u int64
	var exp sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Type, &t.Status, &t.Owner, &t.Input, &t.Result, &t.Message, &t.ImageID, &t.RequestID,
		&t.UserID, &c, &u, &exp); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(c), fromMicros(u)
	if exp.Valid {
		e := fromMicros(exp.Int64)
		t.ExpiresAt = &e
	}
	return &t, nil
}

// CreateTask implements Metadata.
func (s *DB) CreateTask(ctx context.Context, t *Task) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO tasks (`+taskCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, taskArgs(t)...); err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	return nil
}

// GetTask implements Metadata.
func (s *DB) GetTask(ctx context.Context, id string) (*Task, error) {
	t, err := scanTask(s.r.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get task: %w", err)
	}
	return t, nil
}

// UpdateTask implements Metadata.
func (s *DB) UpdateTask(ctx context.Context, t *Task) error {
	a := taskArgs(t)
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET type=?, status=?, owner=?, input=?, result=?, message=?, image_id=?,
		request_id=?, user_id=?, created_at=?, updated_at=?, expires_at=? WHERE id=?`, append(a[1:], t.ID)...)
	if err != nil {
		return fmt.Errorf("update task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("task %s: %w", t.ID, ErrNotFound)
	}
	return nil
}

// ListTasks implements Metadata. An empty imageID lists every task.
func (s *DB) ListTasks(ctx context.Context, imageID string) ([]*Task, error) {
	q, args := `SELECT `+taskCols+` FROM tasks ORDER BY created_at DESC, id`, []any{}
	if imageID != "" {
		q, args = `SELECT `+taskCols+` FROM tasks WHERE image_id = ? ORDER BY created_at DESC, id`, []any{imageID}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	ts, err := scanAll(rows, scanTask)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return ts, nil
}
