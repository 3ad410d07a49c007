package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

// dataSource opens the image data: --file, else stdin when it carries data.
// It returns nil when there is none.
func (a *app) dataSource(file string) (io.Reader, int64, func(), error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("File %s does not exist or user does not have read privileges to it: %w", file, err)
		}
		size := int64(-1)
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		return f, size, func() { f.Close() }, nil
	}
	if a.io.InData {
		if f, ok := a.io.In.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				if off, err := f.Seek(0, io.SeekCurrent); err == nil {
					return f, fi.Size() - off, func() {}, nil
				}
			}
		}
		// A pipe that ends at once carries no data: scripts that run with
		// an empty stdin still just create the record.
		br := bufio.NewReaderSize(a.io.In, 1<<20)
		if _, err := br.Peek(1); err == io.EOF {
			return nil, 0, func() {}, nil
		}
		return br, -1, func() {}, nil
	}
	return nil, 0, func() {}, nil
}

// upload sends data with an optional progress bar.
func (a *app) upload(ctx context.Context, c *glance.Client, id string, r io.Reader, size int64, store string, progress, stage bool) (*glance.UploadResult, error) {
	var bar *progressBar
	if progress && a.io.ErrTTY {
		bar = newProgressBar(a.io.Err, size)
		r = bar.reader(r)
	}
	opts := &glance.UploadOptions{Size: size, Store: store}
	var res *glance.UploadResult
	var err error
	if stage {
		res, err = c.Stage(ctx, id, r, opts)
	} else {
		res, err = c.Upload(ctx, id, r, opts)
	}
	if bar != nil {
		bar.finish()
	}
	if !stage && errors.Is(err, glance.ErrChecksumMismatch) {
		// The server holds other bytes than were sent. Glance made the image
		// active anyway; deactivate it so that nobody boots it unawares.
		if derr := c.DeactivateImage(ctx, id); derr != nil {
			return res, fmt.Errorf("%w; deactivating image %s also failed: %v", err, id, derr)
		}
		return res, fmt.Errorf("%w; image %s was deactivated: delete it, or reactivate it if you trust its data", err, id)
	}
	return res, err
}

// requireFormats is python-glanceclient's rule: data needs both formats.
func requireFormats(m map[string]any, via string) error {
	var missing []string
	for _, k := range []string{"disk_format", "container_format"} {
		if s, _ := m[k].(string); s == "" {
			missing = append(missing, "--"+strings.ReplaceAll(k, "_", "-"))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("error: Must provide %s when using %s.", strings.Join(missing, ", "), via)
	}
	return nil
}

func (a *app) cmdImageCreate() *cobra.Command {
	var (
		o        imageFields
		p        printOptions
		file     string
		progress bool
		store    string
		givenSz  int64
		sf       sendFlags
	)
	c := a.command(&cmdSpec{
		use:   "image-create [options]",
		short: "Create an image, and upload its data if some is given.",
		print: &p,
		flags: func(f *pflag.FlagSet) {
			addImageFieldFlags(f, &o, true)
			f.StringVar(&file, "file", "", "File with the data to upload once the image exists; without it, data piped to stdin is uploaded.")
			f.Int64Var(&givenSz, "size", 0, sizeHelp)
			f.BoolVar(&progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the upload.")
			f.StringVar(&store, "store", a.getenv("OS_IMAGE_STORE"), "Store (backend) to put the data in. Defaults to env[OS_IMAGE_STORE].")
			addSendFlags(f, &sf)
			f.BoolVar(&p.HumanReadable, "human-readable", false, "Print the size in units of 1024 (e.g. 1.5GB) instead of bytes.")
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
			if data != nil {
				via := "stdin"
				if file != "" {
					via = "--file"
				}
				if err := requireFormats(vals, via); err != nil {
					return err
				}
			} else if store != "" {
				return usageErrorf("--store option should only be provided with --file option or stdin.")
			}
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				img, err := c.CreateImage(ctx, createOptions(vals))
				if err != nil {
					return err
				}
				if data != nil {
					res, err := a.upload(ctx, c, img.ID, data, size, store, progress, false)
					if err != nil {
						return failed(err, "Image %s was created but uploading its data failed (the image is left in place)", img.ID)
					}
					img = res.Image
				}
				return a.printImage(&p, img)
			})
		},
	})
	return c
}

