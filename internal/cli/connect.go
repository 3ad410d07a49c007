package cli

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/auth"
)

// authOptions are the global options' auth.Options, with the interface
// --os-endpoint-type or --os-interface gives.
func (a *app) authOptions() auth.Options {
	o := a.g.auth
	o.Interface = cmp.Or(a.g.endpointType, a.g.iface)
	return o
}

// imageClient builds the Image API client on first use: no network and no
// configuration reading happen before a command needs the service.
func (a *app) imageClient(ctx context.Context) (*glance.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	s, err := a.openSession(ctx)
	if err != nil {
		return nil, err
	}
	// The version is given rather than discovered: asking the endpoint for
	// its versions (as python-glanceclient does to pick v1 or v2) would only
	// cost a round trip, the commands being chosen already. An endpoint
	// without v2 answers the first request with 300 and its versions, which
	// the library reports.
	c, err := glance.New(s.Endpoint(), &glance.Options{
		HTTPClient: s.Client(),
		APIVersion: "2",
		UserAgent:  "go-glance-cli/" + glance.Version,
		// --timeout bounds every wait on the server, not a transfer that moves.
		StallTimeout: a.stall,
	})
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}

// openSession logs in (or takes the token, or none) on first use and finds
// the image endpoint.
func (a *app) openSession(ctx context.Context) (*auth.Session, error) {
	if a.session != nil {
		return a.session, nil
	}
	o, err := auth.Resolve(a.authOptions(), a.getenv)
	if err != nil {
		return nil, err
	}
	if err := a.checkVersion(o.ImageAPIVersion); err != nil {
		return nil, err
	}
	if a.g.timeout > 0 {
		o.Timeout = time.Duration(a.g.timeout * float64(time.Second))
	}
	a.stall = o.Timeout
	if a.g.debug {
		o.WrapTransport = a.debugTransport
	}
	if o.Cache, err = a.tokenCache(); err != nil {
		return nil, err
	}
	a.promptPassword(&o)
	s, err := auth.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	if a.g.debug && s.Cached() {
		// No login appears in the log: say where the token came from.
		fmt.Fprintf(a.io.Err, "Using a cached token (user %s, project %s, expires %s); --no-token-cache logs in afresh\n",
			s.UserID(), s.ProjectID(), s.ExpiresAt().UTC().Format(time.RFC3339))
	}
	a.session = s
	return s, nil
}

// run is how a command reaches the server: it builds the client, once the
// command has checked its options, and hands it to do.
func (a *app) run(cmd *cobra.Command, do func(ctx context.Context, c *glance.Client) error) error {
	ctx := cmd.Context()
	c, err := a.imageClient(ctx)
	if err != nil {
		return err
	}
	return do(ctx, c)
}

// runImage is run for a command on one image, which ref names by ID or name.
func (a *app) runImage(cmd *cobra.Command, ref string, do func(ctx context.Context, c *glance.Client, id string) error) error {
	return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
		return resolveID(ctx, c, ref, func(id string) error { return do(ctx, c, id) })
	})
}

// promptPassword arranges for the password to be asked on a terminal when
// a password login lacks one, as python-glanceclient does. The question
// comes only when a login is needed, not while a cached token serves.
func (a *app) promptPassword(o *auth.Options) {
	at := strings.ToLower(o.AuthType)
	if o.Password != "" || (at != "" && !strings.Contains(at, "password")) {
		return
	}
	if o.Token != "" || o.ApplicationCredentialSecret != "" || (o.Username == "" && o.UserID == "") {
		return
	}
	if a.io.ReadPassword == nil {
		return // auth reports the missing password
	}
	o.PasswordFunc = func() (string, error) {
		pw, err := a.io.ReadPassword("OS Password: ")
		if err != nil || pw == "" {
			return "", fmt.Errorf("You must provide a password via either --os-password, env[OS_PASSWORD], or prompted response")
		}
		return pw, nil
	}
}
