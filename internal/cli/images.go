package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

// imageFields are the image properties image-create and image-update take
// as options: the option set of python-glanceclient 4.1's bundled schema.
type imageFields struct {
	architecture, name, instanceUUID, visibility string
	kernelID, osVersion, diskFormat, osDistro    string
	id, owner, ramdiskID, containerFormat        string
	minDisk, minRAM                              int
	protected, hidden                            triBool
	tags                                         []string
	properties                                   []string
	removeProperties                             []string
}

// addImageFieldFlags adds the schema options; create also has --id and --tags.
func addImageFieldFlags(f *pflag.FlagSet, o *imageFields, create bool) {
	f.SortFlags = false
	f.StringVar(&o.architecture, "architecture", "", "CPU architecture the image needs, e.g. x86_64 or aarch64 (names: https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html).")
	f.Var(&o.protected, "protected", "True: the image cannot be deleted until this is set back to False.")
	f.StringVar(&o.name, "name", "", "Name of the image; names need not be unique.")
	f.StringVar(&o.instanceUUID, "instance-uuid", "", "ID of the server the image was made from. A label only: it takes no snapshot.")
	f.IntVar(&o.minDisk, "min-disk", 0, "Smallest root disk, in GB, that a server needs to boot the image.")
	f.StringVar(&o.visibility, "visibility", "", "Who can see the image. Valid values: public, private, community, shared")
	f.StringVar(&o.kernelID, "kernel-id", "", "ID of the image that holds the kernel to boot this AMI-style image with.")
	if create {
		f.Var(&nargs{&o.tags}, "tags", "Tags to put on the image (several words, or repeated).")
	}
	f.StringVar(&o.osVersion, "os-version", "", "Version of the operating system, as its vendor numbers it.")
	f.StringVar(&o.diskFormat, "disk-format", "", "Disk format of the image data; None sets it to null. Valid values: None, ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop")
	f.StringVar(&o.osDistro, "os-distro", "", "Operating system distribution in lower case, e.g. ubuntu or fedora (names: https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html).")
	if create {
		f.StringVar(&o.id, "id", "", "ID (a UUID) for the new image; the server picks one when it is not given.")
	}
	f.StringVar(&o.owner, "owner", "", "ID of the project that owns the image.")
	f.StringVar(&o.ramdiskID, "ramdisk-id", "", "ID of the image that holds the ramdisk to boot this AMI-style image with.")
	f.IntVar(&o.minRAM, "min-ram", 0, "Smallest amount of RAM, in MB, that a server needs to boot the image.")
	f.StringVar(&o.containerFormat, "container-format", "", "Container format of the image data; None sets it to null. Valid values: None, ami, ari, aki, bare, ovf, ova, docker")
	f.Var(&o.hidden, "hidden", "True: image lists leave the image out unless they ask for hidden images.")
	f.StringArrayVar(&o.properties, "property", nil, "Set a custom property, given as key=value (repeatable).")
	if !create {
		f.StringArrayVar(&o.removeProperties, "remove-property", nil, "Remove the custom property of this name (repeatable).")
	}
}

// values returns the properties that were given, by API name. "None" for a
// format means null, as in python-glanceclient's schema.
func (o *imageFields) values(f *pflag.FlagSet) (map[string]any, error) {
	props, err := parseKeyValues(o.properties, "--property")
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for k, v := range props {
		m[k] = v
	}
	str := func(flag, key, v string) {
		if f.Changed(flag) {
			if v == "None" && (key == "disk_format" || key == "container_format") {
				m[key] = nil
				return
			}
			m[key] = v
		}
	}
	str("architecture", "architecture", o.architecture)
	str("name", "name", o.name)
	str("instance-uuid", "instance_uuid", o.instanceUUID)
	str("visibility", "visibility", o.visibility)
	str("kernel-id", "kernel_id", o.kernelID)
	str("os-version", "os_version", o.osVersion)
	str("disk-format", "disk_format", o.diskFormat)
	str("os-distro", "os_distro", o.osDistro)
	str("id", "id", o.id)
	str("owner", "owner", o.owner)
	str("ramdisk-id", "ramdisk_id", o.ramdiskID)
	str("container-format", "container_format", o.containerFormat)
	if f.Changed("min-disk") {
		m["min_disk"] = o.minDisk
	}
	if f.Changed("min-ram") {
		m["min_ram"] = o.minRAM
	}
	if o.protected.v != nil {
		m["protected"] = *o.protected.v
	}
	if o.hidden.v != nil {
		m["os_hidden"] = *o.hidden.v
	}
	if f.Changed("tags") {
		m["tags"] = o.tags
	}
	return m, nil
}

