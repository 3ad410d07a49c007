package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// LimitsAuth are the credentials glanced reads limits with (oslo.limit's
// [oslo_limit] auth options). Keystone shows a project-scoped token only
// its own project's limits, so Glance's guide gives its user a role on the
// system and reads with a system-scoped token. Empty Username: the
// service credentials of KeystoneConfig, project-scoped.
type LimitsAuth struct {
	Username       string
	Password       string
	UserDomainName string // default Default
	// SystemScope asks for a system-scoped token (system_scope = all);
	// else the token is scoped to ProjectName in ProjectDomainName.
	SystemScope       bool
	ProjectName       string
	ProjectDomainName string // default Default
}

// token returns a token to read limits with, renewed when asked or near
// its expiry.
func (l *limiter) token(ctx context.Context, renew bool) (string, error) {
	a := l.cfg.Auth
	if a.Username == "" {
		return l.ks.serviceToken(ctx, renew)
	}
	l.mu.Lock()
	tok, exp := l.tok, l.tokExp
	l.mu.Unlock()
	if !renew && tok != "" && time.Until(exp) > time.Minute {
		return tok, nil
	}
	dom := func(s string) map[string]string {
		if s == "" {
			s = "Default"
		}
		return map[string]string{"name": s}
	}
	user := map[string]any{"name": a.Username, "password": a.Password, "domain": dom(a.UserDomainName)}
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": user}}}
	if a.SystemScope {
		auth["scope"] = map[string]any{"system": map[string]bool{"all": true}}
	} else if a.ProjectName != "" {
		auth["scope"] = map[string]any{"project": map[string]any{"name": a.ProjectName, "domain": dom(a.ProjectDomainName)}}
	}
	b, _ := json.Marshal(map[string]any{"auth": auth})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.ks.cfg.AuthURL+"/auth/tokens?nocatalog", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.ks.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("limits token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("limits token: keystone answered %s", resp.Status)
	}
	var tb tokenBody
	if err := json.NewDecoder(resp.Body).Decode(&tb); err != nil {
		return "", fmt.Errorf("limits token: %w", err)
	}
	l.mu.Lock()
	l.tok, l.tokExp = resp.Header.Get("X-Subject-Token"), tb.Token.ExpiresAt
	tok = l.tok
	l.mu.Unlock()
	return tok, nil
}
