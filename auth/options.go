package auth

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Options says how to reach and authenticate to the Image service. The
// names follow the keystoneauth options (--os-*, OS_*, clouds.yaml).
// The zero value of every field means "not set".
type Options struct {
	// Cloud is the clouds.yaml entry the options came from (informational;
	// Open ignores it).
	Cloud string

	AuthURL string
	// IdentityAPIVersion is "3" or "2.0" (also "2", "v3"...). Empty: taken
	// from AuthURL or discovered.
	IdentityAPIVersion string
	// AuthType is one of password (default), token, v3password, v2password,
	// v3token, v2token, v3applicationcredential, none (alias noauth).
	// When empty it is inferred: application credential options give
	// v3applicationcredential; a token gives token when there is no
	// password or when Endpoint is set.
	AuthType string

	Username, UserID, Password string
	// PasswordFunc, when set and Password is empty, is called for the
	// password the first time a password login is needed (for example to
	// prompt on a terminal), so that nobody is asked while a cached token
	// serves.
	PasswordFunc func() (string, error)

	UserDomainName, UserDomainID       string
	ProjectName, ProjectID             string
	ProjectDomainName, ProjectDomainID string
	// DomainName and DomainID ask for a domain-scoped token when no project
	// is given.
	DomainName, DomainID string
	// DefaultDomainName and DefaultDomainID fill the user and project
	// domains that are not given.
	DefaultDomainName, DefaultDomainID string

	// Token is an existing token: exchanged at Keystone for a scoped one,
	// or used as is together with Endpoint.
	Token string

	ApplicationCredentialID, ApplicationCredentialName, ApplicationCredentialSecret string

	// RegionName selects among catalog endpoints; empty means any region.
	RegionName string
	// Interface is public (default), internal or admin; the v2.0 spellings
	// publicURL, internalURL and adminURL are accepted.
	Interface string
	// ServiceType is the catalog service type, "image" by default.
	ServiceType string
	// Endpoint is the image endpoint to use instead of the catalog's
	// (--os-image-url, OS_IMAGE_URL, image_endpoint_override).
	Endpoint string
	// ImageAPIVersion is the requested Image API major version (clouds.yaml
	// image_api_version, OS_IMAGE_API_VERSION); auth only carries it.
	ImageAPIVersion string

	// CACert is a PEM bundle of trusted CAs, used instead of the system's.
	CACert string
	// Cert and Key are a client certificate and its key (PEM); Key may be
	// empty when Cert holds both.
	Cert, Key string
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Timeout bounds connecting, the TLS handshake and the wait for the
	// response headers of each request. It does not cut off long bodies
	// (image transfers). Zero keeps Go's defaults.
	Timeout time.Duration

	// Cache, when set, keeps tokens between runs; see TokenCache.
	Cache *TokenCache
	// WrapTransport, when set, wraps the TLS transport (below the token
	// handling), for example to log requests. It sees Keystone requests too.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Auth types accepted in Options.AuthType.
const (
	AuthPassword                = "password"
	AuthToken                   = "token"
	AuthV3Password              = "v3password"
	AuthV2Password              = "v2password"
	AuthV3Token                 = "v3token"
	AuthV2Token                 = "v2token"
	AuthV3ApplicationCredential = "v3applicationcredential"
	AuthNone                    = "none"
)

// FromEnv reads the OS_* variables through getenv (os.Getenv in programs).
// Variables that are empty count as unset. OS_ENDPOINT_TYPE (glance's own)
// wins over OS_INTERFACE; OS_PROJECT_* over OS_TENANT_*; OS_AUTH_TOKEN over
// OS_TOKEN.
func FromEnv(getenv func(string) string) Options {
	env := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	o := Options{
		Cloud:                       env("OS_CLOUD"),
		AuthURL:                     env("OS_AUTH_URL"),
		IdentityAPIVersion:          env("OS_IDENTITY_API_VERSION"),
		AuthType:                    env("OS_AUTH_TYPE", "OS_AUTH_PLUGIN"),
		Username:                    env("OS_USERNAME", "OS_USER_NAME"),
		UserID:                      env("OS_USER_ID"),
		Password:                    env("OS_PASSWORD"),
		UserDomainName:              env("OS_USER_DOMAIN_NAME"),
		UserDomainID:                env("OS_USER_DOMAIN_ID"),
		ProjectName:                 env("OS_PROJECT_NAME", "OS_TENANT_NAME"),
		ProjectID:                   env("OS_PROJECT_ID", "OS_TENANT_ID"),
		ProjectDomainName:           env("OS_PROJECT_DOMAIN_NAME"),
		ProjectDomainID:             env("OS_PROJECT_DOMAIN_ID"),
		DomainName:                  env("OS_DOMAIN_NAME"),
		DomainID:                    env("OS_DOMAIN_ID"),
		DefaultDomainName:           env("OS_DEFAULT_DOMAIN_NAME"),
		DefaultDomainID:             env("OS_DEFAULT_DOMAIN_ID"),
		Token:                       env("OS_AUTH_TOKEN", "OS_TOKEN"),
		ApplicationCredentialID:     env("OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialName:   env("OS_APPLICATION_CREDENTIAL_NAME"),
		ApplicationCredentialSecret: env("OS_APPLICATION_CREDENTIAL_SECRET"),
		RegionName:                  env("OS_REGION_NAME"),
		Interface:                   env("OS_ENDPOINT_TYPE", "OS_INTERFACE"),
		ServiceType:                 env("OS_SERVICE_TYPE"),
		Endpoint:                    env("OS_IMAGE_URL"),
		ImageAPIVersion:             env("OS_IMAGE_API_VERSION"),
		CACert:                      env("OS_CACERT"),
		Cert:                        env("OS_CERT"),
		Key:                         env("OS_KEY"),
	}
	o.Insecure, _ = parseBool(env("OS_INSECURE"))
	return o
}

// parseBool accepts the spellings oslo and YAML users write.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	case "", "0", "f", "false", "n", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// Merge returns low with every non-zero field of high copied over it. With
// Resolve's order, flags win over OS_* variables, which win over clouds.yaml.
// A zero value cannot override: Insecure set low stays set.
func Merge(low, high Options) Options {
	lv := reflect.ValueOf(&low).Elem()
	hv := reflect.ValueOf(high)
	for i := range hv.NumField() {
		if f := hv.Field(i); !f.IsZero() {
			lv.Field(i).Set(f)
		}
	}
	return low
}

// Resolve builds the options a command line tool uses: the clouds.yaml
// entry named by flags.Cloud or OS_CLOUD (if any), overlaid with the OS_*
// variables, overlaid with flags.
func Resolve(flags Options, getenv func(string) string) (Options, error) {
	if v := getenv("OS_INSECURE"); v != "" {
		if _, err := parseBool(v); err != nil {
			return Options{}, optErr("insecure", "OS_INSECURE=%q is not a boolean (use true or false)", v)
		}
	}
	env := FromEnv(getenv)
	name := flags.Cloud
	if name == "" {
		name = env.Cloud
	}
	cloud, err := LoadCloud(name, getenv)
	if err != nil {
		return Options{}, err
	}
	return Merge(Merge(cloud, env), flags), nil
}

// normInterface maps the v2.0 names to the v3 ones.
func normInterface(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "public", "publicurl":
		return "public", nil
	case "internal", "internalurl":
		return "internal", nil
	case "admin", "adminurl":
		return "admin", nil
	}
	return "", optErr("interface", "unknown interface %q: use public, internal or admin", s)
}

// identityVersion reduces "3", "v3", "3.14" to 3 and "2", "v2.0" to 2; 0 is unset.
func identityVersion(s string) (int, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "v")
	if t == "" {
		return 0, nil
	}
	major, _, _ := strings.Cut(t, ".")
	switch n, err := strconv.Atoi(major); {
	case err == nil && (n == 2 || n == 3):
		return n, nil
	}
	return 0, optErr("identity_api_version", "unsupported identity API version %q: use 3 or 2.0", s)
}

