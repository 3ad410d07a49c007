// Package auth turns what an OpenStack user already has (flags, OS_*
// variables, clouds.yaml, a token, an image URL) into an authenticated
// *http.Client and the Image API endpoint.
//
// The usual flow is:
//
//	o, err := auth.Resolve(flagOpts, os.Getenv) // clouds.yaml < OS_* < flags
//	s, err := auth.Open(ctx, o)                 // log in, find the endpoint
//	c, err := glance.New(s.Endpoint(), &glance.Options{HTTPClient: s.Client()})
//
// The client returned by [Session.Client] sends X-Auth-Token on every request
// and, when the service answers 401, logs in again once and replays the
// request if its body can be replayed (req.Body == nil or req.GetBody set);
// otherwise the request fails with [ErrBodyNotReplayable].
//
// # Keystone
//
// Tokens are issued by gophercloud's identity packages: v3
// (openstack/identity/v3/tokens: password by user name or ID, token,
// application credential) and v2.0 (openstack/identity/v2/tokens:
// passwordCredentials or token, with tenantName or tenantId). This package
// does the rest itself: merging options field by field (which is why
// clouds.yaml and secure.yaml are parsed here and not by gophercloud's
// parser), choosing the identity version, looking up the catalog with
// errors that say what exists, the transport and its re-authentication,
// TLS, timeouts and the token cache.
//
// Version selection is also done here rather than by gophercloud, because
// an auth URL that already names a version (/v3, /v2.0) must be used as
// given, while an unversioned one (e.g. http://host/identity) is asked
// GET / and the best of v3 and v2.0 it offers is used, honouring
// IdentityAPIVersion and version-specific auth types.
//
// A login is resent by net/http when the pooled connection it went out on
// had been closed by the server (uwsgi closes them eagerly): issuing a
// second token is harmless.
//
// Options.WrapTransport sees every request, Keystone logins included, whose
// bodies carry passwords and secrets: a logger must redact them.
//
// # Token cache
//
// A [TokenCache] keeps tokens obtained by password, application credential
// or v2.0 login, with their catalog, in files readable only by their owner;
// see its documentation for the rules. Tokens given explicitly are never
// cached.
package auth
