package cli

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/go-glance/glance/internal/diskformat"
	"github.com/go-glance/glance/internal/unpack"
)

// sendFlags are the options of the commands that send image data.
type sendFlags struct {
	decompress, skipCheck bool
}

func addSendFlags(f *pflag.FlagSet, o *sendFlags) {
	f.BoolVar(&o.decompress, "decompress", false, "If the data is compressed (gzip, xz, zstd or bzip2, told by its content), send it decompressed, as it streams; its size is then unknown in advance.")
	f.BoolVar(&o.skipCheck, "skip-format-check", false, "Send the data even if its format (qcow2, vmdk, vhd, vhdx, vdi, ploop, iso, raw, told by its content) is not the image's disk format.")
}

// structured are the disk formats with headers of their own: data without
// one is not of such a format.
var structured = map[string]bool{"qcow2": true, "vmdk": true, "vhd": true, "vhdx": true, "vdi": true, "ploop": true, "iso": true}

// prepareData makes data what is sent: decompressed with --decompress, and
// its format read. It returns the data, its size (-1 once decompressed, or
// unknown), the format found, and what closes the decompressor.
func (a *app) prepareData(data io.Reader, size int64, o *sendFlags) (io.Reader, int64, string, func(), error) {
	done := func() {}
	if o.decompress {
		r, kind, closer, err := unpack.Open(data)
		if err != nil {
			return nil, 0, "", nil, err
		}
		data, done = r, closer
		if kind != "" {
			size = -1
		}
	}
	data, format, err := diskformat.Sniff(data)
	if err != nil {
		done()
		return nil, 0, "", nil, err
	}
	return data, size, format, done, nil
}

// checkFormat compares the format found in the data with the disk format
// declared. Data of a format with a header under another name is refused
// (Glance 30 and later refuse it too, after the upload); data without a
// header under a format that has one only draws a warning, since such
// uploads always worked.
func (a *app) checkFormat(declared, found string, o *sendFlags) error {
	if o.skipCheck || declared == "" || declared == found {
		return nil
	}
	switch declared {
	case "ami", "ari", "aki":
		return nil // raw data in Amazon's naming
	}
	if found != "raw" {
		return fmt.Errorf("The data is %s but the disk format is %s: use --disk-format %s (or auto), or --skip-format-check to send it anyway.", found, declared, found)
	}
	if structured[declared] {
		fmt.Fprintf(a.io.Err, "Warning: the data has no %s header; it is sent as it is.\n", declared)
	}
	return nil
}

// sendPrep is prepareData and checkFormat for the commands that create the
// image: --disk-format auto takes the format found.
func (a *app) sendPrep(data io.Reader, size int64, vals map[string]any, o *sendFlags) (io.Reader, int64, func(), error) {
	auto := vals["disk_format"] == "auto"
	if data == nil {
		if auto {
			return nil, 0, nil, usageErrorf("--disk-format auto needs data (--file or stdin) to look at")
		}
		return nil, size, func() {}, nil
	}
	data, size, found, done, err := a.prepareData(data, size, o)
	if err != nil {
		return nil, 0, nil, err
	}
	if auto {
		vals["disk_format"] = found
	}
	declared, _ := vals["disk_format"].(string)
	if err := a.checkFormat(declared, found, o); err != nil {
		done()
		return nil, 0, nil, err
	}
	return data, size, done, nil
}
