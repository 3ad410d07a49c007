package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
	v1 "github.com/go-glance/glance/v1"
)

// v1Fields are the options of v1 image-create and image-update.
type v1Fields struct {
	id, name, store, diskFormat, containerFormat, owner string
	location, file, checksum, copyFrom                  string
	size                                                int64
	minDisk, minRAM                                     int
	isPublic, isProtected                               triBool
	properties                                          []string
	purgeProps, progress                                bool
}

const (
	v1DiskFormats      = "Valid values: ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop."
	v1ContainerFormats = "Valid values: ami, ari, aki, bare, ovf, ova, docker."
)

// addV1FieldFlags adds the options of image-create (create) or
// image-update, in python-glanceclient's order.
func addV1FieldFlags(f *pflag.FlagSet, o *v1Fields, p *printOptions, create bool) {
	f.SortFlags = false
	if create {
		f.StringVar(&o.id, "id", "", "ID (a UUID) to give the new image; the server picks one when it is not given.")
	}
	f.StringVar(&o.name, "name", "", "Name of the image; names need not be unique.")
	if create {
		f.StringVar(&o.store, "store", "", "Store (backend) to put uploaded or copied data in.")
	}
	f.StringVar(&o.diskFormat, "disk-format", "", "Disk format of the image data. "+v1DiskFormats)
	f.StringVar(&o.containerFormat, "container-format", "", "Container format of the image data. "+v1ContainerFormats)
	f.StringVar(&o.owner, "owner", "", "ID of the project (tenant) that owns the image.")
	f.Int64Var(&o.size, "size", 0, "Size of the data in bytes, for --location and --copy-from; with a file it must be the file's size.")
	f.IntVar(&o.minDisk, "min-disk", 0, "Smallest root disk, in GB, that a server needs to boot the image.")
	f.IntVar(&o.minRAM, "min-ram", 0, "Smallest amount of RAM, in MB, that a server needs to boot the image.")
	f.StringVar(&o.location, "location", "", "URL where the data already is, to be served from there (':' in credentials written %3A). Only for a queued image.")
	f.StringVar(&o.file, "file", "", "File with the data to upload; without it, data piped to stdin is uploaded.")
	f.StringVar(&o.checksum, "checksum", "", "MD5 checksum the data must have; the server refuses other data.")
	f.StringVar(&o.copyFrom, "copy-from", "", "URL the server copies the data from into its own store, in the background. Only for a queued image.")
	f.Var(&o.isPublic, "is-public", "True: every project can see and use the image.")
	f.Var(&o.isProtected, "is-protected", "True: the image cannot be deleted until this is set back to False.")
	f.StringArrayVar(&o.properties, "property", nil, "Set a custom property, given as key=value (repeatable).")
	if !create {
		f.BoolVar(&o.purgeProps, "purge-props", false, "Remove the custom properties this update does not set; without it they are kept.")
	}
	f.BoolVar(&p.HumanReadable, "human-readable", false, "Print the size in units of 1024 (e.g. 1.5GB) instead of bytes.")
	f.BoolVar(&o.progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the upload.")
}

// meta turns the options given into the library's request.
func (o *v1Fields) meta(f *pflag.FlagSet) (*v1.ImageMeta, error) {
	props, err := parseKeyValues(o.properties, "--property")
	if err != nil {
		return nil, err
	}
	m := &v1.ImageMeta{
		ID: o.id, Name: o.name, Store: o.store, DiskFormat: o.diskFormat, ContainerFormat: o.containerFormat,
		Owner: o.owner, Location: o.location, Checksum: o.checksum, CopyFrom: o.copyFrom,
		IsPublic: o.isPublic.v, Protected: o.isProtected.v, Properties: props, PurgeProps: o.purgeProps,
	}
	if f.Changed("size") {
		if o.size < 0 {
			return nil, usageErrorf("argument --size: must not be negative")
		}
		m.Size = &o.size
	}
	if f.Changed("min-disk") {
		m.MinDisk = &o.minDisk
	}
	if f.Changed("min-ram") {
		m.MinRAM = &o.minRAM
	}
	return m, nil
}

// externalSources lists the options that give data another way than a
// file or stdin.
func (o *v1Fields) externalSources() []string {
	var via []string
	if o.location != "" {
		via = append(via, "--location")
	}
	if o.copyFrom != "" {
		via = append(via, "--copy-from")
	}
	return via
}

// data opens the data to upload, unless a location or a URL to copy from
// gives it. Formats are required with data, as python-glanceclient does.
func (a *app) v1Data(o *v1Fields, checkFormats bool) (io.Reader, int64, func(), error) {
	via := o.externalSources()
	var data io.Reader
	size, done := int64(-1), func() {}
	if len(via) == 0 {
		var err error
		if data, size, done, err = a.dataSource(o.file); err != nil {
			return nil, 0, nil, err
		}
	}
	if o.file != "" {
		via = append(via, "--file")
	}
	if data != nil && len(via) == 0 {
		via = append(via, "stdin")
	}
	if checkFormats && len(via) > 0 {
		formats := map[string]any{"disk_format": o.diskFormat, "container_format": o.containerFormat}
		if err := requireFormats(formats, strings.Join(via, ", ")); err != nil {
			done()
			return nil, 0, nil, err
		}
	}
	if data != nil && o.progress && a.io.ErrTTY {
		bar := newProgressBar(a.io.Err, size)
		data = bar.reader(data)
		inner := done
		done = func() { bar.finish(); inner() }
	}
	return data, size, done, nil
}

// v1Mismatch handles an upload whose data the server recorded differently:
// v1 can neither replace an active image's data nor deactivate it, so the
// image is deleted, lest someone boot data that is not what was sent.
func v1Mismatch(ctx context.Context, c *v1.Client, img *v1.Image, err error) error {
	if img == nil || !errors.Is(err, glance.ErrChecksumMismatch) {
		return err
	}
	if derr := c.DeleteImage(ctx, img.ID); derr != nil {
		return fmt.Errorf("%w; image %s holds other data than was sent, and deleting it failed: %v", err, img.ID, derr)
	}
	return fmt.Errorf("%w; image %s held other data than was sent and was deleted", err, img.ID)
}

// v1ImageRecord is what image-show prints: for a table, python-glanceclient's
// layout with each custom property as "Property 'key'"; for json and yaml,
// the record as the server sent it.
func v1ImageRecord(img *v1.Image, format string) map[string]any {
	rec := make(map[string]any, len(img.Fields)+len(img.Properties))
	for k, v := range img.Fields {
		if k != "properties" {
			rec[k] = v
		}
	}
	if format == "json" || format == "yaml" {
		if props, ok := img.Fields["properties"]; ok {
			rec["properties"] = props
		}
		return rec
	}
	for k, v := range img.Properties {
		rec["Property '"+k+"'"] = v
	}
	return rec
}

func (a *app) printV1Image(p *printOptions, img *v1.Image) error {
	return printRecord(a.io.Out, p, v1ImageRecord(img, p.Format), func(k string, v any) string {
		if k == "size" && p.HumanReadable {
			n, _ := strconv.ParseInt(pyStr(v), 10, 64)
			return humanSize(n)
		}
		return pyStr(v)
	})
}

func (a *app) cmdV1ImageShow() *cobra.Command {
	p := &printOptions{}
	argv := make([]string, 1)
	c := a.command(&cmdSpec{
		use:   "image-show [--human-readable] [--max-column-width <integer>] <IMAGE>",
		short: "Show the details of an image.",
		args:  []posArg{{name: "<IMAGE>", help: "Image to show, by ID or name.", to: &argv[0]}}, argsCol: 24,
		print: p,
		flags: func(f *pflag.FlagSet) {
			f.BoolVar(&p.HumanReadable, "human-readable", false, "Print the size in units of 1024 (e.g. 1.5GB) instead of bytes.")
			f.IntVar(&p.MaxColumnWidth, "max-column-width", 80, "Wrap table cells wider than this many characters.")
		},
		direct: func(cmd *cobra.Command) error {
			return a.runV1Image(cmd, argv[0], func(ctx context.Context, c *v1.Client, img *v1.Image) error {
				if img.ID != argv[0] { // found by name, in a list: show the full record
					var err error
					if img, err = c.GetImage(ctx, img.ID); err != nil {
						return err
					}
				}
				return a.printV1Image(p, img)
			})
		},
	})
	return c
}

func (a *app) cmdV1ImageCreate() *cobra.Command {
	var (
		o v1Fields
		p printOptions
	)
	c := a.command(&cmdSpec{
		use:   "image-create [options]",
		short: "Create an image, with its data if some is given.",
		print: &p,
		flags: func(f *pflag.FlagSet) {
			addV1FieldFlags(f, &o, &p, true)
		},
		direct: func(cmd *cobra.Command) error {
			meta, err := o.meta(cmd.Flags())
			if err != nil {
				return err
			}
			data, _, done, err := a.v1Data(&o, true)
			if err != nil {
				return err
			}
			defer done()
			return a.runV1(cmd, func(ctx context.Context, c *v1.Client) error {
				img, err := c.CreateImage(ctx, meta, data)
				if err != nil {
					return v1Mismatch(ctx, c, img, err)
				}
				return a.printV1Image(&p, img)
			})
		},
	})
	return c
}

func (a *app) cmdV1ImageUpdate() *cobra.Command {
	var (
		o v1Fields
		p printOptions
	)
	argv := make([]string, 1)
	c := a.command(&cmdSpec{
		use:   "image-update [options] <IMAGE>",
		short: "Change an image's metadata, or upload the data of a queued image.",
		args:  []posArg{{name: "<IMAGE>", help: "Image to change, by ID or name.", to: &argv[0]}}, argsCol: 24,
		print: &p,
		flags: func(f *pflag.FlagSet) {
			addV1FieldFlags(f, &o, &p, false)
		},
		direct: func(cmd *cobra.Command) error {
			meta, err := o.meta(cmd.Flags())
			if err != nil {
				return err
			}
			return a.runV1Image(cmd, argv[0], func(ctx context.Context, c *v1.Client, img *v1.Image) error {
				data, _, done, err := a.v1Data(&o, false)
				if err != nil {
					return err
				}
				defer done()
				if img.Status != "queued" && (data != nil || o.copyFrom != "") {
					return fmt.Errorf("Unable to upload image data to an image which is %s.", img.Status)
				}
				updated, err := c.UpdateImage(ctx, img.ID, meta, data)
				if err != nil {
					return v1Mismatch(ctx, c, updated, err)
				}
				return a.printV1Image(&p, updated)
			})
		},
	})
	return c
}

func (a *app) cmdV1ImageDelete() *cobra.Command {
	var argv []string
	c := a.command(&cmdSpec{
		use:   "image-delete <IMAGE> [<IMAGE> ...]",
		short: "Delete one or more images.",
		args:  []posArg{{name: "<IMAGE>", help: "Images to delete, by ID or name.", rest: &argv}}, argsCol: 0,
		direct: func(cmd *cobra.Command) error {
			return a.runV1(cmd, func(ctx context.Context, c *v1.Client) error {
				failures := 0
				for _, ref := range argv {
					if err := a.v1DeleteOne(ctx, c, ref); err != nil {
						if ctx.Err() != nil {
							return ctx.Err()
						}
						failures++
						var nf *notFoundError
						var amb *ambiguousError
						if errors.As(err, &nf) || errors.As(err, &amb) {
							fmt.Fprintln(a.io.Err, err)
						} else {
							fmt.Fprintf(a.io.Err, "%s: Unable to delete image %s\n", describe(err), ref)
						}
					}
				}
				if failures > 0 {
					return silentError{}
				}
				return nil
			})
		},
	})
	return c
}

// v1DeleteOne deletes one image, saying so with --verbose as
// python-glanceclient does.
func (a *app) v1DeleteOne(ctx context.Context, c *v1.Client, ref string) error {
	img, err := v1FindImage(ctx, c, ref)
	if err != nil {
		return err
	}
	if img.Status == "deleted" {
		return &notFoundError{ref}
	}
	if a.g.verbose {
		fmt.Fprintf(a.io.Out, "Requesting image delete for %s ... ", ref)
	}
	err = c.DeleteImage(ctx, img.ID)
	if a.g.verbose {
		if err != nil {
			fmt.Fprintln(a.io.Out, "[Fail]")
		} else {
			fmt.Fprintln(a.io.Out, "[Done]")
		}
	}
	return err
}

func (a *app) cmdV1ImageDownload() *cobra.Command {
	var (
		file     string
		progress bool
	)
	argv := make([]string, 1)
	c := a.command(&cmdSpec{
		use:   "image-download [--file <FILE>] [--progress] <IMAGE>",
		short: "Download the data of an image, checking it against the image's MD5 checksum.",
		args:  []posArg{{name: "<IMAGE>", help: "Image to download, by ID or name.", to: &argv[0]}}, argsCol: 17,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&file, "file", "", "File to write the data to; without it, the data goes to stdout, which must then not be a terminal.")
			f.BoolVar(&progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the download.")
		},
		direct: func(cmd *cobra.Command) error {
			if file == "" && a.io.OutTTY {
				return errors.New("No redirection or local file specified for downloaded image data. Please specify a local file with --file to save downloaded image or redirect output to another source.")
			}
			return a.runV1Image(cmd, argv[0], func(ctx context.Context, c *v1.Client, img *v1.Image) error {
				return failed(a.v1Download(ctx, c, img.ID, file, progress), "Unable to download image '%s'", img.ID)
			})
		},
	})
	return c
}

func (a *app) v1Download(ctx context.Context, c *v1.Client, id, file string, progress bool) error {
	var bar *progressBar
	defer func() {
		if bar != nil {
			bar.finish()
		}
	}()
	wrap := func(d *v1.Download, w io.Writer) io.Writer {
		if progress && a.io.ErrTTY {
			bar = newProgressBar(a.io.Err, d.Size)
			return bar.writer(w)
		}
		return w
	}
	if file != "" {
		_, err := c.DownloadToFile(ctx, id, file, nil, wrap)
		return err
	}
	d, err := c.Download(ctx, id, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = io.CopyBuffer(wrap(d, a.io.Out), d, make([]byte, 1<<20))
	return err
}
