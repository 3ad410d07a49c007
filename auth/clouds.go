package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// cloudConfig is the part of a clouds.yaml entry that matters here.
// Scalars are read as text so that 3 and "3" mean the same.
type cloudConfig struct {
	Profile  string `yaml:"profile"`
	Cloud    string `yaml:"cloud"` // old spelling of profile
	AuthType string `yaml:"auth_type"`
	Auth     struct {
		AuthURL                     string `yaml:"auth_url"`
		Username                    string `yaml:"username"`
		UserID                      string `yaml:"user_id"`
		Password                    string `yaml:"password"`
		ProjectName                 string `yaml:"project_name"`
		ProjectID                   string `yaml:"project_id"`
		TenantName                  string `yaml:"tenant_name"`
		TenantID                    string `yaml:"tenant_id"`
		UserDomainName              string `yaml:"user_domain_name"`
		UserDomainID                string `yaml:"user_domain_id"`
		ProjectDomainName           string `yaml:"project_domain_name"`
		ProjectDomainID             string `yaml:"project_domain_id"`
		DomainName                  string `yaml:"domain_name"`
		DomainID                    string `yaml:"domain_id"`
		DefaultDomainName           string `yaml:"default_domain_name"`
		DefaultDomainID             string `yaml:"default_domain_id"`
		Token                       string `yaml:"token"`
		ApplicationCredentialID     string `yaml:"application_credential_id"`
		ApplicationCredentialName   string `yaml:"application_credential_name"`
		ApplicationCredentialSecret string `yaml:"application_credential_secret"`
	} `yaml:"auth"`
	RegionName            string      `yaml:"region_name"`
	Regions               []yaml.Node `yaml:"regions"`
	Interface             string      `yaml:"interface"`
	EndpointType          string      `yaml:"endpoint_type"`
	IdentityAPIVersion    string      `yaml:"identity_api_version"`
	Verify                string      `yaml:"verify"`
	Insecure              string      `yaml:"insecure"`
	CACert                string      `yaml:"cacert"`
	Cert                  string      `yaml:"cert"`
	Key                   string      `yaml:"key"`
	APITimeout            string      `yaml:"api_timeout"`
	ImageEndpointOverride string      `yaml:"image_endpoint_override"`
	ImageAPIVersion       string      `yaml:"image_api_version"`
}

// configFiles lists where a config file called base (clouds, secure,
// clouds-public) is looked for, in openstacksdk's order: the file named by
// envFile, ./, the user config directory, /etc/openstack.
func configFiles(base, envFile string, getenv func(string) string) []string {
	var out []string
	if f := getenv(envFile); envFile != "" && f != "" {
		out = append(out, f)
	}
	dirs := []string{"."}
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "openstack"))
	} else if h := getenv("HOME"); h != "" {
		dirs = append(dirs, filepath.Join(h, ".config", "openstack"))
	}
	dirs = append(dirs, "/etc/openstack")
	for _, d := range dirs {
		for _, ext := range []string{".yaml", ".yml", ".json"} {
			out = append(out, filepath.Join(d, base+ext))
		}
	}
	return out
}

// readFirst parses the first of files that exists and returns the map
// under top (clouds, public-clouds) and the file's name ("" if none).
func readFirst(files []string, top string) (map[string]map[string]any, string, error) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, f, err
		}
		var doc map[string]yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, f, fmt.Errorf("%s: %w", f, err)
		}
		n, ok := doc[top]
		if !ok {
			return nil, f, nil
		}
		var m map[string]map[string]any
		if err := n.Decode(&m); err != nil {
			return nil, f, fmt.Errorf("%s: %q: %w", f, top, err)
		}
		return m, f, nil
	}
	return nil, "", nil
}

// mergeMaps copies src into dst, merging nested maps key by key.
func mergeMaps(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		sm, ok1 := v.(map[string]any)
		dm, ok2 := dst[k].(map[string]any)
		if ok1 && ok2 {
			dst[k] = mergeMaps(maps.Clone(dm), sm)
		} else {
			dst[k] = v
		}
	}
	return dst
}

