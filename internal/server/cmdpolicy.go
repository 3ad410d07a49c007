package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/webfetch"
)

// policySettings are the command-line settings of the policy engine and of
// web-download's sources.
var policySettings = []setting{
	{"policy-file", "GLANCED_POLICY_FILE", "oslo.policy file (YAML or JSON) overriding Glance's default rules, as Glance's policy.yaml"},
	{"enforce-scope", "GLANCED_ENFORCE_SCOPE", "refuse system- and domain-scoped tokens on project resources, as oslo.policy's enforce_scope (default true)"},
	{"import-allowed-schemes", "GLANCED_IMPORT_ALLOWED_SCHEMES", "URI schemes web-download may fetch, comma-separated (default http,https)"},
	{"import-disallowed-schemes", "GLANCED_IMPORT_DISALLOWED_SCHEMES", "URI schemes web-download refuses, when no allowed list is set"},
	{"import-allowed-hosts", "GLANCED_IMPORT_ALLOWED_HOSTS", "hosts web-download may fetch from, comma-separated; a listed host may be on loopback or a private network"},
	{"import-disallowed-hosts", "GLANCED_IMPORT_DISALLOWED_HOSTS", "hosts web-download refuses, when no allowed list is set"},
	{"import-allowed-ports", "GLANCED_IMPORT_ALLOWED_PORTS", "ports web-download may connect to, comma-separated, or * for any (default 80,443)"},
	{"import-disallowed-ports", "GLANCED_IMPORT_DISALLOWED_PORTS", "ports web-download refuses, when no allowed list is set"},
	{"import-allow-private", "GLANCED_IMPORT_ALLOW_PRIVATE", "let web-download reach private (RFC 1918, ULA, CGNAT) addresses, as Glance does (default false)"},
	{"web-download-connect-timeout", "GLANCED_WEB_DOWNLOAD_CONNECT_TIMEOUT", "time to resolve and connect to a web-download source (default 30s)"},
	{"web-download-idle-timeout", "GLANCED_WEB_DOWNLOAD_IDLE_TIMEOUT", "a web-download source sending nothing for this long fails the import (default 60s)"},
	{"web-download-max-concurrent", "GLANCED_WEB_DOWNLOAD_MAX_CONCURRENT", "web-download imports fetching at once (default 10)"},
}

// policyFile holds the same settings in the YAML file.
type policyFile struct {
	PolicyFile         string `yaml:"policy-file"`
	EnforceScope       string `yaml:"enforce-scope"`
	ImportFilteringOps struct {
		AllowedSchemes    string `yaml:"allowed-schemes"`
		DisallowedSchemes string `yaml:"disallowed-schemes"`
		AllowedHosts      string `yaml:"allowed-hosts"`
		DisallowedHosts   string `yaml:"disallowed-hosts"`
		AllowedPorts      string `yaml:"allowed-ports"`
		DisallowedPorts   string `yaml:"disallowed-ports"`
		AllowPrivate      string `yaml:"allow-private"`
	} `yaml:"import-filtering"`
	WebDownload struct {
		ConnectTimeout string `yaml:"connect-timeout"`
		IdleTimeout    string `yaml:"idle-timeout"`
		MaxConcurrent  string `yaml:"max-concurrent"`
	} `yaml:"web-download"`
}

func init() {
	registerFeature(feature{order: 20, settings: policySettings, file: policyFile{}, load: loadPolicy})
}

func (f policyFile) values() map[string]string {
	i, w := f.ImportFilteringOps, f.WebDownload
	return map[string]string{
		"policy-file": f.PolicyFile, "enforce-scope": f.EnforceScope,
		"import-allowed-schemes": i.AllowedSchemes, "import-disallowed-schemes": i.DisallowedSchemes,
		"import-allowed-hosts": i.AllowedHosts, "import-disallowed-hosts": i.DisallowedHosts,
		"import-allowed-ports": i.AllowedPorts, "import-disallowed-ports": i.DisallowedPorts,
		"import-allow-private":         i.AllowPrivate,
		"web-download-connect-timeout": w.ConnectTimeout, "web-download-idle-timeout": w.IdleTimeout,
		"web-download-max-concurrent": w.MaxConcurrent,
	}
}

// loadPolicy sets the policy and web-download parts of cfg from the
// settings get resolves; an empty value keeps the default.
func loadPolicy(get func(string) string, cfg *Config) error {
	cfg.PolicyFile = get("policy-file")
	if v := get("enforce-scope"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("enforce-scope: %q is not true or false", v)
		}
		cfg.EnforceScope = &b
	}
	f := webfetch.DefaultFilter()
	list := func(name string, dst *[]string) {
		if v := get(name); v != "" {
			*dst = splitList(v)
		}
	}
	list("import-allowed-schemes", &f.AllowedSchemes)
	list("import-disallowed-schemes", &f.DisallowedSchemes)
	list("import-allowed-hosts", &f.AllowedHosts)
	list("import-disallowed-hosts", &f.DisallowedHosts)
	var err error
	if v := get("import-allowed-ports"); v == "*" {
		f.AllowedPorts = nil
	} else if v != "" {
		if f.AllowedPorts, err = ports("import-allowed-ports", v); err != nil {
			return err
		}
	}
	if v := get("import-disallowed-ports"); v != "" {
		if f.DisallowedPorts, err = ports("import-disallowed-ports", v); err != nil {
			return err
		}
	}
	if v := get("import-allow-private"); v != "" {
		if f.AllowPrivate, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("import-allow-private: %q is not true or false", v)
		}
	}
	wd := &cfg.WebDownload
	wd.Filter = &f
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"web-download-connect-timeout", &wd.ConnectTimeout}, {"web-download-idle-timeout", &wd.IdleTimeout}} {
		if v := get(d.name); v != "" {
			if *d.dst, err = time.ParseDuration(v); err != nil || *d.dst <= 0 {
				return fmt.Errorf("%s: %q is not a positive duration such as 30s", d.name, v)
			}
		}
	}
	if v := get("web-download-max-concurrent"); v != "" {
		if wd.MaxConcurrent, err = strconv.Atoi(v); err != nil || wd.MaxConcurrent <= 0 {
			return fmt.Errorf("web-download-max-concurrent: %q is not a positive number", v)
		}
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func ports(name, v string) ([]int, error) {
	var out []int
	for _, s := range splitList(v) {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%s: %q is not a port number", name, s)
		}
		out = append(out, p)
	}
	return out, nil
}
