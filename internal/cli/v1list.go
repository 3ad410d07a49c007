package cli

import (
	"context"
	"errors"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
	v1 "github.com/go-glance/glance/v1"
)

// v1ListColumns are python-glanceclient's v1 image-list columns.
var v1ListColumns = []column{
	{"ID", "id"}, {"Name", "name"}, {"Disk Format", "disk_format"},
	{"Container Format", "container_format"}, {"Size", "size"}, {"Status", "status"},
}

type v1ListFlags struct {
	p                                            printOptions
	name, status, changesSince, owner            string
	containerFormat, diskFormat, sortKey, sortDr string
	sizeMin, sizeMax                             int64
	pageSize                                     int
	properties                                   []string
	isPublic                                     triBool
	allTenants                                   bool
}

// options builds the list request. --owner and --all-tenants list every
// image, whatever --is-public says, as python-glanceclient does.
func (l *v1ListFlags) options(cmd *cobra.Command) (*v1.ListOptions, error) {
	props, err := parseKeyValues(l.properties, "--property-filter")
	if err != nil {
		return nil, err
	}
	if l.pageSize < 0 {
		return nil, usageErrorf("argument --page-size: must not be negative")
	}
	f := cmd.Flags()
	o := &v1.ListOptions{
		Name: l.name, Status: l.status, ChangesSince: l.changesSince, ContainerFormat: l.containerFormat,
		DiskFormat: l.diskFormat, Properties: props, SortKey: l.sortKey, SortDir: l.sortDr,
		PageSize: l.pageSize, IsPublic: l.isPublic.v, AllTenants: l.allTenants,
	}
	if f.Changed("size-min") {
		o.SizeMin = &l.sizeMin
	}
	if f.Changed("size-max") {
		o.SizeMax = &l.sizeMax
	}
	if f.Changed("owner") {
		o.Owner = &l.owner
	}
	if o.Owner != nil || o.AllTenants {
		o.IsPublic = nil
	}
	return o, nil
}

func (a *app) cmdV1ImageList() *cobra.Command {
	l := &v1ListFlags{sortKey: "name", sortDr: "asc"}
	c := a.command(&cmdSpec{
		use:   "image-list",
		short: "List the images you can use.",
		print: &l.p,
		flags: func(f *pflag.FlagSet) {
			l.addFlags(f)
		},
		direct: func(cmd *cobra.Command) error {
			opts, err := l.options(cmd)
			if err != nil {
				return err
			}
			return a.runV1(cmd, func(ctx context.Context, c *v1.Client) error {
				var recs []map[string]any
				for img, err := range c.ListImages(ctx, opts) {
					if err != nil {
						return err
					}
					recs = append(recs, img.Fields)
				}
				return printRecords(a.io.Out, &l.p, v1ListColumns, recs, func(k string, v any) string {
					if k == "size" && l.p.HumanReadable {
						n, _ := strconv.ParseInt(pyStr(v), 10, 64)
						return humanSize(n)
					}
					return listStr(v)
				})
			})
		},
	})
	return c
}

func (l *v1ListFlags) addFlags(f *pflag.FlagSet) {
	f.SortFlags = false
	f.StringVar(&l.name, "name", "", "Only images with this name.")
	f.StringVar(&l.status, "status", "", "Only images in this status, e.g. active or queued.")
	f.StringVar(&l.changesSince, "changes-since", "", "Only images changed since this time (ISO 8601), deleted ones included.")
	f.StringVar(&l.containerFormat, "container-format", "", "Only images with this container format. "+v1ContainerFormats)
	f.StringVar(&l.diskFormat, "disk-format", "", "Only images with this disk format. "+v1DiskFormats)
	f.Int64Var(&l.sizeMin, "size-min", 0, "Only images of at least this many bytes.")
	f.Int64Var(&l.sizeMax, "size-max", 0, "Only images of at most this many bytes.")
	f.StringArrayVar(&l.properties, "property-filter", nil, "Only images whose custom property KEY has VALUE, given as KEY=VALUE (repeatable).")
	f.IntVar(&l.pageSize, "page-size", 0, "How many images to ask the server for in each request (0: "+strconv.Itoa(v1.DefaultPageSize)+").")
	f.BoolVar(&l.p.HumanReadable, "human-readable", false, "Print sizes in units of 1024 (e.g. 1.5GB) instead of bytes.")
	f.Var(&choice{&l.sortKey, glance.SortKeys}, "sort-key", "Field to sort by (default name).")
	f.Var(&choice{&l.sortDr, []string{"asc", "desc"}}, "sort-dir", "Sort direction, asc or desc (default asc).")
	f.Var(&l.isPublic, "is-public", "List only public images (True) or only the others (False).")
	f.StringVar(&l.owner, "owner", "", "Only images owned by this project ID ('' for images without an owner). v1 has no such filter: every image is listed and filtered here, which is slow on a large cloud.")
	f.BoolVar(&l.allTenants, "all-tenants", false, "List every project's images, whether public or not (admins).")
}

