package v1

import (
	"context"
	"net/http"
)

// Member is an image shared with a project. CanShare lets that project
// share the image further.
type Member struct {
	ImageID  string `json:"image_id,omitempty"`
	MemberID string `json:"member_id,omitempty"`
	CanShare bool   `json:"can_share"`
}

func membersPath(imageID string) string { return "/images/" + escape(imageID) + "/members" }

// ListMembers lists the projects an image is shared with.
func (c *Client) ListMembers(ctx context.Context, imageID string) ([]Member, error) {
	var out struct {
		Members []Member `json:"members"`
	}
	if err := c.jsonCall(ctx, http.MethodGet, membersPath(imageID), nil, nil, &out); err != nil {
		return nil, err
	}
	for i := range out.Members {
		out.Members[i].ImageID = imageID
	}
	return out.Members, nil
}

// SharedImages lists the images shared with a project (GET
// /v1/shared-images/{member}).
func (c *Client) SharedImages(ctx context.Context, memberID string) ([]Member, error) {
	var out struct {
		SharedImages []Member `json:"shared_images"`
	}
	if err := c.jsonCall(ctx, http.MethodGet, "/shared-images/"+escape(memberID), nil, nil, &out); err != nil {
		return nil, err
	}
	for i := range out.SharedImages {
		out.SharedImages[i].MemberID = memberID
	}
	return out.SharedImages, nil
}

// AddMember shares an image with a project, or sets whether an existing
// member may share it further.
func (c *Client) AddMember(ctx context.Context, imageID, memberID string, canShare bool) error {
	body := map[string]any{"member": map[string]bool{"can_share": canShare}}
	return c.jsonCall(ctx, http.MethodPut, membersPath(imageID)+"/"+escape(memberID), nil, body, nil)
}

// ReplaceMembers makes members the whole list of projects an image is
// shared with; their ImageID is not used.
func (c *Client) ReplaceMembers(ctx context.Context, imageID string, members []Member) error {
	type membership struct {
		MemberID string `json:"member_id"`
		CanShare bool   `json:"can_share"`
	}
	list := make([]membership, len(members))
	for i, m := range members {
		list[i] = membership{m.MemberID, m.CanShare}
	}
	return c.jsonCall(ctx, http.MethodPut, membersPath(imageID), nil, map[string]any{"memberships": list}, nil)
}

// DeleteMember stops sharing an image with a project.
func (c *Client) DeleteMember(ctx context.Context, imageID, memberID string) error {
	return c.jsonCall(ctx, http.MethodDelete, membersPath(imageID)+"/"+escape(memberID), nil, nil, nil)
}
