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
		Short: "Add a location (and related metadata) to an image.",
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
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>            ID or name of image to which the location is to be added.\n"}
	f := c.Flags()
	f.StringVar(&url, "url", "", "URL of location to add. (required)")
	f.StringVar(&metadata, "metadata", "{}", "Metadata associated with the location. Must be a valid JSON object")
	f.StringVar(&checksum, "checksum", "", "md5 checksum of image contents")
	f.StringVar(&algo, "hash-algo", "", "Multihash algorithm")
	f.StringVar(&hashValue, "hash-value", "", "Multihash value")
	addPrintFlags(c, &p)
	return requireURL(c, func() bool { return url != "" })
}

func (a *app) cmdLocationDelete() *cobra.Command {
	var urls []string
	c := &cobra.Command{
		Use:   "location-delete --url <URL> <IMAGE_ID>",
		Short: "Remove locations (and related metadata) from an image.",
		Args:  exactArgs("<IMAGE_ID>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return locationErr(a.runImage(cmd, args[0], func(ctx context.Context, c *glance.Client, id string) error {
				_, err := c.DeleteLocations(ctx, id, slices.Compact(slices.Sorted(slices.Values(urls)))...)
				return err
			}))
		},
	}
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>   ID or name of image whose locations are to be removed.\n"}
	c.Flags().StringArrayVar(&urls, "url", nil, "URL of location to remove. May be used multiple times. (required)")
	return requireURL(c, func() bool { return len(urls) > 0 })
}

func (a *app) cmdLocationUpdate() *cobra.Command {
	var (
		p             = printOptions{MaxColumnWidth: 80} // print_dict's width
		url, metadata string
	)
	c := &cobra.Command{
		Use:   "location-update --url <URL> [--metadata <STRING>] <IMAGE_ID>",
		Short: "Update metadata of an image's location.",
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
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>           ID or name of image whose location is to be updated.\n"}
	f := c.Flags()
	f.StringVar(&url, "url", "", "URL of location to update. (required)")
	f.StringVar(&metadata, "metadata", "{}", "Metadata associated with the location. Must be a valid JSON object")
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
		Short: "Add location to an image which is in `queued` state only.",
		Long: "Add location to an image which is in `queued` state only. Needs image API v2.17 " +
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
	c.Annotations = map[string]string{"args": "  <IMAGE_ID>            ID or name of image to which the location is to be added.\n"}
	f := c.Flags()
	f.StringVar(&url, "url", "", "URL of location to add. (required)")
	f.StringVar(&validationData, "validation-data", "{}", "Validation data containing os_hash_algo and os_hash_value only associated to the image. Must be a valid JSON object")
	addPrintFlags(c, &p)
	return requireURL(c, func() bool { return url != "" })
}
