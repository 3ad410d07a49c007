package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

// importFlags are the options of image-import and image-create-via-import.
type importFlags struct {
	method, uri                   string
	remoteRegion, remoteImageID   string
	remoteServiceInterface, store string
	stores                        string
	allStores, allowFailure       triBool
	wait                          bool
}

func (a *app) addImportFlags(f *pflag.FlagSet, o *importFlags, methodDefault string) {
	f.StringVar(&o.method, "import-method", methodDefault, "How the server gets the data: glance-direct, web-download, glance-download or copy-image (import-info lists what the cloud offers).")
	f.StringVar(&o.uri, "uri", "", "URL the server downloads the data from (web-download).")
	f.StringVar(&o.remoteRegion, "remote-region", "", "Region of the remote Glance to download the image from (glance-download).")
	f.StringVar(&o.remoteImageID, "remote-image-id", "", "ID of the image in the remote Glance (glance-download).")
	f.StringVar(&o.remoteServiceInterface, "remote-service-interface", "public", "Interface of the remote Glance service (glance-download).")
	f.StringVar(&o.store, "store", a.getenv("OS_IMAGE_STORE"), "Store (backend) to put the data in. Defaults to env[OS_IMAGE_STORE].")
	f.StringVar(&o.stores, "stores", a.getenv("OS_IMAGE_STORES"), "Comma-separated stores to import into, on clouds with several stores. Defaults to env[OS_IMAGE_STORES].")
	f.Var(&o.allStores, "all-stores", "Import into every store the cloud has.")
	f.Var(&o.allowFailure, "allow-failure", "Whether the import may succeed with some stores failing (default True); only with --stores or --all-stores. Defaults to env[OS_IMAGE_ALLOW_FAILURE].")
	f.BoolVar(&o.wait, "wait", false, "Wait until the import ends, telling its progress on stderr; if it fails, say why and exit with status 1.")
	if v := a.getenv("OS_IMAGE_ALLOW_FAILURE"); v != "" {
		o.allowFailure.Set(v)
	}
}

// options validates the flags the way python-glanceclient does and builds
// the library's request. hasData says whether data is staged by this run.
func (o *importFlags) options(hasData bool) (*glance.ImportOptions, error) {
	opts := &glance.ImportOptions{Method: o.method, URI: o.uri, RemoteRegion: o.remoteRegion,
		RemoteImageID: o.remoteImageID, RemoteServiceInterface: o.remoteServiceInterface, Store: o.store}
	if o.stores != "" {
		for _, s := range strings.Split(o.stores, ",") {
			if s = strings.TrimSpace(s); s != "" {
				opts.Stores = append(opts.Stores, s)
			}
		}
	}
	opts.AllStores = o.allStores.v != nil && *o.allStores.v
	opts.AllowFailure = o.allowFailure.v == nil || *o.allowFailure.v
	n := 0
	for _, set := range []bool{o.store != "", len(opts.Stores) > 0, opts.AllStores} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, usageErrorf("Only one of --store, --stores and --all-stores can be provided")
	}
	if o.allowFailure.v != nil && len(opts.Stores) == 0 && !opts.AllStores {
		return nil, usageErrorf("--allow-failure is only usable with --stores or --all-stores")
	}
	switch o.method {
	case "glance-direct":
		if o.uri != "" {
			return nil, usageErrorf("Import method should be 'web-download' if URI is provided.")
		}
	case "web-download":
		if o.uri == "" {
			return nil, usageErrorf("URI is required for web-download import method. Please use '--uri <uri>'.")
		}
		if hasData {
			return nil, usageErrorf("You cannot pass data via stdin or --file with the web-download import method.")
		}
	case "glance-download":
		if o.remoteRegion == "" || o.remoteImageID == "" {
			return nil, usageErrorf("REMOTE GLANCE REGION and REMOTE IMAGE ID are required for glance-download import method. Please use --remote-region <region> and --remote-image-id <remote-image-id>.")
		}
		if o.uri != "" || hasData {
			return nil, usageErrorf("You cannot specify a --uri or data with the glance-download import method.")
		}
	case "copy-image":
		if len(opts.Stores) == 0 && !opts.AllStores {
			return nil, usageErrorf("Provide either --stores or --all-stores for 'copy-image' import method.")
		}
	}
	if o.uri != "" && o.method != "web-download" {
		return nil, usageErrorf("Import method should be 'web-download' if URI is provided.")
	}
	return opts, nil
}

// importResult is the image after an import started: as it ends with
// --wait, else as it is now.
func (a *app) importResult(ctx context.Context, c *glance.Client, id, reqID string, wait bool) (*glance.Image, error) {
	if wait {
		return a.waitImport(ctx, c, id, reqID)
	}
	return c.GetImage(ctx, id)
}

// checkMethod refuses a method the server does not offer.
func checkMethod(ctx context.Context, c *glance.Client, method string) error {
	methods, err := c.ImportInfo(ctx)
	if errors.Is(err, glance.ErrNotFound) {
		return fmt.Errorf("Target Glance does not support Image Import workflow")
	}
	if err != nil {
		return err
	}
	if !slices.Contains(methods, method) {
		return fmt.Errorf("Import method '%s' is not valid for this cloud. Valid values can be retrieved with import-info command.", method)
	}
	return nil
}

