package cli

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

// memberOptions are the options of the member commands that take an image
// and a member.
type memberOptions struct {
	print                 printOptions
	image, member, status string
}

// memberArgs declares <IMAGE_ID> and <MEMBER_ID> with their help.
func memberArgs(o *memberOptions, imageHelp, memberHelp string) []posArg {
	return []posArg{imageArg(imageHelp, &o.image), {name: "<MEMBER_ID>", help: memberHelp, to: &o.member}}
}

// onImage runs do on o's image, named by ID or name.
func (o *memberOptions) onImage(ctx context.Context, c *glance.Client, do func(id string) error) error {
	return resolveID(ctx, c, o.image, do)
}

func (a *app) cmdMemberCreate() *cobra.Command {
	o := &memberOptions{}
	return a.command(&cmdSpec{
		use: "member-create <IMAGE_ID> <MEMBER_ID>", short: "Share an image with a project.",
		args:  memberArgs(o, "Image to share, by ID or name.", "ID of the project to share it with."),
		print: &o.print,
		run: func(ctx context.Context, c *glance.Client) error {
			return o.onImage(ctx, c, func(id string) error {
				m, err := c.CreateMember(ctx, id, o.member)
				if err != nil {
					return err
				}
				return a.printMembers(&o.print, m)
			})
		},
	})
}

func (a *app) cmdMemberUpdate() *cobra.Command {
	o := &memberOptions{}
	status := posArg{name: "<MEMBER_STATUS>", help: "New status of the share. Valid values: accepted, rejected, pending", to: &o.status,
		choices: []string{glance.MemberAccepted, glance.MemberRejected, glance.MemberPending}}
	return a.command(&cmdSpec{
		use:   "member-update <IMAGE_ID> <MEMBER_ID> <MEMBER_STATUS>",
		short: "Accept or reject an image shared with a project, or set it back to pending.",
		args:  append(memberArgs(o, "Shared image, by ID or name.", "ID of the member project."), status),
		print: &o.print,
		run: func(ctx context.Context, c *glance.Client) error {
			return o.onImage(ctx, c, func(id string) error {
				m, err := c.UpdateMember(ctx, id, o.member, o.status)
				if err != nil {
					return err
				}
				return a.printMembers(&o.print, m)
			})
		},
	})
}

func (a *app) cmdMemberGet() *cobra.Command {
	o := &memberOptions{}
	return a.command(&cmdSpec{
		use: "member-get <IMAGE_ID> <MEMBER_ID>", short: "Show how an image is shared with one project.",
		args:  memberArgs(o, "Shared image, by ID or name.", "ID of the member project."),
		print: &o.print,
		run: func(ctx context.Context, c *glance.Client) error {
			return o.onImage(ctx, c, func(id string) error {
				m, err := c.GetMember(ctx, id, o.member)
				if err != nil {
					return err
				}
				return printRecord(a.io.Out, &o.print, memberRecord(m), nil)
			})
		},
	})
}

func (a *app) cmdMemberDelete() *cobra.Command {
	o := &memberOptions{}
	return a.command(&cmdSpec{
		use: "member-delete <IMAGE_ID> <MEMBER_ID>", short: "Stop sharing an image with a project.",
		args: memberArgs(o, "Shared image, by ID or name.", "ID of the project to stop sharing with."),
		run: func(ctx context.Context, c *glance.Client) error {
			return o.onImage(ctx, c, func(id string) error { return c.DeleteMember(ctx, id, o.member) })
		},
	})
}

func (a *app) cmdMemberList() *cobra.Command {
	o := &memberOptions{}
	return a.command(&cmdSpec{
		use:   "member-list --image-id <IMAGE_ID>",
		short: "List the projects an image is shared with.",
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&o.image, "image-id", "", "Image whose members to list, by ID or name.")
		},
		check: func(*cobra.Command) error {
			if o.image == "" {
				return usageErrorf("the following arguments are required: --image-id")
			}
			return nil
		},
		run: func(ctx context.Context, c *glance.Client) error {
			return o.onImage(ctx, c, func(id string) error {
				ms, err := c.ListMembers(ctx, id)
				if err != nil {
					return err
				}
				ptrs := make([]*glance.Member, len(ms))
				for i := range ms {
					ptrs[i] = &ms[i]
				}
				return a.printMembers(&o.print, ptrs...)
			})
		},
	})
}