// createOptions turns the given values into the library's create request.
func createOptions(m map[string]any) *glance.CreateOptions {
	c := &glance.CreateOptions{Properties: map[string]string{}}
	for k, v := range m {
		switch k {
		case "id":
			c.ID = v.(string)
		case "name":
			c.Name = v.(string)
		case "visibility":
			c.Visibility = v.(string)
		case "owner":
			c.Owner = v.(string)
		case "disk_format":
			if s, ok := v.(string); ok {
				c.DiskFormat = s
			}
		case "container_format":
			if s, ok := v.(string); ok {
				c.ContainerFormat = s
			}
		case "min_disk":
			n := v.(int)
			c.MinDisk = &n
		case "min_ram":
			n := v.(int)
			c.MinRAM = &n
		case "protected":
			b := v.(bool)
			c.Protected = &b
		case "os_hidden":
			b := v.(bool)
			c.Hidden = &b
		case "tags":
			c.Tags = v.([]string)
		default:
			c.Properties[k] = fmt.Sprint(v)
		}
	}
	return c
}

// imageRecord is what image-show prints: the image as the server sent it,
// minus the links python-glanceclient hides.
func imageRecord(img *glance.Image) map[string]any {
	rec := make(map[string]any, len(img.Fields))
	for k, v := range img.Fields {
		switch k {
		case "self", "access", "file", "schema":
			continue
		}
		rec[k] = v
	}
	return rec
}

// printImage prints one image like python-glanceclient's print_image.
func (a *app) printImage(p *printOptions, img *glance.Image) error {
	rec := imageRecord(img)
	return printRecord(a.io.Out, p, rec, func(k string, v any) string {
		switch k {
		case "virtual_size":
			if v == nil || pyStr(v) == "0" {
				return "Not available"
			}
		case "size":
			if p.HumanReadable {
				n, _ := strconv.ParseInt(pyStr(v), 10, 64)
				return humanSize(n)
			}
		}
		return pyStr(v)
	})
}

type imageShowOptions struct {
	print printOptions
	image string
}

func (a *app) cmdImageShow() *cobra.Command {
	o := &imageShowOptions{}
	c := a.command(&cmdSpec{
		use:   "image-show [--human-readable] [--max-column-width <integer>] <IMAGE_ID>",
		short: "Show the details of an image.",
		args:  []posArg{imageArg("Image to show, by ID or name.", &o.image)}, argsCol: 24,
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.BoolVar(&o.print.HumanReadable, "human-readable", false, "Print the size in units of 1024 (e.g. 1.5GB) instead of bytes.")
			f.IntVar(&o.print.MaxColumnWidth, "max-column-width", 80, "Wrap table cells wider than this many characters.")
		},
		run: func(ctx context.Context, c *glance.Client) error { return a.imageShow(ctx, c, o) },
	})
	return c
}

func (a *app) imageShow(ctx context.Context, c *glance.Client, o *imageShowOptions) error {
	img, err := findImage(ctx, c, o.image)
	if err != nil {
		return err
	}
	return a.printImage(&o.print, img)
}

type imageListOptions struct {
	print                              printOptions
	limit, pageSize                    int
	visibility, memberStatus, owner    string
	checksum, hash, sort, name, status string
	propertyFilters, tags              []string
	sortKeys, sortDirs                 []string
	hidden, includeStores              triBool

	list *glance.ListOptions // built by check
}

func (a *app) cmdImageList() *cobra.Command {
	o := &imageListOptions{}
	c := a.command(&cmdSpec{
		use:   "image-list",
		short: "List the images visible to you.",
		print: &o.print,
		check: func(*cobra.Command) error { return o.check() },
		flags: o.flags,
		run:   func(ctx context.Context, c *glance.Client) error { return a.imageList(ctx, c, o) },
	})
	return c
}

