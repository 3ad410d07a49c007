package glance

import (
	"context"
	"net/http"
	"time"
)

// Member is a project an image is shared with.
type Member struct {
	ImageID   string    `json:"image_id"`
	MemberID  string    `json:"member_id"`
	Status    string    `json:"status"` // pending, accepted or rejected
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Schema    string    `json:"schema"`
}

// Member statuses.
const (
	MemberPending  = "pending"
	MemberAccepted = "accepted"
	MemberRejected = "rejected"
)

func membersPath(imageID string) string { return "/images/" + escape(imageID) + "/members" }

// ListMembers lists the projects an image is shared with. The owner sees all
// of them, a member only itself.
func (c *Client) ListMembers(ctx context.Context, imageID string) ([]Member, error) {
	var out struct {
		Members []Member `json:"members"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, membersPath(imageID), nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Members, nil
}

// GetMember returns one membership.
func (c *Client) GetMember(ctx context.Context, imageID, memberID string) (*Member, error) {
	var m Member
	if _, err := c.doJSON(ctx, http.MethodGet, membersPath(imageID)+"/"+escape(memberID), nil, "", nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// CreateMember shares an image (visibility "shared") with a project; the
// membership starts pending.
func (c *Client) CreateMember(ctx context.Context, imageID, memberID string) (*Member, error) {
	var m Member
	body := map[string]string{"member": memberID}
	if _, err := c.doJSON(ctx, http.MethodPost, membersPath(imageID), nil, "", body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// UpdateMember sets a membership's status; only the member project may.
func (c *Client) UpdateMember(ctx context.Context, imageID, memberID, status string) (*Member, error) {
	var m Member
	body := map[string]string{"status": status}
	if _, err := c.doJSON(ctx, http.MethodPut, membersPath(imageID)+"/"+escape(memberID), nil, "", body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// DeleteMember stops sharing an image with a project.
func (c *Client) DeleteMember(ctx context.Context, imageID, memberID string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, membersPath(imageID)+"/"+escape(memberID), nil, "", nil, nil)
	return err
}