// method is what a login sends to Keystone.
type method int

const (
	methodNone method = iota
	methodPassword
	methodToken
	methodAppCred
)

// plan is the validated, normalized form of Options that Open follows.
type plan struct {
	o       Options
	method  method
	version int // 0: discover; else 2 or 3
	direct  bool
}

// newPlan checks the options and fills defaults. It contacts nobody.
func newPlan(o Options) (*plan, error) {
	p := &plan{o: o}
	var err error
	if p.o.Interface, err = normInterface(o.Interface); err != nil {
		return nil, err
	}
	if p.o.ServiceType == "" {
		p.o.ServiceType = "image"
	}
	if p.version, err = identityVersion(o.IdentityAPIVersion); err != nil {
		return nil, err
	}

	at := strings.ToLower(strings.ReplaceAll(o.AuthType, "_", ""))
	if at == "" {
		switch {
		case o.ApplicationCredentialID != "" || o.ApplicationCredentialName != "":
			at = AuthV3ApplicationCredential
		case o.Token != "" && (o.Password == "" || o.Endpoint != ""):
			// A token with an image URL is glance's token mode, even when
			// an openrc also supplies a password.
			at = AuthToken
		default:
			at = AuthPassword
		}
	}
	want := 0
	switch at {
	case AuthNone, "noauth":
		if o.Endpoint == "" {
			return nil, optErr("image_endpoint_override", "auth type %q needs the image endpoint: set --os-image-url or OS_IMAGE_URL", o.AuthType)
		}
		p.method, p.direct = methodNone, true
		p.o.AuthType = AuthNone
		return p, nil
	case AuthPassword:
		p.method = methodPassword
	case AuthV3Password, AuthV2Password:
		p.method, want = methodPassword, int(at[1]-'0')
	case AuthToken:
		p.method = methodToken
	case AuthV3Token, AuthV2Token:
		p.method, want = methodToken, int(at[1]-'0')
	case AuthV3ApplicationCredential:
		p.method, want = methodAppCred, 3
	default:
		return nil, optErr("auth_type", "unsupported auth type %q: use password, token, v3password, v2password, v3token, v2token, v3applicationcredential or none", o.AuthType)
	}
	p.o.AuthType = at
	if want != 0 {
		if p.version != 0 && p.version != want {
			return nil, optErr("identity_api_version", "auth type %s contradicts identity API version %s", at, o.IdentityAPIVersion)
		}
		p.version = want
	}

	// An image URL with a token needs no Keystone at all (glance's token mode).
	if p.method == methodToken && o.Token != "" && o.Endpoint != "" {
		p.direct = true
		return p, nil
	}
	if o.AuthURL == "" {
		return nil, optErr("auth_url", "missing auth URL: set --os-auth-url or OS_AUTH_URL (or auth_url in clouds.yaml)")
	}
	if v := urlVersion(o.AuthURL); v != 0 {
		if p.version != 0 && p.version != v {
			return nil, optErr("identity_api_version", "auth URL %s is for identity v%s but v%s was asked for", o.AuthURL, versionName(v), versionName(p.version))
		}
	}
	return p, p.checkCredentials()
}

