package cli

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// apiVersion picks the image API major version before the command line is
// parsed, since the commands depend on it, as python-glanceclient does:
// --os-image-api-version (or OS_IMAGE_API_VERSION), else the version at the
// end of --os-image-url (or OS_IMAGE_URL), else 2.
func apiVersion(args []string, getenv func(string) string) (string, error) {
	explicit, endpoint := getenv("OS_IMAGE_API_VERSION"), getenv("OS_IMAGE_URL")
	for i := 0; i < len(args) && args[i] != "--"; i++ {
		name, value, inline := strings.Cut(args[i], "=")
		name = normalizeName(name)
		if name != "--os-image-api-version" && name != "--os-image-url" {
			continue
		}
		if !inline && i+1 < len(args) {
			i++
			value = args[i]
		}
		if name == "--os-image-url" {
			endpoint = value
		} else {
			explicit = value
		}
	}
	v := explicit
	if v == "" {
		v = urlVersion(endpoint)
	}
	if v == "" {
		return "2", nil
	}
	return majorVersion(v)
}

var urlVersionRE = regexp.MustCompile(`/v(\d+)(?:\.\d+)?/?$`)

// urlVersion is the major version at the end of an endpoint URL, or "".
func urlVersion(endpoint string) string {
	if m := urlVersionRE.FindStringSubmatch(endpoint); m != nil {
		return m[1]
	}
	return ""
}

// majorVersion checks a version ("1", "v2", "2.0") and returns its major.
func majorVersion(v string) (string, error) {
	major, _, _ := strings.Cut(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(v)), "v"), ".")
	if major != "1" && major != "2" {
		return "", fmt.Errorf("Invalid API version parameter %q. Supported values are 1 and 2", v)
	}
	return major, nil
}

// newRootFor builds the command tree of the API version.
func (a *app) newRootFor(version string) *cobra.Command {
	if version == "1" {
		return a.newRootV1()
	}
	return a.newRoot()
}

// checkVersion compares the version the configuration asks for (flags,
// OS_IMAGE_API_VERSION or clouds.yaml) with the one the commands are for:
// only clouds.yaml's image_api_version can differ.
func (a *app) checkVersion(configured string) error {
	if configured == "" {
		return nil
	}
	major, err := majorVersion(configured)
	if err != nil {
		return err
	}
	if want := a.apiVersion(); major != want {
		return fmt.Errorf("the configuration (clouds.yaml's image_api_version) asks for image API version %s, but these are the commands of version %s: choose with --os-image-api-version", configured, want)
	}
	return nil
}

func (a *app) apiVersion() string {
	if a.version == "1" {
		return "1"
	}
	return "2"
}

// v1Commands are the commands python-glanceclient's v1 shell has; `glance
// help` for one of them points to its v1 help, as python-glanceclient does.
var v1Commands = []string{
	"image-create", "image-delete", "image-download", "image-list", "image-show", "image-update",
	"member-create", "member-delete", "member-list", "bash-completion", "help",
}

// v1HelpPointer ends the v2 help of `glance help` and of a command v1 also
// has with where to find the v1 help.
func (a *app) v1HelpPointer(w io.Writer, command string) {
	if a.apiVersion() != "2" {
		return
	}
	if command == "" {
		fmt.Fprintln(w, "\nRun `glance --os-image-api-version 1 help` for v1 help")
	} else if slices.Contains(v1Commands, command) {
		fmt.Fprintf(w, "\nRun `glance --os-image-api-version 1 help %s` for v1 help\n", command)
	}
}
