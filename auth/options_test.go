package auth

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	got := FromEnv(envOf(map[string]string{
		"OS_CLOUD": "c", "OS_AUTH_URL": "http://k/v3", "OS_IDENTITY_API_VERSION": "3", "OS_AUTH_TYPE": "v3password",
		"OS_USERNAME": "u", "OS_USER_ID": "uid", "OS_PASSWORD": "p",
		"OS_USER_DOMAIN_NAME": "ud", "OS_USER_DOMAIN_ID": "udi", "OS_PROJECT_NAME": "pn", "OS_TENANT_NAME": "tn",
		"OS_PROJECT_ID": "", "OS_TENANT_ID": "ti", "OS_PROJECT_DOMAIN_NAME": "pd", "OS_PROJECT_DOMAIN_ID": "pdi",
		"OS_DOMAIN_NAME": "dn", "OS_DOMAIN_ID": "di", "OS_DEFAULT_DOMAIN_NAME": "ddn", "OS_DEFAULT_DOMAIN_ID": "ddi",
		"OS_TOKEN": "tok2", "OS_AUTH_TOKEN": "tok1",
		"OS_APPLICATION_CREDENTIAL_ID": "aci", "OS_APPLICATION_CREDENTIAL_NAME": "acn", "OS_APPLICATION_CREDENTIAL_SECRET": "acs",
		"OS_REGION_NAME": "r", "OS_INTERFACE": "internal", "OS_ENDPOINT_TYPE": "adminURL", "OS_SERVICE_TYPE": "st",
		"OS_IMAGE_URL": "http://g", "OS_IMAGE_API_VERSION": "2", "OS_CACERT": "ca", "OS_CERT": "c.pem", "OS_KEY": "k.pem",
		"OS_INSECURE": "True",
	}))
	want := Options{
		Cloud: "c", AuthURL: "http://k/v3", IdentityAPIVersion: "3", AuthType: "v3password",
		Username: "u", UserID: "uid", Password: "p", UserDomainName: "ud", UserDomainID: "udi",
		ProjectName: "pn", ProjectID: "ti", ProjectDomainName: "pd", ProjectDomainID: "pdi",
		DomainName: "dn", DomainID: "di", DefaultDomainName: "ddn", DefaultDomainID: "ddi", Token: "tok1",
		ApplicationCredentialID: "aci", ApplicationCredentialName: "acn", ApplicationCredentialSecret: "acs",
		RegionName: "r", Interface: "adminURL", ServiceType: "st", Endpoint: "http://g", ImageAPIVersion: "2",
		CACert: "ca", Cert: "c.pem", Key: "k.pem", Insecure: true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	got = FromEnv(envOf(map[string]string{"OS_TENANT_NAME": "tn", "OS_TOKEN": "t2", "OS_INTERFACE": "internal", "OS_AUTH_PLUGIN": "token"}))
	if got.ProjectName != "tn" || got.Token != "t2" || got.Interface != "internal" || got.AuthType != "token" {
		t.Errorf("fallbacks: %+v", got)
	}
	if FromEnv(envOf(map[string]string{"OS_INSECURE": "false"})).Insecure {
		t.Error("OS_INSECURE=false")
	}
}

func TestMerge(t *testing.T) {
	wrap := func(rt http.RoundTripper) http.RoundTripper { return rt }
	low := Options{AuthURL: "a", Username: "low", Password: "lp", Insecure: true, Timeout: time.Second}
	high := Options{Username: "high", Timeout: 2 * time.Second, WrapTransport: wrap, Cache: &TokenCache{}}
	got := Merge(low, high)
	if got.AuthURL != "a" || got.Username != "high" || got.Password != "lp" || !got.Insecure ||
		got.Timeout != 2*time.Second || got.WrapTransport == nil || got.Cache == nil {
		t.Errorf("got %+v", got)
	}
	if low.Username != "low" {
		t.Error("Merge changed its argument")
	}
}