func (o *imageListOptions) flags(f *pflag.FlagSet) {
	f.SortFlags = false
	f.IntVar(&o.limit, "limit", 0, "Stop after this many images (0: no limit).")
	f.IntVar(&o.pageSize, "page-size", 200, "How many images to ask the server for in each request.")
	f.StringVar(&o.visibility, "visibility", "", "Only images with this visibility: public, private, community, shared or all.")
	f.StringVar(&o.memberStatus, "member-status", "", "Only images shared with you whose membership is in this status: pending, accepted, rejected or all.")
	f.StringVar(&o.owner, "owner", "", "Only images owned by this project ID.")
	f.StringArrayVar(&o.propertyFilters, "property-filter", nil, "Only images whose property KEY has VALUE, given as KEY=VALUE (repeatable).")
	f.StringVar(&o.checksum, "checksum", "", "Only images whose MD5 checksum is this.")
	f.StringVar(&o.hash, "hash", "", "Only images whose os_hash_value is this.")
	f.StringArrayVar(&o.tags, "tag", nil, "Only images with this tag (repeatable: images must have them all).")
	f.Var(&choices{&o.sortKeys, glance.SortKeys}, "sort-key", "Field to sort by (repeatable; the first one sorts first). Valid values: "+strings.Join(glance.SortKeys, ", ")+".")
	f.Var(&choices{&o.sortDirs, []string{"asc", "desc"}}, "sort-dir", "Direction for each --sort-key, in the same order. Valid values: asc, desc.")
	f.StringVar(&o.sort, "sort", "", "The whole sort order in one option, as <key>[:<asc|desc>],...; not with --sort-key or --sort-dir. Valid keys: "+strings.Join(glance.SortKeys, ", ")+".")
	f.Var(&o.hidden, "hidden", "List only hidden images (True) or only the others (False).")
	f.Lookup("hidden").NoOptDefVal = "True"
	f.Var(&o.includeStores, "include-stores", "Add a Stores column: the stores holding each image's data.")
	f.Lookup("include-stores").NoOptDefVal = "True"
	f.StringVar(&o.name, "name", "", "Only images with this name (in:a,b for any of several).")
	f.StringVar(&o.status, "status", "", "Only images in this status, e.g. active or queued.")
}

// check turns the options into the library's list request.
func (o *imageListOptions) check() error {
	props, err := parseKeyValues(o.propertyFilters, "--property-filter")
	if err != nil {
		return err
	}
	o.list = &glance.ListOptions{
		Name: o.name, Status: o.status, Visibility: o.visibility, MemberStatus: o.memberStatus,
		Owner: o.owner, Checksum: o.checksum, HashValue: o.hash, Tags: o.tags,
		Properties: props, Hidden: o.hidden.v, Sort: o.sort,
		SortKeys: o.sortKeys, SortDirs: o.sortDirs, Limit: o.limit, PageSize: o.pageSize,
	}
	if o.sort == "" && len(o.sortKeys) == 0 && len(o.sortDirs) == 0 {
		// python-glanceclient's default order.
		o.list.SortKeys, o.list.SortDirs = []string{"name"}, []string{"asc"}
	}
	if o.limit < 0 || o.pageSize < 0 {
		return usageErrorf("--limit and --page-size must not be negative")
	}
	return nil
}

func (a *app) imageList(ctx context.Context, c *glance.Client, o *imageListOptions) error {
	cols := []column{{"ID", "id"}, {"Name", "name"}}
	if a.g.verbose {
		cols = append(cols, column{"Disk_format", "disk_format"}, column{"Container_format", "container_format"},
			column{"Size", "size"}, column{"Status", "status"}, column{"Owner", "owner"})
	}
	if o.includeStores.v != nil && *o.includeStores.v {
		cols = append(cols, column{"Stores", "stores"})
	}
	var recs []map[string]any
	for img, err := range c.ListImages(ctx, o.list) {
		if err != nil {
			return err
		}
		recs = append(recs, img.Fields)
	}
	return printRecords(a.io.Out, &o.print, cols, recs, nil)
}

type imageUpdateOptions struct {
	fields imageFields
	print  printOptions
	image  string
	vals   map[string]any // the properties given, by check
}

func (a *app) cmdImageUpdate() *cobra.Command {
	o := &imageUpdateOptions{}
	c := a.command(&cmdSpec{
		use:   "image-update [options] <IMAGE_ID>",
		short: "Change the properties of an image.",
		args:  []posArg{imageArg("Image to change, by ID or name.", &o.image)}, argsCol: 24,
		print: &o.print,
		check: func(cmd *cobra.Command) (err error) {
			o.vals, err = o.fields.values(cmd.Flags())
			return err
		},
		flags: func(f *pflag.FlagSet) {
			addImageFieldFlags(f, &o.fields, false)
			f.BoolVar(&o.print.HumanReadable, "human-readable", false, "Print the size in units of 1024 (e.g. 1.5GB) instead of bytes.")
		},
		run: func(ctx context.Context, c *glance.Client) error { return a.imageUpdate(ctx, c, o) },
	})
	return c
}

func (a *app) imageUpdate(ctx context.Context, c *glance.Client, o *imageUpdateOptions) error {
	img, err := findImage(ctx, c, o.image)
	if err != nil {
		return err
	}
	ops, err := glance.UpdateOps(img, o.vals, o.fields.removeProperties)
	if err != nil {
		return err
	}
	if len(ops) > 0 {
		if img, err = c.UpdateImage(ctx, img.ID, ops...); err != nil {
			return err
		}
	}
	return a.printImage(&o.print, img)
}