// checkCredentials validates what does not depend on the identity version;
// checkFor then checks the rest once the version is known.
func (p *plan) checkCredentials() error {
	o := &p.o
	switch p.method {
	case methodPassword:
		if o.Username == "" && o.UserID == "" {
			return optErr("username", "missing user name: set --os-username or OS_USERNAME (or --os-user-id)")
		}
		if o.Password == "" && o.PasswordFunc == nil {
			return optErr("password", "missing password: set --os-password or OS_PASSWORD")
		}
	case methodToken:
		if o.Token == "" {
			return optErr("token", "missing token: set --os-auth-token or OS_AUTH_TOKEN")
		}
	case methodAppCred:
		if o.ApplicationCredentialSecret == "" {
			return optErr("application_credential_secret", "missing application credential secret: set OS_APPLICATION_CREDENTIAL_SECRET")
		}
		if o.ApplicationCredentialID == "" {
			if o.ApplicationCredentialName == "" {
				return optErr("application_credential_id", "missing application credential: set OS_APPLICATION_CREDENTIAL_ID (or its name and the user)")
			}
			if o.UserID == "" && o.Username == "" {
				return optErr("username", "an application credential given by name needs its user: set OS_USERNAME or OS_USER_ID")
			}
		}
		return nil // application credentials carry their own project scope
	}
	if o.ProjectID == "" && o.ProjectName == "" && o.DomainID == "" && o.DomainName == "" {
		return optErr("project_name", "missing project: set --os-project-name or --os-project-id (OS_PROJECT_NAME, OS_PROJECT_ID)")
	}
	return nil
}

