package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

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

// requireURL refuses a missing --url once the positional arguments are
// checked, before -f is.
func requireURL(c *cobra.Command, given func() bool) *cobra.Command {
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return err
		}
		if !given() {
			return usageErrorf("the following arguments are required: --url")
		}
		return nil
	}
	return c
}

func (a *app) cmdLocationAdd() *cobra.Command {
	var (
		p                                        = printOptions{MaxColumnWidth: 80} // print_dict's width
		url, metadata, checksum, algo, hashValue string
	)
	c := &cobra.Command{
		Use:   "location-add --url <URL> [--metadata <STRING>] [--checksum <STRING>] [--hash-algo <STRING>] [--hash-value <STRING>] <IMAGE_ID>",
		Short: "Attach a storage URL, with its metadata, to an image.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			md, err := jsonObject(metadata, "Metadata is not a valid JSON object.")
			if err != nil {
				return err
			}
			validation := map[string]string{}
			for k, v := range map[string]string{"checksum": checksum, "os_hash_algo": algo, "os_hash_value": hashValue} {
				if v != "" {
					validation[k] = v
				}
			}
			return a.runImage(cmd, args[0], func(ctx context.Context, c *glance.Client, id string) error {
				img, err := c.AddLocation(ctx, id, url, md, validation)
				if err != nil {
					return err
				}
				return a.printImage(&p, img)
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>            Image to add the location to, by ID or name.\n"}
	f := c.Flags()
	f.StringVar(&url, "url", "", "Storage URL of the image data (required).")
	f.StringVar(&metadata, "metadata", "{}", "Metadata of the location, as a JSON object.")
	f.StringVar(&checksum, "checksum", "", "MD5 checksum of the data at the URL.")
	f.StringVar(&algo, "hash-algo", "", "Algorithm of --hash-value, e.g. sha512.")
	f.StringVar(&hashValue, "hash-value", "", "Hash of the data at the URL, in hex.")
	addPrintFlags(c, &p)
	return requireURL(c, func() bool { return url != "" })
}

func (a *app) cmdLocationDelete() *cobra.Command {
	var urls []string
	c := &cobra.Command{
		Use:   "location-delete --url <URL> <IMAGE_ID>",
		Short: "Detach storage URLs, with their metadata, from an image.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return locationErr(a.runImage(cmd, args[0], func(ctx context.Context, c *glance.Client, id string) error {
				_, err := c.DeleteLocations(ctx, id, slices.Compact(slices.Sorted(slices.Values(urls)))...)
				return err
			}))
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>   Image to detach them from, by ID or name.\n"}
	c.Flags().StringArrayVar(&urls, "url", nil, "Storage URL to detach (repeatable, required).")
	return requireURL(c, func() bool { return len(urls) > 0 })
}

func (a *app) cmdLocationUpdate() *cobra.Command {
	var (
		p             = printOptions{MaxColumnWidth: 80} // print_dict's width
		url, metadata string
	)
	c := &cobra.Command{
		Use:   "location-update --url <URL> [--metadata <STRING>] <IMAGE_ID>",
		Short: "Replace the metadata of one of an image's locations.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			md, err := jsonObject(metadata, "Metadata is not a valid JSON object.")
			if err != nil {
				return err
			}
			if len(md) == 0 {
				fmt.Fprintln(a.io.Out, "WARNING -- The location's metadata will be updated to an empty JSON object.")
			}
			return locationErr(a.runImage(cmd, args[0], func(ctx context.Context, c *glance.Client, id string) error {
				img, err := c.UpdateLocation(ctx, id, url, md)
				if err != nil {
					return err
				}
				return a.printImage(&p, img)
			}))
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>           Image whose location to change, by ID or name.\n"}
	f := c.Flags()
	f.StringVar(&url, "url", "", "Storage URL whose metadata to replace (required).")
	f.StringVar(&metadata, "metadata", "{}", "New metadata of the location, as a JSON object; it replaces the old.")
	addPrintFlags(c, &p)
	return requireURL(c, func() bool { return url != "" })
}

// hashAlgos are the algorithms add-location accepts, as python-glanceclient lists them.
var hashAlgos = []string{"sha512", "sha256", "sha1", "md5"}

func (a *app) cmdAddLocation() *cobra.Command {
	var (
		p                   = printOptions{MaxColumnWidth: 80} // print_dict's width
		url, validationData string
	)
	c := &cobra.Command{
		Use:   "add-location --url <URL> [--validation-data <STRING>] <IMAGE_ID>",
		Short: "Give a queued image its data by pointing it at a storage URL.",
		Long: "Give an image in status queued its data by pointing it at a storage URL. Needs image API v2.17 " +
			"(Glance 2024.2 and later), which does not require image locations to be visible.",
		Args: exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			vd, err := jsonObject(validationData, "validation-data is not a valid JSON object.")
			if err != nil {
				return err
			}
			validation := map[string]string{}
			for k, v := range vd {
				if k != "os_hash_algo" && k != "os_hash_value" {
					return fmt.Errorf("Validation Data should contain only os_hash_algo and os_hash_value. `%s` is not allowed", k)
				}
				s, ok := v.(string)
				if !ok {
					return fmt.Errorf("Validation Data %s must be a string", k)
				}
				validation[k] = s
			}
			if len(validation) > 0 && !slices.Contains(hashAlgos, validation["os_hash_algo"]) {
				return fmt.Errorf("os_hash_algo: `%s` is incorrect, allowed hashing algorithms: %s", validation["os_hash_algo"], pyRepr(hashAlgos))
			}
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				ok, err := c.HasVersion(ctx, glance.LocationsAPIVersion)
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("Glance does not support the locations API (v2.17)")
				}
				return resolveID(ctx, c, args[0], func(id string) error {
					if err := c.AddImageLocation(ctx, id, url, validation); err != nil {
						return err
					}
					img, err := c.GetImage(ctx, id)
					if err != nil {
						return err
					}
					return a.printImage(&p, img)
				})
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>            Image to add the location to, by ID or name.\n"}
	f := c.Flags()
	f.StringVar(&url, "url", "", "Storage URL of the image data (required).")
	f.StringVar(&validationData, "validation-data", "{}", "JSON object with just os_hash_algo and os_hash_value of the data, for the server to check it against.")
	addPrintFlags(c, &p)
	return requireURL(c, func() bool { return url != "" })
}

func (a *app) cmdLocationList() *cobra.Command {
	var p printOptions
	c := &cobra.Command{
		Use:   "location-list <IMAGE_ID>",
		Short: "List where an image's data is stored (image API v2.17; the service role by default).",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				ok, err := c.HasVersion(ctx, glance.LocationsAPIVersion)
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("Glance does not support the locations API (v2.17)")
				}
				return resolveID(ctx, c, args[0], func(id string) error {
					locs, err := c.ImageLocations(ctx, id)
					if err != nil {
						return err
					}
					recs := make([]map[string]any, len(locs))
					for i, l := range locs {
						recs[i] = map[string]any{"url": l.URL, "metadata": l.Metadata}
					}
					return printRecords(a.io.Out, &p, []column{{"Url", "url"}, {"Metadata", "metadata"}}, recs, nil)
				})
			})
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>            Image whose locations to list, by ID or name.\n"}
	addPrintFlags(c, &p)
	return c
}
