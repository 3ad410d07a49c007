package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

// locationErr words the errors python-glanceclient gives for locations.
func locationErr(err error) error {
	if errors.Is(err, glance.ErrLocationsHidden) {
		return errors.New("The administrator has disabled API access to image locations")
	}
	return err
}

// jsonObject parses an option that must hold a JSON object.
func jsonObject(s, bad string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, errors.New(bad)
	}
	return m, nil
}

// locationOptions are the options of the location commands.
type locationOptions struct {
	print                            printOptions
	image, url, metadata             string
	urls                             []string // location-delete's
	checksum, algo, hashValue, vdata string
	md                               map[string]any    // --metadata, parsed by check
	validation                       map[string]string // what the server checks the data against
}

func newLocationOptions() *locationOptions {
	return &locationOptions{print: printOptions{MaxColumnWidth: 80}} // print_dict's width
}

// needURL refuses a missing --url, once the positional arguments are checked.
func needURL(given bool) error {
	if !given {
		return usageErrorf("the following arguments are required: --url")
	}
	return nil
}

// parseMetadata checks --url and parses --metadata.
func (o *locationOptions) parseMetadata() (err error) {
	if err := needURL(o.url != ""); err != nil {
		return err
	}
	o.md, err = jsonObject(o.metadata, "Metadata is not a valid JSON object.")
	return err
}

func (a *app) cmdLocationAdd() *cobra.Command {
	o := newLocationOptions()
	return a.command(&cmdSpec{
		use:   "location-add --url <URL> [--metadata <STRING>] [--checksum <STRING>] [--hash-algo <STRING>] [--hash-value <STRING>] <IMAGE_ID>",
		short: "Attach a storage URL, with its metadata, to an image.",
		args:  []posArg{imageArg("Image to add the location to, by ID or name.", &o.image)}, argsCol: 24,
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&o.url, "url", "", "Storage URL of the image data (required).")
			f.StringVar(&o.metadata, "metadata", "{}", "Metadata of the location, as a JSON object.")
			f.StringVar(&o.checksum, "checksum", "", "MD5 checksum of the data at the URL.")
			f.StringVar(&o.algo, "hash-algo", "", "Algorithm of --hash-value, e.g. sha512.")
			f.StringVar(&o.hashValue, "hash-value", "", "Hash of the data at the URL, in hex.")
		},
		check: func(*cobra.Command) error {
			o.validation = map[string]string{}
			for k, v := range map[string]string{"checksum": o.checksum, "os_hash_algo": o.algo, "os_hash_value": o.hashValue} {
				if v != "" {
					o.validation[k] = v
				}
			}
			return o.parseMetadata()
		},
		run: func(ctx context.Context, c *glance.Client) error {
			return resolveID(ctx, c, o.image, func(id string) error {
				img, err := c.AddLocation(ctx, id, o.url, o.md, o.validation)
				if err != nil {
					return err
				}
				return a.printImage(&o.print, img)
			})
		},
	})
}

func (a *app) cmdLocationDelete() *cobra.Command {
	o := newLocationOptions()
	return a.command(&cmdSpec{
		use:   "location-delete --url <URL> <IMAGE_ID>",
		short: "Detach storage URLs, with their metadata, from an image.",
		args:  []posArg{imageArg("Image to detach them from, by ID or name.", &o.image)}, argsCol: 15,
		flags: func(f *pflag.FlagSet) {
			f.StringArrayVar(&o.urls, "url", nil, "Storage URL to detach (repeatable, required).")
		},
		check: func(*cobra.Command) error { return needURL(len(o.urls) > 0) },
		run: func(ctx context.Context, c *glance.Client) error {
			return locationErr(resolveID(ctx, c, o.image, func(id string) error {
				_, err := c.DeleteLocations(ctx, id, slices.Compact(slices.Sorted(slices.Values(o.urls)))...)
				return err
			}))
		},
	})
}

