package testenv

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
)

// TestPeer checks the description against the running peer: every user logs in
// with the role it is said to have, and Glance answers where the catalog says.
func TestPeer(t *testing.T) {
	c := Peer(t)
	for _, u := range c.Users() {
		a := c.Auth(t, u)
		if again := c.Auth(t, u); again != a {
			t.Errorf("%s: second Auth made a new token", u.Name)
		}
		req, _ := http.NewRequest("GET", c.KeystoneURL+"/auth/tokens", nil)
		req.Header.Set("X-Auth-Token", a.Token)
		req.Header.Set("X-Subject-Token", a.Token)
		resp, err := keystoneClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: validating its token: %s", u.Name, resp.Status)
		}
	}

	// The admin has a role on the system too (keystone-manage bootstrap).
	if a := c.SystemAuth(t, c.Admin); a.ProjectID != "" || a.Token == c.Token(t, c.Admin) {
		t.Errorf("system token for admin: project %q, same token as the project one: %v",
			a.ProjectID, a.Token == c.Token(t, c.Admin))
	}

	tok := c.Token(t, c.AlphaReader)
	for _, base := range []string{c.GlanceURL, c.PrefixURL} {
		req, _ := http.NewRequest("GET", base+"/v2/images?limit=1", nil)
		req.Header.Set("X-Auth-Token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s/v2/images as a reader: %s", base, resp.Status)
		}
	}
	if _, err := http.Get(c.DeadURL + "/versions"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("GET %s/versions: %v, want connection refused", c.DeadURL, err)
	}
}
