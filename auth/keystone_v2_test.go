package auth

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestV2TenantNameAndID(t *testing.T) {
	f := newFakeKeystone(t)
	for _, tc := range []struct {
		name string
		o    func(*Options)
		want map[string]any
	}{
		{"tenantName", func(o *Options) {}, map[string]any{"tenantName": fakeTenant}},
		{"tenantId", func(o *Options) { o.ProjectName, o.ProjectID = "", fakeTenantID }, map[string]any{"tenantId": fakeTenantID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.v2Options()
			// The domains of a v3 openrc are ignored by v2.0.
			o.UserDomainName, o.ProjectDomainName = "Default", "Default"
			tc.o(&o)
			s := openT(t, o)
			if s.Endpoint() != f.URL+"/public" || s.ProjectID() != fakeTenantID || s.UserID() != fakeUserID {
				t.Errorf("endpoint %q project %q user %q", s.Endpoint(), s.ProjectID(), s.UserID())
			}
			want := map[string]any{"passwordCredentials": map[string]any{"username": fakeUser, "password": fakePassword}}
			for k, v := range tc.want {
				want[k] = v
			}
			if got := f.lastBody()["auth"]; !reflect.DeepEqual(got, want) {
				t.Errorf("login body %v, want %v", got, want)
			}
		})
	}
}

func TestV2BothTenantsIsAnError(t *testing.T) {
	f := newFakeKeystone(t)
	o := f.v2Options()
	o.ProjectID = fakeTenantID
	_, err := Open(context.Background(), o)
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Option != "project_id" || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("got %v", err)
	}
	if f.loginCount() != 0 {
		t.Error("Keystone was asked anyway")
	}
}

func TestV2TokenAuth(t *testing.T) {
	f := newFakeKeystone(t)
	s := openT(t, Options{AuthURL: f.URL + "/v2.0/", Token: fakeGivenToken, ProjectID: fakeTenantID, Username: "ignored"})
	want := map[string]any{"token": map[string]any{"id": fakeGivenToken}, "tenantId": fakeTenantID}
	if got := f.lastBody()["auth"]; !reflect.DeepEqual(got, want) {
		t.Errorf("login body %v, want %v", got, want)
	}
	if tok := mustToken(t, s); tok == fakeGivenToken || !strings.HasPrefix(tok, "tok-") {
		t.Errorf("token %q: want the scoped one Keystone issued", tok)
	}
}

func TestV2EndpointTypes(t *testing.T) {
	f := newFakeKeystone(t)
	for _, tc := range []struct{ iface, region, want string }{
		{"", "", "/public"},
		{"publicURL", "RegionOne", "/public"},
		{"internalURL", "", "/internal"},
		{"internal", "RegionOne", "/internal"},
		{"adminURL", "", "/admin"},
		{"public", "RegionEast", "/east"},
	} {
		o := f.v2Options()
		o.Interface, o.RegionName = tc.iface, tc.region
		s := openT(t, o)
		if s.Endpoint() != f.URL+tc.want {
			t.Errorf("interface %q region %q: %q, want %q", tc.iface, tc.region, s.Endpoint(), f.URL+tc.want)
		}
	}
	o := f.v2Options()
	o.Interface, o.RegionName = "internal", "RegionEast"
	_, err := Open(context.Background(), o)
	var nf *EndpointNotFoundError
	if !errors.As(err, &nf) || !reflect.DeepEqual(nf.Interfaces, []string{"admin", "internal", "public"}) ||
		!reflect.DeepEqual(nf.Regions, []string{"RegionEast", "RegionOne"}) {
		t.Errorf("internal in RegionEast: %v", err)
	}
	o.Interface = "private"
	if _, err := Open(context.Background(), o); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("interface private: %v", err)
	}
}

func TestV2Discovery(t *testing.T) {
	f := newFakeKeystone(t)
	o := f.v2Options()
	o.AuthURL = f.URL
	s := openT(t, o)
	if s.Endpoint() != f.URL+"/public" {
		t.Errorf("endpoint %q", s.Endpoint())
	}

	for _, v := range []Options{{IdentityAPIVersion: "3"}, {AuthType: "v3password"}} {
		o := Merge(o, v)
		_, err := Open(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "identity v3 was asked for but "+f.URL+" offers v2.0") {
			t.Errorf("%+v: %v", v, err)
		}
	}
	o.AuthURL = f.URL + "/v2.0"
	o.IdentityAPIVersion = "3"
	if _, err := Open(context.Background(), o); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("v2.0 URL with version 3: %v", err)
	}
}

func TestV2Refused(t *testing.T) {
	f := newFakeKeystone(t)
	o := f.v2Options()
	o.Password = "wrong"
	_, err := Open(context.Background(), o)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("got %v", err)
	}
	want := "authentication failed: Invalid user / password (HTTP 401 from " + f.URL + "/v2.0/tokens, request ID req-fake-1); check the user name, password, their domains and the project"
	if err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}

	o = f.v2Options()
	o.UserID, o.Username = "u-42", ""
	if _, err := Open(context.Background(), o); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("user ID on v2.0: %v", err)
	}
	o = f.v2Options()
	o.AuthType, o.ApplicationCredentialID, o.ApplicationCredentialSecret = "v3applicationcredential", "x", "y"
	if _, err := Open(context.Background(), o); err == nil || !strings.Contains(err.Error(), "v3") {
		t.Errorf("application credential on v2.0: %v", err)
	}
}
