package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The peer's personas: Keystone lists implied roles in the token, so a
// member is also a reader and an admin is all three.
var (
	admin       = &Credentials{UserID: "admin", ProjectID: "admin-p", Roles: []string{"admin", "member", "reader"}}
	alphaMember = &Credentials{UserID: "alpha-user", ProjectID: "alpha", Roles: []string{"member", "reader"}}
	alphaReader = &Credentials{UserID: "alpha-reader", ProjectID: "alpha", Roles: []string{"reader"}}
	betaMember  = &Credentials{UserID: "beta-user", ProjectID: "beta", Roles: []string{"member", "reader"}}
	betaReader  = &Credentials{UserID: "beta-reader", ProjectID: "beta", Roles: []string{"reader"}}
	sysAdmin    = &Credentials{UserID: "sys", System: "all", Roles: []string{"admin", "member", "reader"}}
	domAdmin    = &Credentials{UserID: "dom", DomainID: "default", Roles: []string{"admin"}}
)

// image returns the target Glance builds for caller c reading an image of
// owner with visibility vis.
func image(owner, vis string, c *Credentials) *ImageTarget {
	return &ImageTarget{ID: "img", Status: "active", Visibility: vis, Owner: &owner,
		Member: SharedMember(vis, &owner, c)}
}