func (a *app) cmdImageDelete() *cobra.Command {
	var images []string
	return a.command(&cmdSpec{
		use:   "image-delete <IMAGE_ID> [<IMAGE_ID> ...]",
		short: "Delete one or more images.",
		args:  []posArg{{name: "<IMAGE_ID>", help: "Images to delete, by ID or name.", rest: &images}},
		run:   func(ctx context.Context, c *glance.Client) error { return a.imageDelete(ctx, c, images) },
	})
}

// imageDelete deletes every image it can and reports each failure, as
// python-glanceclient does.
func (a *app) imageDelete(ctx context.Context, c *glance.Client, refs []string) error {
	failures := 0
	for _, ref := range refs {
		err := resolveID(ctx, c, ref, func(id string) error { return c.DeleteImage(ctx, id) })
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failures++
		var nf *notFoundError
		switch {
		case errors.Is(err, glance.ErrForbidden):
			fmt.Fprintf(a.io.Err, "You are not permitted to delete the image '%s'.\n", ref)
		case errors.Is(err, glance.ErrNotFound) || errors.As(err, &nf):
			fmt.Fprintf(a.io.Err, "No image with an ID of '%s' exists.\n", ref)
		case errors.Is(err, glance.ErrConflict):
			fmt.Fprintf(a.io.Err, "Unable to delete image '%s' because it is in use.\n", ref)
		default:
			fmt.Fprintf(a.io.Err, "'%s': Unable to delete image '%s'\n", describe(err), ref)
		}
	}
	if failures > 0 {
		return silentError{}
	}
	return nil
}

// imageCommand declares a command that acts on one image and prints
// nothing; its options are the image alone.
func (a *app) imageCommand(name, short, argHelp string, do func(ctx context.Context, c *glance.Client, id string) error) *cobra.Command {
	var image string
	return a.command(&cmdSpec{
		use:   name + " <IMAGE_ID>",
		short: short,
		args:  []posArg{imageArg(argHelp, &image)},
		run: func(ctx context.Context, c *glance.Client) error {
			return resolveID(ctx, c, image, func(id string) error { return do(ctx, c, id) })
		},
	})
}

func (a *app) cmdImageDeactivate() *cobra.Command {
	return a.imageCommand("image-deactivate", "Block downloads of an image's data until it is reactivated.", "Image to deactivate, by ID or name.",
		func(ctx context.Context, c *glance.Client, id string) error { return c.DeactivateImage(ctx, id) })
}

func (a *app) cmdImageReactivate() *cobra.Command {
	return a.imageCommand("image-reactivate", "Allow downloads of a deactivated image again.", "Image to reactivate, by ID or name.",
		func(ctx context.Context, c *glance.Client, id string) error { return c.ReactivateImage(ctx, id) })
}

type imageTagOptions struct {
	print      printOptions
	image, tag string
}

func (a *app) cmdImageTagUpdate() *cobra.Command {
	o := &imageTagOptions{}
	return a.command(&cmdSpec{
		use:   "image-tag-update <IMAGE_ID> <TAG_VALUE>",
		short: "Add a tag to an image.",
		args:  []posArg{imageArg("Image to tag, by ID or name.", &o.image), {name: "<TAG_VALUE>", help: "The tag to add.", to: &o.tag}},
		print: &o.print,
		run:   func(ctx context.Context, c *glance.Client) error { return a.imageTagUpdate(ctx, c, o) },
	})
}

func (a *app) imageTagUpdate(ctx context.Context, c *glance.Client, o *imageTagOptions) error {
	return resolveID(ctx, c, o.image, func(id string) error {
		if err := c.AddTag(ctx, id, o.tag); err != nil {
			return err
		}
		img, err := c.GetImage(ctx, id)
		if err != nil {
			return err
		}
		rec := map[string]any{"id": img.ID, "tags": img.Fields["tags"]}
		return printRecords(a.io.Out, &o.print, []column{{"ID", "id"}, {"Tags", "tags"}}, []map[string]any{rec}, nil)
	})
}

func (a *app) cmdImageTagDelete() *cobra.Command {
	o := &imageTagOptions{}
	return a.command(&cmdSpec{
		use:   "image-tag-delete <IMAGE_ID> <TAG_VALUE>",
		short: "Remove a tag from an image.",
		args:  []posArg{imageArg("Image to untag, by ID or name.", &o.image), {name: "<TAG_VALUE>", help: "The tag to remove.", to: &o.tag}},
		run: func(ctx context.Context, c *glance.Client) error {
			return resolveID(ctx, c, o.image, func(id string) error { return c.DeleteTag(ctx, id, o.tag) })
		},
	})
}