func (a *app) cmdImageStage() *cobra.Command {
	var (
		file     string
		size     int64
		progress bool
		sf       sendFlags
	)
	var image string
	c := a.command(&cmdSpec{
		use:   "image-stage [--file <FILE>] [--size <IMAGE_SIZE>] [--progress] [--decompress] [--skip-format-check] <IMAGE_ID>",
		short: "Upload the data of an image to the staging area, for a glance-direct import.",
		args:  []posArg{imageArg("Image to stage data for, by ID or name.", &image)}, argsCol: 23,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&file, "file", "", "File to stage; without it, data piped to stdin is staged.")
			f.Int64Var(&size, "size", 0, sizeHelp)
			f.BoolVar(&progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the upload.")
			addSendFlags(f, &sf)
		},
		direct: func(cmd *cobra.Command) error {
			return a.sendData(cmd, image, file, size, "", progress, true, &sf)
		},
	})
	return c
}

func (a *app) cmdImageImport() *cobra.Command {
	var (
		o importFlags
		p printOptions
	)
	var image string
	c := a.command(&cmdSpec{
		use:   "image-import [options] <IMAGE_ID>",
		short: "Start importing data into an existing image.",
		args:  []posArg{imageArg("Image to import into, by ID or name.", &image)}, argsCol: 24,
		print: &p,
		flags: func(f *pflag.FlagSet) {
			a.addImportFlags(f, &o, "glance-direct")
		},
		direct: func(cmd *cobra.Command) error {
			opts, err := o.options(false)
			if err != nil {
				return err
			}
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				if err := checkMethod(ctx, c, o.method); err != nil {
					return err
				}
				img, err := findImage(ctx, c, image)
				if err != nil {
					return err
				}
				if img.DiskFormat == "" || img.ContainerFormat == "" {
					return fmt.Errorf("The 'disk_format' and 'container_format' properties must be set on an image before it can be imported.")
				}
				want := map[string]string{"glance-direct": "uploading", "web-download": "queued", "glance-download": "queued", "copy-image": "active"}[o.method]
				if want != "" && img.Status != want {
					return fmt.Errorf("The '%s' import method can only be applied on an image in status '%s'", o.method, want)
				}
				reqID, err := c.ImportImage(ctx, img.ID, opts)
				if err != nil {
					return err
				}
				if img, err = a.importResult(ctx, c, img.ID, reqID, o.wait); err != nil {
					return err
				}
				return a.printImage(&p, img)
			})
		},
	})
	return c
}

func (a *app) cmdImageCreateViaImport() *cobra.Command {
	var (
		o        imageFields
		io       importFlags
		p        printOptions
		file     string
		progress bool
		givenSz  int64
		sf       sendFlags
	)
	c := a.command(&cmdSpec{
		use:   "image-create-via-import [options]",
		short: "EXPERIMENTAL: create an image and import its data in one step.",
		long: "Create an image and import its data in one step. With --import-method (or env[OS_IMAGE_IMPORT_METHOD]) the data source must suit the method " +
			"(--file or stdin for glance-direct, --uri for web-download). Without a method, data given by --file or stdin is imported " +
			"with glance-direct, and without data only the image record is created (status queued).",
		print: &p,
		flags: func(f *pflag.FlagSet) {
			addImageFieldFlags(f, &o, true)
			f.StringVar(&file, "file", "", "File with the data to stage and import once the image exists; without it, data piped to stdin is used.")
			f.Int64Var(&givenSz, "size", 0, sizeHelp)
			addSendFlags(f, &sf)
			f.BoolVar(&progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the upload.")
			a.addImportFlags(f, &io, a.getenv("OS_IMAGE_IMPORT_METHOD"))
			f.Lookup("import-method").Usage += " Defaults to env[OS_IMAGE_IMPORT_METHOD]; without a method, data given is imported with glance-direct."
		},
		direct: func(cmd *cobra.Command) error {
			vals, err := o.values(cmd.Flags())
			if err != nil {
				return err
			}
			data, size, done, err := a.createData(cmd, file, vals, &sf, givenSz)
			if err != nil {
				return err
			}
			defer done()
			if io.method == "" && data != nil {
				io.method = "glance-direct"
			}
			if io.method == "copy-image" {
				return usageErrorf("Import method 'copy-image' cannot be used while creating the image.")
			}
			if io.method == "glance-direct" && data == nil {
				return usageErrorf("You must specify a --file or provide data via stdin for the glance-direct import method.")
			}
			var opts *glance.ImportOptions
			if io.method != "" {
				if opts, err = io.options(data != nil); err != nil {
					return err
				}
				if data != nil {
					if err := requireFormats(vals, "--file"); err != nil {
						return err
					}
				}
			}
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				if io.method != "" {
					if err := checkMethod(ctx, c, io.method); err != nil {
						return err
					}
				}
				img, err := c.CreateImage(ctx, createOptions(vals))
				if err != nil {
					return err
				}
				if io.method == "" {
					return a.printImage(&p, img)
				}
				if data != nil {
					if _, err := a.upload(ctx, c, img.ID, data, size, "", progress, true); err != nil {
						return failed(err, "Image %s was created but staging its data failed (the image is left in place)", img.ID)
					}
				}
				reqID, err := c.ImportImage(ctx, img.ID, opts)
				if err != nil {
					return failed(err, "Image %s was created but its import could not start", img.ID)
				}
				if img, err = a.importResult(ctx, c, img.ID, reqID, io.wait); err != nil {
					return err
				}
				return a.printImage(&p, img)
			})
		},
	})
	return c
}