var v1MemberColumns = []column{{"Image ID", "image_id"}, {"Member ID", "member_id"}, {"Can Share", "can_share"}}

func (a *app) cmdV1MemberList() *cobra.Command {
	var (
		p             printOptions
		image, tenant string
	)
	c := a.command(&cmdSpec{
		use:   "member-list [--image-id <IMAGE_ID>] [--tenant-id <TENANT_ID>]",
		short: "List the projects an image is shared with, or the images shared with a project.",
		print: &p,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&image, "image-id", "", "List the projects this image (ID or name) is shared with.")
			f.StringVar(&tenant, "tenant-id", "", "List the images shared with this project.")
		},
		direct: func(cmd *cobra.Command) error {
			switch {
			case image != "" && tenant != "":
				return errors.New("Unable to filter members by both --image-id and --tenant-id.")
			case image == "" && tenant == "":
				return errors.New("Unable to list all members. Specify --image-id or --tenant-id")
			}
			return a.runV1(cmd, func(ctx context.Context, c *v1.Client) error {
				ms, err := v1Members(ctx, c, image, tenant)
				if err != nil {
					return err
				}
				recs := make([]map[string]any, len(ms))
				for i, m := range ms {
					recs[i] = map[string]any{"image_id": m.ImageID, "member_id": m.MemberID, "can_share": m.CanShare}
				}
				return printRecords(a.io.Out, &p, v1MemberColumns, recs, nil)
			})
		},
	})
	return c
}

func v1Members(ctx context.Context, c *v1.Client, image, tenant string) ([]v1.Member, error) {
	if tenant != "" {
		return c.SharedImages(ctx, tenant)
	}
	img, err := v1FindImage(ctx, c, image)
	if err != nil {
		return nil, err
	}
	return c.ListMembers(ctx, img.ID)
}

func (a *app) cmdV1MemberCreate() *cobra.Command {
	var canShare bool
	argv := make([]string, 2)
	c := a.command(&cmdSpec{
		use:   "member-create [--can-share] <IMAGE> <TENANT_ID>",
		short: "Share an image with a project.",
		args:  []posArg{{name: "<IMAGE>", help: "Image to share, by ID or name.", to: &argv[0]}, {name: "<TENANT_ID>", help: "Project to share it with.", to: &argv[1]}}, argsCol: 0,
		flags: func(f *pflag.FlagSet) {
			f.BoolVar(&canShare, "can-share", false, "Let the project share the image further.")
		},
		direct: func(cmd *cobra.Command) error {
			return a.runV1Image(cmd, argv[0], func(ctx context.Context, c *v1.Client, img *v1.Image) error {
				return c.AddMember(ctx, img.ID, argv[1], canShare)
			})
		},
	})
	return c
}

func (a *app) cmdV1MemberDelete() *cobra.Command {
	argv := make([]string, 2)
	c := a.command(&cmdSpec{
		use:   "member-delete <IMAGE> <TENANT_ID>",
		short: "Stop sharing an image with a project.",
		args:  []posArg{{name: "<IMAGE>", help: "Shared image, by ID or name.", to: &argv[0]}, {name: "<TENANT_ID>", help: "Project to stop sharing with.", to: &argv[1]}}, argsCol: 0,
		direct: func(cmd *cobra.Command) error {
			return a.runV1Image(cmd, argv[0], func(ctx context.Context, c *v1.Client, img *v1.Image) error {
				return c.DeleteMember(ctx, img.ID, argv[1])
			})
		},
	})
	return c
}
