package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// User is a Keystone v3 password identity scoped to a project. Domains
// are names; empty means "Default".
type User struct {
	Name, Password, Project   string
	UserDomain, ProjectDomain string
}

// PeerUsers are the identities the test peer is set up with.
var PeerUsers = map[Role]User{
	Admin:       {Name: "admin", Password: "admin-secret", Project: "admin"},
	AlphaMember: {Name: "alpha-user", Password: "alpha-secret", Project: "alpha"},
	AlphaReader: {Name: "alpha-reader", Password: "alpha-reader-secret", Project: "alpha"},
	BetaMember:  {Name: "beta-user", Password: "beta-secret", Project: "beta"},
	BetaReader:  {Name: "beta-reader", Password: "beta-reader-secret", Project: "beta"},
}

// KeystoneCredentials returns a Target.Credential that asks the Keystone
// v3 service at authURL (e.g. http://127.0.0.1:5000/v3) for a
// project-scoped token with each user's password.
func KeystoneCredentials(client *http.Client, authURL string, users map[Role]User) func(context.Context, Role) (Credential, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context, r Role) (Credential, error) {
		u, ok := users[r]
		if !ok {
			return Credential{}, fmt.Errorf("no user for role %s", r)
		}
		// The test Keystone is one process without threads and drops
		// connections when it is busy: try a few times.
		var err error
		for i := range 5 {
			var c Credential
			if c, err = keystoneToken(ctx, client, authURL, u); err == nil {
				return c, nil
			}
			if !errors.Is(err, errTransport) {
				return Credential{}, err
			}
			select {
			case <-ctx.Done():
				return Credential{}, ctx.Err()
			case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
			}
		}
		return Credential{}, err
	}
}

// errTransport marks a failure to talk to Keystone at all, as opposed
// to an answer refusing the credentials.
var errTransport = errors.New("keystone unreachable")

func keystoneToken(ctx context.Context, client *http.Client, authURL string, u User) (Credential, error) {
	dom := func(s string) map[string]string {
		if s == "" {
			s = "Default"
		}
		return map[string]string{"name": s}
	}
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods": []string{"password"},
			"password": map[string]any{"user": map[string]any{
				"name": u.Name, "password": u.Password, "domain": dom(u.UserDomain),
			}},
		},
		"scope": map[string]any{"project": map[string]any{
			"name": u.Project, "domain": dom(u.ProjectDomain),
		}},
	}}
	b, err := json.Marshal(body)
	if err != nil {
		return Credential{}, err
	}
	url := strings.TrimRight(authURL, "/") + "/auth/tokens?nocatalog"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return Credential{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", errTransport, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", errTransport, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return Credential{}, fmt.Errorf("keystone: token for %s: %s: %s", u.Name, resp.Status, bytes.TrimSpace(data))
	}
	var tok struct {
		Token struct {
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		return Credential{}, fmt.Errorf("keystone: decoding token: %w", err)
	}
	c := Credential{Token: resp.Header.Get("X-Subject-Token"), ProjectID: tok.Token.Project.ID}
	if c.Token == "" || c.ProjectID == "" {
		return Credential{}, fmt.Errorf("keystone: token for %s lacks X-Subject-Token or project", u.Name)
	}
	return c, nil
}
