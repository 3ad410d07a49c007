package server

import "testing"

// TestNoAuthProjects: in noauth mode a "noauth:PROJECT" token acts as a
// member of PROJECT, who sees another project's private image only once it
// is shared and accepted; a malformed one is refused.
func TestNoAuthProjects(t *testing.T) {
	ts := startServer(t, Config{})
	id := ts.create(t, map[string]any{"name": "private", "disk_format": "raw", "container_format": "bare"})
	beta := []string{"X-Auth-Token", "noauth:beta"}
	u := ts.URL + "/v2/images/" + id
	wantCode(t, "beta shows admin's private image", do(t, "GET", u, nil, beta...), 404)
	wantCode(t, "beta deletes it", do(t, "DELETE", u, nil, beta...), 404)
	wantCode(t, "admin shares with beta", do(t, "POST", u+"/members", map[string]any{"member": "beta"}), 200)
	wantCode(t, "beta accepts", do(t, "PUT", u+"/members/beta", map[string]any{"status": "accepted"}, beta...), 200)
	r := do(t, "GET", u, nil, beta...)
	wantCode(t, "beta shows the shared image", r, 200)
	if r.code == 200 && r.json(t)["owner"] != NoAuthProject {
		t.Errorf("owner %v, want %s", r.json(t)["owner"], NoAuthProject)
	}
	wantCode(t, "beta deletes the shared image", do(t, "DELETE", u, nil, beta...), 403)
	r = do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "beta's"}, beta...)
	wantCode(t, "beta creates", r, 201)
	if r.code == 201 && r.json(t)["owner"] != "beta" {
		t.Errorf("beta's image is owned by %v", r.json(t)["owner"])
	}
	for _, bad := range []string{"noauth:", "noauth:a/b", "noauth:a b"} {
		wantCode(t, "token "+bad, do(t, "GET", ts.URL+"/v2/images", nil, "X-Auth-Token", bad), 401)
	}
	wantCode(t, "token noauth (admin)", do(t, "GET", u, nil, "X-Auth-Token", "noauth"), 200)
}
