package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

var memberColumns = []column{{"Image ID", "image_id"}, {"Member ID", "member_id"}, {"Status", "status"}}

func memberRecord(m *glance.Member) map[string]any {
	return map[string]any{
		"image_id":   m.ImageID,
		"member_id":  m.MemberID,
		"status":     m.Status,
		"created_at": m.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		"updated_at": m.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		"schema":     m.Schema,
	}
}

func (a *app) printMembers(p *printOptions, ms ...*glance.Member) error {
	recs := make([]map[string]any, len(ms))
	for i, m := range ms {
		recs[i] = memberRecord(m)
	}
	return printRecords(a.io.Out, p, memberColumns, recs, nil)
}

// memberCommand builds the member commands that take an image and a member.
func (a *app) memberCommand(use, short, args string, n int, run func(ctx context.Context, c *glance.Client, p *printOptions, id string, rest []string) error, prints bool) *cobra.Command {
	p := &printOptions{}
	names := []string{"<IMAGE_ID>", "<MEMBER_ID>", "<MEMBER_STATUS>"}[:n]
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(names...),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.runImage(cmd, argv[0], func(ctx context.Context, c *glance.Client, id string) error {
				return run(ctx, c, p, id, argv[1:])
			})
		},
	}
	c.Annotations = map[string]string{"args": args}
	if prints {
		addPrintFlags(c, p)
	}
	return c
}

func (a *app) cmdMemberCreate() *cobra.Command {
	return a.memberCommand("member-create <IMAGE_ID> <MEMBER_ID>", "Share an image with a project.",
		"  <IMAGE_ID>   Image to share, by ID or name.\n  <MEMBER_ID>  ID of the project to share it with.\n", 2,
		func(ctx context.Context, c *glance.Client, p *printOptions, id string, rest []string) error {
			m, err := c.CreateMember(ctx, id, rest[0])
			if err != nil {
				return err
			}
			return a.printMembers(p, m)
		}, true)
}

func (a *app) cmdMemberUpdate() *cobra.Command {
	c := a.memberCommand("member-update <IMAGE_ID> <MEMBER_ID> <MEMBER_STATUS>", "Accept or reject an image shared with a project, or set it back to pending.",
		"  <IMAGE_ID>       Shared image, by ID or name.\n  <MEMBER_ID>      ID of the member project.\n  <MEMBER_STATUS>  New status of the share. Valid values: accepted, rejected, pending\n", 3,
		func(ctx context.Context, c *glance.Client, p *printOptions, id string, rest []string) error {
			m, err := c.UpdateMember(ctx, id, rest[0], rest[1])
			if err != nil {
				return err
			}
			return a.printMembers(p, m)
		}, true)
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return err
		}
		switch args[2] {
		case glance.MemberAccepted, glance.MemberRejected, glance.MemberPending:
			return nil
		}
		return usageErrorf("argument <MEMBER_STATUS>: invalid choice: '%s' (choose from 'accepted', 'rejected', 'pending')", args[2])
	}
	return c
}

func (a *app) cmdMemberGet() *cobra.Command {
	return a.memberCommand("member-get <IMAGE_ID> <MEMBER_ID>", "Show how an image is shared with one project.",
		"  <IMAGE_ID>   Shared image, by ID or name.\n  <MEMBER_ID>  ID of the member project.\n", 2,
		func(ctx context.Context, c *glance.Client, p *printOptions, id string, rest []string) error {
			m, err := c.GetMember(ctx, id, rest[0])
			if err != nil {
				return err
			}
			return printRecord(a.io.Out, p, memberRecord(m), nil)
		}, true)
}

func (a *app) cmdMemberDelete() *cobra.Command {
	return a.memberCommand("member-delete <IMAGE_ID> <MEMBER_ID>", "Stop sharing an image with a project.",
		"  <IMAGE_ID>   Shared image, by ID or name.\n  <MEMBER_ID>  ID of the project to stop sharing with.\n", 2,
		func(ctx context.Context, c *glance.Client, p *printOptions, id string, rest []string) error {
			return c.DeleteMember(ctx, id, rest[0])
		}, false)
}

func (a *app) cmdMemberList() *cobra.Command {
	var (
		p     printOptions
		image string
	)
	c := &cobra.Command{
		Use:   "member-list --image-id <IMAGE_ID>",
		Short: "List the projects an image is shared with.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if image == "" {
				return usageErrorf("the following arguments are required: --image-id")
			}
			return a.runImage(cmd, image, func(ctx context.Context, c *glance.Client, id string) error {
				ms, err := c.ListMembers(ctx, id)
				if err != nil {
					return err
				}
				ptrs := make([]*glance.Member, len(ms))
				for i := range ms {
					ptrs[i] = &ms[i]
				}
				return a.printMembers(&p, ptrs...)
			})
		},
	}
	c.Flags().StringVar(&image, "image-id", "", "Image whose members to list, by ID or name.")
	addPrintFlags(c, &p)
	return c
}
