package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// sampleProtections is a roles-format protection file as operators write
// them (compare Glance's etc/property-protections-roles.conf.sample).
const sampleProtections = `# property protections, roles format
[^x_member_.*]
create = admin,member
read = admin,member
update = admin,member
delete = admin

[^x_admin_.*]
create = admin
read = admin
update = admin
delete = admin

; set once, never changed
[^x_frozen_.*]
create = @
read = @
update = !
delete = !

[.*]
create = @
read = @
update = @
delete = @
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPropertyProtectionsRoles runs the sample file with the peer's
// users: a member and an admin see and change different properties.
func TestPropertyProtectionsRoles(t *testing.T) {
	peer := testenv.Peer(t)
	member, admin := peer.Token(t, peer.AlphaMember), peer.Token(t, peer.Admin)
	cfg := keystoneConfig(peer)
	cfg.Protections = ProtectionsConfig{File: writeFile(t, "property-protections.conf", sampleProtections)}
	cfg.EnableV1 = true
	ts := startServer(t, cfg)
	as := func(tok string) []string { return []string{"X-Auth-Token", tok, "Content-Type", patchV21} }
	patch := func(tok, id string, ops ...map[string]any) resp {
		return do(t, "PATCH", ts.URL+"/v2/images/"+id, ops, as(tok)...)
	}
	op := func(o, key string, v ...any) map[string]any {
		m := map[string]any{"op": o, "path": "/" + key}
		if len(v) > 0 {
			m["value"] = v[0]
		}
		return m
	}

	r := do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "p", "x_admin_secret": "s"}, "X-Auth-Token", member)
	wantCode(t, "member creates an admin property", r, 403)
	if !strings.Contains(string(r.body), "Attribute 'x_admin_secret' is reserved.") {
		t.Errorf("refusal says %s", r.body)
	}
	r = do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "p", "x_member_note": "n", "x_frozen_id": "1", "plain": "p"}, "X-Auth-Token", member)
	wantCode(t, "member creates", r, 201)
	id := r.json(t)["id"].(string)

	wantCode(t, "admin adds an admin property", patch(admin, id, op("add", "x_admin_secret", "s")), 200)
	show := func(tok string) map[string]any {
		return do(t, "GET", ts.URL+"/v2/images/"+id, nil, "X-Auth-Token", tok).json(t)
	}
	if im := show(member); im["x_admin_secret"] != nil || im["x_member_note"] != "n" {
		t.Errorf("member sees %v", im)
	}
	if im := show(admin); im["x_admin_secret"] != "s" {
		t.Errorf("admin sees %v", im)
	}
	list := do(t, "GET", ts.URL+"/v2/images?name=p", nil, "X-Auth-Token", member).json(t)["images"].([]any)
	for _, im := range list {
		if im.(map[string]any)["x_admin_secret"] != nil {
			t.Errorf("member's list shows the admin property")
		}
	}

	for _, c := range []struct {
		what string
		op   map[string]any
		code int
	}{
		{"member updates a frozen property", op("replace", "x_frozen_id", "2"), 403},
		{"member removes a frozen property", op("remove", "x_frozen_id"), 403},
		{"member removes a member property (admins only)", op("remove", "x_member_note"), 403},
		{"member sets a hidden property (a create to them)", op("add", "x_admin_secret", "mine"), 403},
		{"member removes a hidden property (not there to them)", op("remove", "x_admin_secret"), 409},
		{"member replaces a hidden property (not there to them)", op("replace", "x_admin_secret", "x"), 409},
		{"member updates a member property", op("replace", "x_member_note", "m"), 200},
		{"member adds a free property", op("add", "other", "o"), 200},
	} {
		wantCode(t, c.what, patch(member, id, c.op), c.code)
	}
	if im := show(admin); im["x_admin_secret"] != "s" || im["x_member_note"] != "m" || im["other"] != "o" || im["x_frozen_id"] != "1" {
		t.Errorf("after the member's changes admin sees %v", im)
	}
	// v1's whole-image update follows the same rules; purging keeps what
	// the caller cannot read.
	v1 := func(tok string, h ...string) resp {
		return do(t, "PUT", ts.URL+"/v1/images/"+id, nil, append([]string{"X-Auth-Token", tok}, h...)...)
	}
	wantCode(t, "v1: member changes a frozen property", v1(member, "X-Image-Meta-Property-X_frozen_id", "9",
		"X-Glance-Registry-Purge-Props", "false"), 403)
	wantCode(t, "v1: member purges a member property (admins delete)", v1(member, "X-Image-Meta-Property-X_frozen_id", "1",
		"X-Image-Meta-Property-Other", "o"), 403)
	wantCode(t, "v1: member sets a member property", v1(member, "X-Image-Meta-Property-X_member_note", "v",
		"X-Glance-Registry-Purge-Props", "false"), 200)
	if r := do(t, "HEAD", ts.URL+"/v1/images/"+id, nil, "X-Auth-Token", member); r.h.Get("X-Image-Meta-Property-X_admin_secret") != "" {
		t.Errorf("v1 shows the member the admin property: %v", r.h)
	}
	if im := show(admin); im["x_admin_secret"] != "s" || im["x_member_note"] != "v" || im["x_frozen_id"] != "1" {
		t.Errorf("after the member's v1 changes admin sees %v", im)
	}
	wantCode(t, "admin removes the member property", patch(admin, id, op("remove", "x_member_note")), 200)
	wantCode(t, "admin updates a frozen property", patch(admin, id, op("replace", "x_frozen_id", "2")), 403)
	// Glance's own os_glance_ properties stay settable whatever the file says.
	if _, err := New(t.Context(), Config{DataDir: t.TempDir(), Protections: ProtectionsConfig{File: writeFile(t, "p.conf", "[os_glance.*]\ncreate = !\nread = !\nupdate = !\ndelete = !\n")}}); err != nil {
		t.Fatal(err)
	}
}

// TestPropertyProtectionsPolicies: in the policies format each operation
// names a rule of the policy file.
func TestPropertyProtectionsPolicies(t *testing.T) {
	peer := testenv.Peer(t)
	member, admin := peer.Token(t, peer.AlphaMember), peer.Token(t, peer.Admin)
	cfg := keystoneConfig(peer)
	cfg.PolicyFile = writeFile(t, "policy.yaml", "\"prot_admin\": \"role:admin\"\n\"prot_anyone\": \"\"\n")
	cfg.Protections = ProtectionsConfig{Format: "policies", File: writeFile(t, "prot.conf",
		"[^x_pol_.*]\ncreate = prot_admin\nread = prot_anyone\nupdate = prot_admin\ndelete = prot_admin\n\n[.*]\ncreate = @\nread = @\nupdate = @\ndelete = @\n")}
	ts := startServer(t, cfg)
	wantCode(t, "member creates a protected property",
		do(t, "POST", ts.URL+"/v2/images", map[string]any{"x_pol_a": "1"}, "X-Auth-Token", member), 403)
	r := do(t, "POST", ts.URL+"/v2/images", map[string]any{"x_pol_a": "1"}, "X-Auth-Token", admin)
	wantCode(t, "admin creates a protected property", r, 201)
	if r.json(t)["x_pol_a"] != "1" {
		t.Errorf("admin's image %s", r.body)
	}
}

// TestPropertyProtectionFileErrors: Glance refuses to start on a file that
// is missing or malformed; so does glanced, naming the problem.
func TestPropertyProtectionFileErrors(t *testing.T) {
	full := "create = @\nread = @\nupdate = @\ndelete = @\n"
	for _, c := range []struct {
		what, text, format, want string
	}{
		{"missing operation", "[.*]\ncreate = @\nread = @\nupdate = @\n", "", "no delete entry"},
		{"@ and !", "[.*]\ncreate = @,!\nread = @\nupdate = @\ndelete = @\n", "", "mutually exclusive"},
		{"bad expression", "[x(]\n" + full, "", "malformed"},
		{"two policies", "[.*]\ncreate = a,b\nread = a\nupdate = a\ndelete = a\n", "policies", "multiple policies"},
		{"section twice", "[a]\n" + full + "[a]\n" + full, "", "twice"},
		{"key outside a section", "create = @\n", "", "expected [section]"},
		{"unknown format", "[.*]\n" + full, "yaml", "roles or policies"},
	} {
		_, err := New(t.Context(), Config{DataDir: t.TempDir(), Protections: ProtectionsConfig{File: writeFile(t, "p.conf", c.text), Format: c.format}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.what, err, c.want)
		}
	}
	if _, err := New(t.Context(), Config{DataDir: t.TempDir(), Protections: ProtectionsConfig{File: filepath.Join(t.TempDir(), "none.conf")}}); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestParseINI covers the parts of configparser's dialect that protection
// files use: comments, both separators, case of keys, continuation lines.
func TestParseINI(t *testing.T) {
	secs, err := parseINI([]byte("# c\n[^a.*]\nCreate: admin,\n  member\nread=@\n; c\n\n[b]\nupdate = \n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 2 || secs[0].name != "^a.*" || secs[0].values["create"] != "admin,\nmember" || secs[0].values["read"] != "@" ||
		secs[1].values["update"] != "" {
		t.Fatalf("sections %+v", secs)
	}
	p := &propRules{}
	roles, err := p.parseEntry("s", "create", secs[0].values["create"])
	if err != nil || strings.Join(roles, " ") != "admin member" {
		t.Errorf("roles %q %v", roles, err)
	}
}