func mustNew(t testing.TB, opts Options) *Enforcer {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestGlanceDefaults(t *testing.T) {
	e := mustNew(t, Options{})
	type row struct {
		rule   string
		c      *Credentials
		target func(c *Credentials) Target
		want   bool
	}
	img := func(owner, vis string) func(*Credentials) Target {
		return func(c *Credentials) Target { return image(owner, vis, c) }
	}
	fixed := func(t Target) func(*Credentials) Target { return func(*Credentials) Target { return t } }
	rows := []row{
		{"get_image", alphaReader, img("alpha", "private"), true},
		{"get_image", betaReader, img("alpha", "private"), false},
		{"get_image", betaReader, img("alpha", "shared"), true},
		{"get_image", betaReader, img("alpha", "public"), true},
		{"get_image", betaReader, img("alpha", "community"), true},
		{"get_image", admin, img("alpha", "private"), true},
		{"get_image", &Credentials{ProjectID: "alpha"}, img("alpha", "private"), false},
		{"modify_image", alphaMember, img("alpha", "private"), true},
		{"modify_image", alphaReader, img("alpha", "private"), false},
		{"modify_image", betaMember, img("alpha", "public"), false},
		{"modify_image", admin, img("alpha", "public"), true},
		{"delete_image", alphaMember, img("alpha", "shared"), true},
		{"delete_image", betaMember, img("alpha", "shared"), false},
		{"publicize_image", alphaMember, img("alpha", "private"), false},
		{"publicize_image", admin, img("alpha", "private"), true},
		{"communitize_image", alphaMember, img("alpha", "private"), true},
		{"communitize_image", betaMember, img("alpha", "private"), false},
		{"download_image", betaReader, img("alpha", "public"), false},
		{"download_image", betaMember, img("alpha", "public"), true},
		{"download_image", betaMember, img("alpha", "shared"), true},
		{"download_image", betaMember, img("alpha", "private"), false},
		{"upload_image", alphaMember, img("alpha", "private"), true},
		{"upload_image", betaMember, img("alpha", "community"), false},
		{"deactivate", alphaMember, img("alpha", "private"), true},
		{"reactivate", alphaReader, img("alpha", "private"), false},
		{"copy_image", alphaMember, img("alpha", "private"), false},
		{"copy_image", admin, img("alpha", "private"), true},
		{"add_member", alphaMember, img("alpha", "shared"), true},
		{"add_member", betaMember, img("alpha", "shared"), false},
		{"delete_member", alphaMember, img("alpha", "shared"), true},
		{"get_members", betaReader, img("alpha", "shared"), true},
		{"get_members", betaReader, img("alpha", "public"), false},
		{"get_member", alphaReader, img("alpha", "shared"), true},
		{"modify_member", betaMember, img("alpha", "shared"), true},
		{"modify_member", betaReader, img("alpha", "shared"), false},
		{"modify_member", alphaMember, img("alpha", "shared"), false}, // the owner is no member
		{"get_image_location", alphaReader, img("alpha", "private"), true},
		{"get_image_location", betaReader, img("alpha", "public"), false},
		{"set_image_location", alphaMember, img("alpha", "private"), true},
		{"delete_image_location", alphaMember, img("alpha", "private"), false},
		{"add_image", alphaMember, fixed(NewImageTarget(strp("alpha"), "private")), true},
		{"add_image", alphaMember, fixed(NewImageTarget(strp("beta"), "private")), false},
		{"add_image", alphaMember, fixed(NewImageTarget(nil, "private")), false},
		{"add_image", alphaReader, fixed(NewImageTarget(strp("alpha"), "private")), false},
		{"add_image", admin, fixed(NewImageTarget(strp("beta"), "public")), true},
		{"get_images", alphaReader, fixed(ProjectTarget(alphaReader)), true},
		{"get_images", &Credentials{ProjectID: "alpha"}, fixed(ProjectTarget(alphaReader)), false},
		{"tasks_api_access", alphaMember, fixed(nil), false},
		{"tasks_api_access", admin, fixed(nil), true},
		{"get_task", alphaReader, fixed(nil), true}, // rule:default, which is "" (registered, unused)
		{"cache_list", alphaMember, fixed(nil), false},
		{"cache_image", admin, img("alpha", "private"), true},
		{"stores_info_detail", alphaMember, fixed(nil), false},
		{"stores_info_detail", admin, fixed(nil), true},
		{"get_metadef_namespace", alphaReader, fixed(MetadefTarget(strp("beta"), "public")), true},
		{"get_metadef_namespace", alphaReader, fixed(MetadefTarget(strp("beta"), "private")), false},
		{"get_metadef_namespace", alphaReader, fixed(MetadefTarget(strp("alpha"), "private")), true},
		{"get_metadef_namespace", alphaReader, fixed(MetadefTarget(nil, "public")), true},
		{"get_metadef_namespaces", alphaReader, fixed(ProjectTarget(alphaReader)), true},
		{"add_metadef_namespace", alphaMember, fixed(ProjectTarget(alphaMember)), false},
		{"add_metadef_namespace", admin, fixed(ProjectTarget(admin)), true},
		{"modify_metadef_tag", admin, fixed(MetadefTarget(strp("alpha"), "private")), true},
	}
	for _, r := range rows {
		if got := e.Allowed(r.rule, r.c, r.target(r.c)); got != r.want {
			t.Errorf("%s for %s of %s: allowed %v, want %v", r.rule, r.c.UserID, r.c.ProjectID, got, r.want)
		}
	}
}

func TestScope(t *testing.T) {
	if got := sysAdmin.Scope(); got != "system" {
		t.Errorf("system token scope %q", got)
	}
	if got := domAdmin.Scope(); got != "domain" {
		t.Errorf("domain token scope %q", got)
	}
	target := image("alpha", "private", sysAdmin)
	lax := mustNew(t, Options{})
	if err := lax.Authorize("get_image", sysAdmin, target); err != nil {
		t.Errorf("scope not enforced: system admin refused: %v", err)
	}
	strict := mustNew(t, Options{EnforceScope: true})
	for _, c := range []*Credentials{sysAdmin, domAdmin} {
		err := strict.Authorize("get_image", c, target)
		var d *Denied
		if !errors.As(err, &d) || !d.Scope || !errors.Is(err, ErrDenied) {
			t.Errorf("scope enforced: %s token got %v, want a scope denial", c.Scope(), err)
		}
	}
	if err := strict.Authorize("get_image", admin, target); err != nil {
		t.Errorf("scope enforced: project admin refused: %v", err)
	}
	// Rules without scope_types are not scope-checked.
	if !strict.Allowed("context_is_admin", sysAdmin, nil) || !strict.IsAdmin(sysAdmin) {
		t.Error("context_is_admin has no scope_types and must hold for a system admin")
	}
}

func TestAuthorizeErrors(t *testing.T) {
	e := mustNew(t, Options{})
	err := e.Authorize("publicize_image", alphaMember, image("alpha", "private", alphaMember))
	var d *Denied
	if !errors.As(err, &d) || d.Rule != "publicize_image" || d.Scope || !errors.Is(err, ErrDenied) {
		t.Fatalf("got %v, want a plain denial of publicize_image", err)
	}
	if want := "You are not authorized to complete publicize_image action."; err.Error() != want {
		t.Errorf("message %q, want Glance's %q", err, want)
	}
	err = e.Authorize("no_such_rule", admin, nil)
	if !errors.Is(err, ErrNotRegistered) || errors.Is(err, ErrDenied) || e.Allowed("no_such_rule", admin, nil) {
		t.Errorf("unregistered rule: %v", err)
	}
	if e.Allowed("get_images", nil, nil) {
		t.Error("nil credentials must be an anonymous caller, refused")
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnknownRuleFallsBackToDefault(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "policy.yaml", `
"publicize_image": "rule:admin_requird"   # a typo: oslo.policy uses "default", which is ""
"delete_image": "rule:nosuch or rule:also_missing"
"stay_out": "rule:missing"
`)
	e := mustNew(t, Options{File: f})
	if !e.Allowed("publicize_image", betaReader, image("alpha", "private", betaReader)) {
		t.Error(`an undefined rule must fall back to "default" (""): allowed`)
	}
	if w := e.Warnings(); len(w) != 4 || !strings.Contains(w[0]+w[1]+w[2]+w[3], `"admin_requird"`) {
		t.Errorf("warnings %q", w)
	}
	e = mustNew(t, Options{File: f, DefaultRule: "context_is_admin"})
	if e.Allowed("publicize_image", betaReader, nil) || !e.Allowed("publicize_image", admin, nil) {
		t.Error("with policy_default_rule = context_is_admin only admins pass")
	}
	e = mustNew(t, Options{File: f, DefaultRule: "missing_too"})
	if e.Allowed("publicize_image", admin, nil) {
		t.Error("with no fallback rule an undefined reference is false")
	}
}

func TestLoops(t *testing.T) {
	for name, body := range map[string]string{
		"pair":    "a: rule:b\nb: rule:a or role:x\n",
		"self":    "get_image: role:admin or rule:get_image\n",
		"default": "default: rule:undefined_name\n",
		"long":    "a: rule:b\nb: not rule:c\nc: (role:x and rule:a)\n",
	} {
		f := writeFile(t, t.TempDir(), "policy.yaml", body)
		_, err := New(Options{File: f})
		if err == nil || !strings.Contains(err.Error(), "loop") {
			t.Errorf("%s: got %v, want a loop error", name, err)
		}
	}
	// Sharing a rule twice is no loop.
	f := writeFile(t, t.TempDir(), "policy.yaml", "a: rule:b and rule:b\nb: role:x\n")
	if _, err := New(Options{File: f}); err != nil {
		t.Errorf("diamond: %v", err)
	}
}

func TestDeprecatedDefaults(t *testing.T) {
	e := mustNew(t, Options{DeprecatedDefaults: true})
	if check, _, _ := e.Check("get_image"); !strings.HasSuffix(check, " or rule:default)") {
		t.Errorf("legacy get_image = %s", check)
	}
	// rule:default is "" or role:admin: anyone, as Glance without secure RBAC.
	if !e.Allowed("modify_image", betaReader, image("alpha", "private", betaReader)) {
		t.Error("legacy defaults let anyone through the policy (Glance checks ownership elsewhere)")
	}
	if e.Allowed("publicize_image", alphaMember, nil) {
		t.Error("publicize_image has no deprecated default: still admin only")
	}
}

func TestIsAdmin(t *testing.T) {
	e := mustNew(t, Options{})
	if !e.IsAdmin(admin) || e.IsAdmin(alphaMember) || e.IsAdmin(nil) {
		t.Error("context_is_admin is role:admin")
	}
	if !e.IsAdmin(&Credentials{Roles: []string{"ADMIN"}}) {
		t.Error("Glance checks context_is_admin before lower-casing roles; role: ignores case")
	}
	f := writeFile(t, t.TempDir(), "p.yaml", `context_is_admin: "role:admin and 'p1':%(project)s and 'u1':%(user)s and False:%(is_admin)s"`)
	e = mustNew(t, Options{File: f})
	c := &Credentials{UserID: "u1", ProjectID: "p1", UserDomainID: "default", ProjectDomainID: "default", Roles: []string{"admin"}}
	if !e.IsAdmin(c) {
		t.Error("context_is_admin's target is the request context (project, user, is_admin)")
	}
}

func TestRulesAndDefaults(t *testing.T) {
	e := mustNew(t, Options{})
	names := e.Rules()
	if len(names) != len(glanceDefaults)+len(newerDefaults) || !slices.IsSorted(names) {
		t.Fatalf("%d rules, sorted %v", len(names), slices.IsSorted(names))
	}
	d := Defaults()
	d[0].Name = "changed"
	if glanceDefaults[0].Name == "changed" {
		t.Error("Defaults must return a copy")
	}
	if _, err := New(Options{Defaults: []Default{{Name: "x", Check: "role:a and"}}}); err == nil {
		t.Error("a default that does not parse must fail New")
	}
	if _, err := New(Options{Defaults: []Default{{Name: "x"}, {Name: "x"}}}); err == nil {
		t.Error("a rule registered twice must fail New")
	}
}