func (a *app) cmdImageUpload() *cobra.Command {
	var (
		file, store string
		size        int64
		progress    bool
		sf          sendFlags
	)
	var image string
	c := a.command(&cmdSpec{
		use:   "image-upload [--file <FILE>] [--size <IMAGE_SIZE>] [--progress] [--store <STORE>] [--decompress] [--skip-format-check] <IMAGE_ID>",
		short: "Upload the data of an image that has none yet.",
		args:  []posArg{imageArg("Image to upload to, by ID or name.", &image)}, argsCol: 23,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&file, "file", "", "File to upload; without it, data piped to stdin is uploaded.")
			f.Int64Var(&size, "size", 0, sizeHelp)
			f.BoolVar(&progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the upload.")
			f.StringVar(&store, "store", a.getenv("OS_IMAGE_STORE"), "Store (backend) to put the data in. Defaults to env[OS_IMAGE_STORE].")
			addSendFlags(f, &sf)
		},
		direct: func(cmd *cobra.Command) error {
			return a.sendData(cmd, image, file, size, store, progress, false, &sf)
		},
	})
	return c
}

// sendData is image-upload and image-stage.
func (a *app) sendData(cmd *cobra.Command, ref, file string, size int64, store string, progress, stage bool, sf *sendFlags) error {
	data, known, done, err := a.dataSource(file)
	if err != nil {
		return err
	}
	defer done()
	if data == nil {
		return fmt.Errorf("No image data: give --file or pipe the data on stdin.")
	}
	data, known, found, undo, err := a.prepareData(data, known, sf)
	if err != nil {
		return err
	}
	defer undo()
	if known, err = givenSize(cmd, known, size); err != nil {
		return err
	}
	return a.runImage(cmd, ref, func(ctx context.Context, c *glance.Client, id string) error {
		if !sf.skipCheck {
			img, err := c.GetImage(ctx, id)
			if err != nil {
				return err
			}
			if err := a.checkFormat(img.DiskFormat, found, sf); err != nil {
				return err
			}
		}
		_, err := a.upload(ctx, c, id, data, known, store, progress, stage)
		return err
	})
}

// downloadFlags are image-download's options.
type downloadFlags struct {
	file, prefer                  string
	progress, md5, resume, sparse bool
	parallel                      int
}

// givenSize checks --size against the size of the data, when known (>= 0),
// and returns the size to send.
// createData is the data of an image-create command: the file or stdin
// (nil when there is none), checked and decompressed as sf asks, with its
// size as --size gives it or as it is known (-1 when not). done releases it.
func (a *app) createData(cmd *cobra.Command, file string, vals map[string]any, sf *sendFlags, givenSz int64) (io.Reader, int64, func(), error) {
	data, size, closeSrc, err := a.dataSource(file)
	if err != nil {
		return nil, 0, nil, err
	}
	data, size, undo, err := a.sendPrep(data, size, vals, sf)
	if err != nil {
		closeSrc()
		return nil, 0, nil, err
	}
	done := func() { undo(); closeSrc() }
	if size, err = givenSize(cmd, size, givenSz); err != nil {
		done()
		return nil, 0, nil, err
	}
	return data, size, done, nil
}

func givenSize(cmd *cobra.Command, known, size int64) (int64, error) {
	if !cmd.Flags().Changed("size") {
		return known, nil
	}
	if size < 0 {
		return 0, usageErrorf("argument --size: must not be negative")
	}
	if known >= 0 && known != size {
		return 0, fmt.Errorf("Size mismatch: provided size %d does not match the size of the image %d", size, known)
	}
	return size, nil
}

