// Package store keeps glanced's image metadata behind Metadata, chosen by
// URL (Open, Register): SQLite or PostgreSQL, both served by one SQL
// implementation (DB) with a small dialect. Image data lives in package blob.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers tell apart with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

// Image statuses, as Glance names them.
const (
	StatusQueued        = "queued"
	StatusSaving        = "saving"
	StatusActive        = "active"
	StatusKilled        = "killed"
	StatusDeleted       = "deleted"
	StatusPendingDelete = "pending_delete"
	StatusDeactivated   = "deactivated"
	StatusUploading     = "uploading"
	StatusImporting     = "importing"
)

// Image is one image record. Nil pointers are JSON nulls on the wire.
type Image struct {
	ID              string
	Name            *string
	Status          string
	Visibility      string
	Protected       bool
	Hidden          bool
	Checksum        *string
	HashAlgo        *string
	HashValue       *string
	Owner           *string
	Size            *int64
	VirtualSize     *int64
	ContainerFormat *string
	DiskFormat      *string
	MinRAM          int64
	MinDisk         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Tags            []string
	Properties      map[string]string
	Stores          []string // IDs of the blob stores holding the data, in order
}

// Clone returns a deep copy, so an update callback can compare before and after.
func (im *Image) Clone() *Image {
	c := *im
	c.Tags = append([]string(nil), im.Tags...)
	c.Stores = append([]string(nil), im.Stores...)
	c.Properties = make(map[string]string, len(im.Properties))
	for k, v := range im.Properties {
		c.Properties[k] = v
	}
	return &c
}

// Member is one project an image is shared with.
type Member struct {
	ImageID   string
	MemberID  string
	Status    string // pending, accepted, rejected
	CanShare  bool   // Image API v1: the member may share the image further
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Task is an asynchronous operation (image import).
type Task struct {
	ID        string
	Type      string
	Status    string // pending, processing, success, failure
	Owner     string
	Input     string // JSON text
	Result    string // JSON text, "" when none
	Message   string
	ImageID   string
	RequestID string
	UserID    string
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt *time.Time
}

// Filter restricts a list on one field. Field is an image column name
// (name, status, size, owner, created_at, ...) or, when Property is set, a
// custom property key. Op is one of eq, neq, in, gt, gte, lt, lte.
type Filter struct {
	Field    string
	Property bool
	Op       string
	Values   []any
}

// SortKey orders a list by one image column.
type SortKey struct {
	Key  string
	Desc bool
}

// ListQuery describes one page of an image list as seen by one caller.
type ListQuery struct {
	Admin        bool   // sees every project's images
	Project      string // caller's project; "" for none
	Visibility   string // "" (default view), public, private, shared, community or all
	MemberStatus string // accepted (default), pending, rejected or all
	Filters      []Filter
	Tags         []string // all must be present, compared bytewise; deleted images have none
	Sort         []SortKey
	Marker       string // id of the last image of the previous page
	Limit        int
	// Deleted lists deleted images too (status deleted), as Image API v1
	// did for lists with changes-since.
	Deleted bool
}

// Metadata stores images, members, tags, properties and tasks. Each method
// is one transaction.
type Metadata interface {
	CreateImage(ctx context.Context, im *Image) error
	// GetImage returns an image that is not deleted, or ErrNotFound.
	GetImage(ctx context.Context, id string) (*Image, error)
	// ImageExists reports whether the id was ever used, deleted images included.
	ImageExists(ctx context.Context, id string) (bool, error)
	ListImages(ctx context.Context, q ListQuery) ([]*Image, error)
	// UpdateImage reads the image, lets fn change it and writes it back in one
	// transaction. An error from fn aborts the update and is returned as is.
	UpdateImage(ctx context.Context, id string, fn func(*Image) error) (*Image, error)
	// DeleteImage marks the image deleted and drops its members; tag
	// filters no longer find it.
	DeleteImage(ctx context.Context, id string) error
	// ImagesByStatus lists the non-deleted images in one of the statuses (recovery).
	ImagesByStatus(ctx context.Context, status ...string) ([]*Image, error)

	AddMember(ctx context.Context, m *Member) error
	GetMember(ctx context.Context, imageID, memberID string) (*Member, error)
	ListMembers(ctx context.Context, imageID string) ([]*Member, error)
	UpdateMember(ctx context.Context, m *Member) error
	DeleteMember(ctx context.Context, imageID, memberID string) error

	CreateTask(ctx context.Context, t *Task) error
	GetTask(ctx context.Context, id string) (*Task, error)
	UpdateTask(ctx context.Context, t *Task) error
	ListTasks(ctx context.Context, imageID string) ([]*Task, error)

	// Leases and locks of several nodes on one database.
	Cluster

	Close() error
}