func TestPlanErrors(t *testing.T) {
	ok := Options{AuthURL: "http://k/v3", Username: "u", Password: "p", ProjectName: "pr", UserDomainName: "D", ProjectDomainID: "d"}
	for _, tc := range []struct {
		change Options
		clear  func(*Options)
		option string
		msg    string
	}{
		{clear: func(o *Options) { o.AuthURL = "" }, option: "auth_url", msg: "missing auth URL"},
		{clear: func(o *Options) { o.Username = "" }, option: "username", msg: "missing user name"},
		{clear: func(o *Options) { o.Password = "" }, option: "password", msg: "missing password"},
		{clear: func(o *Options) { o.ProjectName = "" }, option: "project_name", msg: "missing project"},
		{clear: func(o *Options) { o.UserDomainName = "" }, option: "user_domain_name", msg: `missing domain of user "u"`},
		{clear: func(o *Options) { o.ProjectDomainID = "" }, option: "project_domain_name", msg: `missing domain of project "pr"`},
		{change: Options{AuthType: "v3totp"}, option: "auth_type", msg: `unsupported auth type "v3totp"`},
		{change: Options{AuthType: "v2password"}, option: "identity_api_version", msg: "is for identity v3 but v2.0 was asked for"},
		{change: Options{IdentityAPIVersion: "4"}, option: "identity_api_version", msg: `unsupported identity API version "4"`},
		{change: Options{Interface: "private"}, option: "interface", msg: `unknown interface "private"`},
		{change: Options{AuthType: "token"}, option: "token", msg: "missing token"},
		{change: Options{AuthType: "v3applicationcredential", ApplicationCredentialID: "x"}, option: "application_credential_secret", msg: "missing application credential secret"},
		{change: Options{AuthType: "v3applicationcredential", ApplicationCredentialSecret: "x"}, option: "application_credential_id", msg: "missing application credential"},
		{change: Options{ApplicationCredentialName: "n", ApplicationCredentialSecret: "x"}, clear: func(o *Options) { o.Username = "" }, option: "username", msg: "needs its user"},
	} {
		o := Merge(ok, tc.change)
		if tc.clear != nil {
			tc.clear(&o)
		}
		err := check(o)
		var oe *OptionError
		if !errors.As(err, &oe) || !errors.Is(err, ErrInvalidOptions) || oe.Option != tc.option || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%+v: got %v (%+v), want %s: %s", tc.change, err, oe, tc.option, tc.msg)
		}
	}
	if err := check(ok); err != nil {
		t.Errorf("good options: %v", err)
	}
}

// check runs the validation Open does before and after version selection.
func check(o Options) error {
	p, err := newPlan(o)
	if err != nil {
		return err
	}
	v := p.version
	if v == 0 {
		v = urlVersion(o.AuthURL)
	}
	return p.checkFor(v)
}

func TestPlanNormalizes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want Options
		method   method
	}{
		{"default domain fills both", Options{Username: "u", Password: "p", ProjectName: "pr", DefaultDomainID: "dd"},
			Options{Username: "u", Password: "p", ProjectName: "pr", DefaultDomainID: "dd", UserDomainID: "dd", ProjectDomainID: "dd"}, methodPassword},
		{"IDs win over names", Options{Username: "u", UserID: "uid", UserDomainName: "D", Password: "p", ProjectName: "pr", ProjectID: "pid", ProjectDomainName: "D", DomainName: "D"},
			Options{UserID: "uid", Password: "p", ProjectID: "pid"}, methodPassword},
		{"domain ID wins over name", Options{Username: "u", UserDomainName: "D", UserDomainID: "d", Password: "p", DomainID: "x", DomainName: "X"},
			Options{Username: "u", UserDomainID: "d", Password: "p", DomainID: "x"}, methodPassword},
		{"token drops the user", Options{Token: "t", Username: "u", UserDomainName: "D", ProjectID: "pid"},
			Options{Token: "t", ProjectID: "pid"}, methodToken},
		{"app cred by ID drops user and scope", Options{ApplicationCredentialID: "a", ApplicationCredentialSecret: "s", Username: "u", ProjectName: "p", ProjectDomainName: "D"},
			Options{ApplicationCredentialID: "a", ApplicationCredentialSecret: "s"}, methodAppCred},
		{"app cred by name keeps the user", Options{ApplicationCredentialName: "a", ApplicationCredentialSecret: "s", Username: "u", UserDomainName: "D", ProjectID: "p"},
			Options{ApplicationCredentialName: "a", ApplicationCredentialSecret: "s", Username: "u", UserDomainName: "D"}, methodAppCred},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.AuthURL = "http://k/v3"
			p, err := newPlan(tc.in)
			if err == nil {
				err = p.checkFor(3)
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.AuthURL, tc.want.Interface, tc.want.ServiceType = "http://k/v3", "public", "image"
			tc.want.AuthType = p.o.AuthType
			if p.method != tc.method || !reflect.DeepEqual(p.o, tc.want) {
				t.Errorf("method %v, options\n%+v\nwant\n%+v", p.method, p.o, tc.want)
			}
		})
	}
}
