package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AddMember implements Metadata.
func (s *DB) AddMember(ctx context.Context, m *Member) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO members (image_id, member_id, status, created_at, updated_at, can_share)
		VALUES (?,?,?,?,?,?)`, m.ImageID, m.MemberID, m.Status, micros(m.CreatedAt), micros(m.UpdatedAt), sqlValue(m.CanShare))
	if err != nil {
		if s.d.isUnique(err) {
			return fmt.Errorf("member %s of image %s: %w", m.MemberID, m.ImageID, ErrDuplicate)
		}
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

const memberCols = `image_id, member_id, status, created_at, updated_at, can_share`

func scanMember(sc scanner) (*Member, error) {
	var m Member
	var c, u, share int64
	if err := sc.Scan(&m.ImageID, &m.MemberID, &m.Status, &c, &u, &share); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt, m.CanShare = fromMicros(c), fromMicros(u), share != 0
	return &m, nil
}

// GetMember implements Metadata.
func (s *DB) GetMember(ctx context.Context, imageID, memberID string) (*Member, error) {
	m, err := scanMember(s.r.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members WHERE image_id = ? AND member_id = ?`,
		imageID, memberID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("member %s of image %s: %w", memberID, imageID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get member: %w", err)
	}
	return m, nil
}

// ListMembers implements Metadata.
func (s *DB) ListMembers(ctx context.Context, imageID string) ([]*Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+memberCols+` FROM members WHERE image_id = ? ORDER BY created_at, member_id`, imageID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	ms, err := scanAll(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// UpdateMember implements Metadata.
func (s *DB) UpdateMember(ctx context.Context, m *Member) error {
	res, err := s.w.ExecContext(ctx, `UPDATE members SET status = ?, updated_at = ?, can_share = ? WHERE image_id = ? AND member_id = ?`,
		m.Status, micros(m.UpdatedAt), sqlValue(m.CanShare), m.ImageID, m.MemberID)
	if err != nil {
		return fmt.Errorf("update member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("member %s of image %s: %w", m.MemberID, m.ImageID, ErrNotFound)
	}
	return nil
}

// DeleteMember implements Metadata.
func (s *DB) DeleteMember(ctx context.Context, imageID, memberID string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM members WHERE image_id = ? AND member_id = ?`, imageID, memberID)
	if err != nil {
		return fmt.Errorf("delete member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("member %s of image %s: %w", memberID, imageID, ErrNotFound)
	}
	return nil
}