func (a *app) cmdLocationUpdate() *cobra.Command {
	o := newLocationOptions()
	return a.command(&cmdSpec{
		use:   "location-update --url <URL> [--metadata <STRING>] <IMAGE_ID>",
		short: "Replace the metadata of one of an image's locations.",
		args:  []posArg{imageArg("Image whose location to change, by ID or name.", &o.image)}, argsCol: 23,
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&o.url, "url", "", "Storage URL whose metadata to replace (required).")
			f.StringVar(&o.metadata, "metadata", "{}", "New metadata of the location, as a JSON object; it replaces the old.")
		},
		check: func(*cobra.Command) error {
			if err := o.parseMetadata(); err != nil {
				return err
			}
			if len(o.md) == 0 {
				fmt.Fprintln(a.io.Out, "WARNING -- The location's metadata will be updated to an empty JSON object.")
			}
			return nil
		},
		run: func(ctx context.Context, c *glance.Client) error {
			return locationErr(resolveID(ctx, c, o.image, func(id string) error {
				img, err := c.UpdateLocation(ctx, id, o.url, o.md)
				if err != nil {
					return err
				}
				return a.printImage(&o.print, img)
			}))
		},
	})
}

// hashAlgos are the algorithms add-location accepts, as python-glanceclient lists them.
var hashAlgos = []string{"sha512", "sha256", "sha1", "md5"}

// locationsAPI refuses, clearly, a server whose versions document does not
// list image API 2.17.
func locationsAPI(ctx context.Context, c *glance.Client) error {
	ok, err := c.HasVersion(ctx, glance.LocationsAPIVersion)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("Glance does not support the locations API (v2.17)")
	}
	return nil
}

func (a *app) cmdAddLocation() *cobra.Command {
	o := newLocationOptions()
	return a.command(&cmdSpec{
		use:   "add-location --url <URL> [--validation-data <STRING>] <IMAGE_ID>",
		short: "Give a queued image its data by pointing it at a storage URL.",
		long: "Give an image in status queued its data by pointing it at a storage URL. Needs image API v2.17 " +
			"(Glance 2024.2 and later), which does not require image locations to be visible.",
		args: []posArg{imageArg("Image to add the location to, by ID or name.", &o.image)}, argsCol: 24,
		print: &o.print,
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&o.url, "url", "", "Storage URL of the image data (required).")
			f.StringVar(&o.vdata, "validation-data", "{}", "JSON object with just os_hash_algo and os_hash_value of the data, for the server to check it against.")
		},
		check: func(*cobra.Command) error {
			if err := needURL(o.url != ""); err != nil {
				return err
			}
			return o.parseValidation()
		},
		run: func(ctx context.Context, c *glance.Client) error {
			if err := locationsAPI(ctx, c); err != nil {
				return err
			}
			return resolveID(ctx, c, o.image, func(id string) error {
				if err := c.AddImageLocation(ctx, id, o.url, o.validation); err != nil {
					return err
				}
				img, err := c.GetImage(ctx, id)
				if err != nil {
					return err
				}
				return a.printImage(&o.print, img)
			})
		},
	})
}

// parseValidation checks --validation-data as python-glanceclient does.
func (o *locationOptions) parseValidation() error {
	vd, err := jsonObject(o.vdata, "validation-data is not a valid JSON object.")
	if err != nil {
		return err
	}
	o.validation = map[string]string{}
	for k, v := range vd {
		if k != "os_hash_algo" && k != "os_hash_value" {
			return fmt.Errorf("Validation Data should contain only os_hash_algo and os_hash_value. `%s` is not allowed", k)
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("Validation Data %s must be a string", k)
		}
		o.validation[k] = s
	}
	if len(o.validation) > 0 && !slices.Contains(hashAlgos, o.validation["os_hash_algo"]) {
		return fmt.Errorf("os_hash_algo: `%s` is incorrect, allowed hashing algorithms: %s", o.validation["os_hash_algo"], pyRepr(hashAlgos))
	}
	return nil
}

func (a *app) cmdLocationList() *cobra.Command {
	o := newLocationOptions()
	o.print.MaxColumnWidth = 0
	return a.command(&cmdSpec{
		use:   "location-list <IMAGE_ID>",
		short: "List where an image's data is stored (image API v2.17; the service role by default).",
		args:  []posArg{imageArg("Image whose locations to list, by ID or name.", &o.image)}, argsCol: 24,
		print: &o.print,
		run: func(ctx context.Context, c *glance.Client) error {
			if err := locationsAPI(ctx, c); err != nil {
				return err
			}
			return resolveID(ctx, c, o.image, func(id string) error {
				locs, err := c.ImageLocations(ctx, id)
				if err != nil {
					return err
				}
				recs := make([]map[string]any, len(locs))
				for i, l := range locs {
					recs[i] = map[string]any{"url": l.URL, "metadata": l.Metadata}
				}
				return printRecords(a.io.Out, &o.print, []column{{"Url", "url"}, {"Metadata", "metadata"}}, recs, nil)
			})
		},
	})
}