// sizeHelp is the help of --size.
const sizeHelp = "Size of the data in bytes, for input whose size cannot be known in advance (a pipe); with a file it must match the file's size. Sent as x-openstack-image-size."

func (a *app) cmdImageDownload() *cobra.Command {
	var o downloadFlags
	var image string
	c := a.command(&cmdSpec{
		use:   "image-download [--allow-md5-fallback] [--file <FILE>] [--progress] [--prefer <STORES>] [--resume] [--sparse] [--parallel <N>] <IMAGE_ID>",
		short: "Download the data of an image, checking it against the image's hash.",
		args:  []posArg{imageArg("Image to download, by ID or name.", &image)}, argsCol: 24,
		flags: func(f *pflag.FlagSet) {
			f.BoolVar(&o.md5, "allow-md5-fallback", a.getenv("OS_IMAGE_ALLOW_MD5_FALLBACK") != "", "If the image's os_hash_algo is not available here, verify with the legacy MD5 checksum instead of failing. Defaults to env[OS_IMAGE_ALLOW_MD5_FALLBACK] being set.")
			f.StringVar(&o.file, "file", "", "File to write the data to; without it, the data goes to stdout, which must then not be a terminal.")
			f.BoolVar(&o.progress, "progress", false, "Draw a progress bar on stderr, when that is a terminal, during the download.")
			f.StringVar(&o.prefer, "prefer", "", "Comma-separated store identifiers (see stores-info), in the order the server should try them for the data.")
			setMetavar(f, "prefer", "<STORES>")
			f.IntVar(&o.parallel, "parallel", 1, "Fetch the image in N ranges at once, each on its own connection: faster over links that bound each connection (long distances); the whole image is still verified. Not with a partial file to resume.")
			f.BoolVar(&o.sparse, "sparse", false, "Leave the blocks of zeros of the data as holes in --file, so that a raw image takes on disk only what it holds; the file reads the same.")
			f.BoolVar(&o.resume, "resume", false, "Keep the partial file (.FILE.part beside --file) if the download fails, and continue such a file from where it stopped; the whole image is verified at the end.")
		},
		direct: func(cmd *cobra.Command) error {
			if (o.resume || o.sparse || o.parallel > 1) && o.file == "" {
				return usageErrorf("--resume, --sparse and --parallel need --file")
			}
			if o.parallel < 1 {
				return usageErrorf("argument --parallel: must be at least 1")
			}
			if o.file == "" && a.io.OutTTY {
				return errors.New("No redirection or local file specified for downloaded image data. Please specify a local file with --file to save downloaded image or redirect output to another source.")
			}
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				img, err := findImage(ctx, c, image)
				if err != nil {
					return err
				}
				err = a.download(ctx, c, img, &o)
				if errors.Is(err, glance.ErrNoData) {
					return fmt.Errorf("Image %s has no data.", img.ID)
				}
				return failed(err, "Unable to download image '%s'", img.ID)
			})
		},
	})
	return c
}

func (a *app) download(ctx context.Context, c *glance.Client, img *glance.Image, o *downloadFlags) error {
	opts := &glance.DownloadOptions{AllowMD5Fallback: o.md5, Image: img, Resume: o.resume, Sparse: o.sparse, Parallel: o.parallel,
		Prefer: strings.Split(o.prefer, ",")}
	var bar *progressBar
	defer func() {
		if bar != nil {
			bar.finish()
		}
	}()
	newBar := func(d *glance.Download, w io.Writer) io.Writer {
		if !o.progress || !a.io.ErrTTY {
			return w
		}
		total := d.Size
		if total >= 0 {
			total += d.Offset
		}
		bar = newProgressBar(a.io.Err, total)
		bar.done = d.Offset
		return bar.writer(w)
	}
	if o.file != "" {
		_, err := c.DownloadToFile(ctx, img.ID, o.file, opts, newBar)
		return err
	}
	d, err := c.Download(ctx, img.ID, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = io.CopyBuffer(newBar(d, a.io.Out), d, make([]byte, 1<<20))
	return err
}