// LoadCloud reads the cloud called name (OS_CLOUD when name is empty) from
// clouds.yaml, overlaid with the same cloud in secure.yaml, on top of its
// profile from clouds-public.yaml. Files are looked for as openstacksdk
// does: OS_CLIENT_CONFIG_FILE (OS_CLIENT_SECURE_FILE for secure.yaml),
// ./clouds.yaml, $XDG_CONFIG_HOME/openstack (~/.config/openstack),
// /etc/openstack; the first found is used. With no name at all it returns
// empty options. An unknown name gives a *CloudNotFoundError.
func LoadCloud(name string, getenv func(string) string) (Options, error) {
	if name == "" {
		name = getenv("OS_CLOUD")
	}
	if name == "" {
		return Options{}, nil
	}
	cloudFiles := configFiles("clouds", "OS_CLIENT_CONFIG_FILE", getenv)
	clouds, cf, err := readFirst(cloudFiles, "clouds")
	if err != nil {
		return Options{}, fmt.Errorf("reading clouds.yaml: %w", err)
	}
	secure, sf, err := readFirst(configFiles("secure", "OS_CLIENT_SECURE_FILE", getenv), "clouds")
	if err != nil {
		return Options{}, fmt.Errorf("reading secure.yaml: %w", err)
	}
	c, ok := clouds[name]
	if !ok {
		var files []string
		for _, f := range []string{cf, sf} {
			if f != "" {
				files = append(files, f)
			}
		}
		return Options{}, &CloudNotFoundError{
			Name: name, Clouds: slices.Sorted(maps.Keys(clouds)),
			Files: files, Searched: cloudFiles,
		}
	}
	merged := mergeMaps(mergeMaps(nil, c), secure[name])

	var cc cloudConfig
	if err := decodeCloud(merged, &cc); err != nil {
		return Options{}, fmt.Errorf("cloud %q in %s: %w", name, cf, err)
	}
	if profile := firstOf(cc.Profile, cc.Cloud); profile != "" {
		if strings.Contains(profile, "://") {
			return Options{}, fmt.Errorf("cloud %q: profile %q: profiles fetched from a URL are not supported", name, profile)
		}
		files := configFiles("clouds-public", "", getenv)
		public, _, err := readFirst(files, "public-clouds")
		if err != nil {
			return Options{}, fmt.Errorf("reading clouds-public.yaml: %w", err)
		}
		prof, ok := public[profile]
		if !ok {
			return Options{}, fmt.Errorf("cloud %q: profile %q not found in clouds-public.yaml (looked for %s)", name, profile, strings.Join(files, ", "))
		}
		merged = mergeMaps(mergeMaps(nil, prof), merged)
		cc = cloudConfig{}
		if err := decodeCloud(merged, &cc); err != nil {
			return Options{}, fmt.Errorf("cloud %q with profile %q: %w", name, profile, err)
		}
	}
	o, err := cc.options()
	if err != nil {
		return Options{}, fmt.Errorf("cloud %q in %s: %w", name, cf, err)
	}
	o.Cloud = name
	return o, nil
}

// decodeCloud turns a merged map into cloudConfig by a YAML round trip,
// which reuses the decoder's scalar handling.
func decodeCloud(m map[string]any, cc *cloudConfig) error {
	b, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, cc)
}

// firstOf returns the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (cc *cloudConfig) options() (Options, error) {
	a := &cc.Auth
	o := Options{
		AuthURL:                     a.AuthURL,
		IdentityAPIVersion:          cc.IdentityAPIVersion,
		AuthType:                    cc.AuthType,
		Username:                    a.Username,
		UserID:                      a.UserID,
		Password:                    a.Password,
		UserDomainName:              a.UserDomainName,
		UserDomainID:                a.UserDomainID,
		ProjectName:                 firstOf(a.ProjectName, a.TenantName),
		ProjectID:                   firstOf(a.ProjectID, a.TenantID),
		ProjectDomainName:           a.ProjectDomainName,
		ProjectDomainID:             a.ProjectDomainID,
		DomainName:                  a.DomainName,
		DomainID:                    a.DomainID,
		DefaultDomainName:           a.DefaultDomainName,
		DefaultDomainID:             a.DefaultDomainID,
		Token:                       a.Token,
		ApplicationCredentialID:     a.ApplicationCredentialID,
		ApplicationCredentialName:   a.ApplicationCredentialName,
		ApplicationCredentialSecret: a.ApplicationCredentialSecret,
		RegionName:                  cc.RegionName,
		Interface:                   firstOf(cc.Interface, cc.EndpointType),
		Endpoint:                    cc.ImageEndpointOverride,
		ImageAPIVersion:             cc.ImageAPIVersion,
		CACert:                      cc.CACert,
		Cert:                        cc.Cert,
		Key:                         cc.Key,
	}
	if o.RegionName == "" && len(cc.Regions) > 0 {
		// The first of the regions list is the default, as in openstacksdk;
		// an entry is a name or a mapping with a name.
		r := &cc.Regions[0]
		if r.Kind == yaml.MappingNode {
			var named struct {
				Name string `yaml:"name"`
			}
			if err := r.Decode(&named); err != nil {
				return o, fmt.Errorf("regions: %w", err)
			}
			o.RegionName = named.Name
		} else {
			o.RegionName = r.Value
		}
	}
	if cc.Insecure != "" {
		v, err := parseBool(cc.Insecure)
		if err != nil {
			return o, fmt.Errorf("insecure: %w", err)
		}
		o.Insecure = v
	}
	if cc.Verify != "" {
		// verify: false turns checking off and wins over cacert; a path is
		// a CA bundle, as keystoneauth allows.
		if v, err := parseBool(cc.Verify); err == nil {
			o.Insecure = !v
		} else if o.CACert == "" {
			o.CACert = cc.Verify
		}
	}
	if cc.APITimeout != "" {
		sec, err := strconv.ParseFloat(cc.APITimeout, 64)
		if err != nil || sec < 0 {
			return o, fmt.Errorf("api_timeout %q is not a number of seconds", cc.APITimeout)
		}
		o.Timeout = time.Duration(sec * float64(time.Second))
	}
	return o, nil
}