// checkFor applies the rules of identity version v and normalizes the
// options the way keystoneauth does: an ID wins over a name.
func (p *plan) checkFor(v int) error {
	o := &p.o
	if v == 2 {
		if p.method == methodAppCred {
			return optErr("auth_type", "application credentials need identity v3")
		}
		if o.ProjectID != "" && o.ProjectName != "" {
			return optErr("project_id", "identity v2.0 takes a tenant name or a tenant ID, not both (got %q and %q)", o.ProjectName, o.ProjectID)
		}
		if p.method == methodPassword && o.Username == "" {
			return optErr("username", "identity v2.0 needs a user name (a user ID is not enough)")
		}
		if o.ProjectID == "" && o.ProjectName == "" {
			return optErr("project_name", "identity v2.0 needs a tenant: set --os-project-name or --os-project-id")
		}
		return nil
	}
	fill := func(name, id *string) {
		if *name == "" && *id == "" {
			*name, *id = o.DefaultDomainName, o.DefaultDomainID
		}
		if *id != "" {
			*name = ""
		}
	}
	switch p.method {
	case methodToken: // the token says who the user is
		o.Username, o.UserID, o.Password, o.UserDomainName, o.UserDomainID = "", "", "", "", ""
	case methodAppCred: // the credential carries its project scope
		if o.ApplicationCredentialID != "" {
			o.Username, o.UserID, o.UserDomainName, o.UserDomainID = "", "", "", ""
		}
		o.ProjectName, o.ProjectID, o.ProjectDomainName, o.ProjectDomainID = "", "", "", ""
		o.DomainName, o.DomainID = "", ""
	}
	if o.UserID != "" {
		o.Username, o.UserDomainName, o.UserDomainID = "", "", ""
	} else if o.Username != "" {
		fill(&o.UserDomainName, &o.UserDomainID)
		if o.UserDomainName == "" && o.UserDomainID == "" {
			return optErr("user_domain_name", "missing domain of user %q: set --os-user-domain-name or --os-user-domain-id (OS_USER_DOMAIN_NAME, e.g. Default)", o.Username)
		}
	}
	if o.ProjectID != "" {
		o.ProjectName, o.ProjectDomainName, o.ProjectDomainID = "", "", ""
	} else if o.ProjectName != "" {
		fill(&o.ProjectDomainName, &o.ProjectDomainID)
		if o.ProjectDomainName == "" && o.ProjectDomainID == "" {
			return optErr("project_domain_name", "missing domain of project %q: set --os-project-domain-name or --os-project-domain-id (OS_PROJECT_DOMAIN_NAME, e.g. Default)", o.ProjectName)
		}
	}
	if o.ProjectID != "" || o.ProjectName != "" {
		o.DomainName, o.DomainID = "", "" // a project scope wins over a domain scope
	} else if o.DomainID != "" {
		o.DomainName = ""
	}
	return nil
}

func versionName(v int) string {
	if v == 2 {
		return "2.0"
	}
	return strconv.Itoa(v)
}
