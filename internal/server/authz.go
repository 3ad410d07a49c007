package server

import (
	"errors"
	"net/http"

	"github.com/go-glance/glance/internal/policy"
	"github.com/go-glance/glance/internal/store"
)

// Every authorization decision of the API is made here, by Glance's rule
// names; what each rule says lives in internal/policy (Glance 25.1's
// defaults, or the operator's policy file). Handlers decode, authorize,
// change and encode.

// credentials are the caller as the policy engine sees it.
func (c *caller) credentials() *policy.Credentials {
	if c.creds == nil {
		roles := make([]string, 0, len(c.Roles))
		for r := range c.Roles {
			roles = append(roles, r)
		}
		c.creds = &policy.Credentials{UserID: c.UserID, UserDomainID: c.UserDomainID, ProjectID: c.ProjectID,
			ProjectDomainID: c.ProjectDomainID, DomainID: c.DomainID, System: c.System, Roles: roles}
	}
	return c.creds
}

// forbidden turns a policy refusal into Glance's 403.
func forbidden(err error) error {
	var d *policy.Denied
	if errors.As(err, &d) {
		return errorf(http.StatusForbidden, "%s", d.Error())
	}
	return err
}

// authorize enforces a rule whose target is the caller's own project
// (get_images, tasks_api_access, stores_info_detail, cache rules without an
// image, ...).
func (s *Server) authorize(c *caller, rule string) error {
	return forbidden(s.pol.Authorize(rule, c.credentials(), policy.ProjectTarget(c.credentials())))
}

// imageTarget is the target of a check on an existing image.
func imageTarget(c *caller, im *store.Image) *policy.ImageTarget {
	return &policy.ImageTarget{ID: im.ID, Status: im.Status, Visibility: im.Visibility, Name: im.Name, Owner: im.Owner,
		Member: policy.SharedMember(im.Visibility, im.Owner, c.credentials()), Protected: im.Protected,
		Hidden: im.Hidden, MinDisk: im.MinDisk, MinRAM: im.MinRAM, Size: im.Size, VirtualSize: im.VirtualSize,
		DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat, Checksum: im.Checksum,
		OSHashAlgo: im.HashAlgo, OSHashValue: im.HashValue, Properties: im.Properties}
}

// errPolicyNotFound is the 404 Glance answers when a check on an image fails
// and the caller may not even get_image it, so that its existence stays hidden.
func errPolicyNotFound() *apiError {
	return errorf(http.StatusNotFound, "The resource could not be found.")
}

// authorizeImage enforces rule on an image the caller could load, as
// Glance's image policy does: a refusal is a 404 when the caller may not
// get_image it either, else a 403.
func (s *Server) authorizeImage(c *caller, im *store.Image, rule string) error {
	t := imageTarget(c, im)
	err := s.pol.Authorize(rule, c.credentials(), t)
	if err == nil || !errors.Is(err, policy.ErrDenied) {
		return err
	}
	if rule == "get_image" || !s.pol.Allowed("get_image", c.credentials(), t) {
		return errPolicyNotFound()
	}
	return forbidden(err)
}

// authorizeVisibility checks the rule that guards making an image public
// or community (publicize_image, communitize_image), on target t.
func (s *Server) authorizeVisibility(c *caller, visibility string, t policy.Target) error {
	switch visibility {
	case "public":
		return forbidden(s.pol.Authorize("publicize_image", c.credentials(), t))
	case "community":
		return forbidden(s.pol.Authorize("communitize_image", c.credentials(), t))
	}
	return nil
}

// authorizeMember enforces a member rule as Glance's member policy does:
// the caller must be able to get_image the image (else 404), then the rule
// decides (403).
func (s *Server) authorizeMember(c *caller, im *store.Image, rule string) error {
	if err := s.authorizeImage(c, im, "get_image"); err != nil {
		return err
	}
	return forbidden(s.pol.Authorize(rule, c.credentials(), imageTarget(c, im)))
}

// allowedImage is a soft check (no error) of rule on an image.
func (s *Server) allowedImage(c *caller, im *store.Image, rule string) bool {
	return s.pol.Allowed(rule, c.credentials(), imageTarget(c, im))
}

// authorizeNewImage is Glance's check before creating an image from body:
// add_image on the proposed owner (the caller's project unless the body
// names one) and visibility (private unless named), then the rule for a
// public or community image.
func (s *Server) authorizeNewImage(c *caller, body map[string]any, im *store.Image) error {
	visibility := "private"
	if _, named := body["visibility"]; named {
		visibility = im.Visibility
	}
	t := policy.NewImageTarget(im.Owner, visibility)
	if err := s.pol.Authorize("add_image", c.credentials(), t); err != nil {
		if !errors.Is(err, policy.ErrDenied) {
			return err
		}
		if o := t["owner"]; o != c.ProjectID {
			return denied("You are not permitted to create images owned by '%s'", o)
		}
		return forbidden(err)
	}
	return s.authorizeVisibility(c, visibility, t)
}

// authorizeMetadefTarget enforces a metadef rule on target t (a namespace's
// MetadefTarget, or the caller's project for calls on no namespace) as
// Glance's metadef policy does: a refusal is a 404 when the caller may not
// get_metadef_namespace the target either, else a 403.
func (s *Server) authorizeMetadefTarget(c *caller, t policy.Target, rule string) error {
	err := s.pol.Authorize(rule, c.credentials(), t)
	if err == nil || !errors.Is(err, policy.ErrDenied) {
		return err
	}
	if rule == "get_metadef_namespace" || !s.pol.Allowed("get_metadef_namespace", c.credentials(), t) {
		return errPolicyNotFound()
	}
	return forbidden(err)
}

// authorizeMetadef enforces rule on namespace ns.
func (s *Server) authorizeMetadef(c *caller, ns *store.Namespace, rule string) error {
	return s.authorizeMetadefTarget(c, policy.MetadefTarget(ns.Owner, nsVisibility(ns)), rule)
}

// authorizeMetadefs enforces rules that concern no namespace yet (listing
// namespaces or resource types, creating a namespace), on the caller's
// project.
func (s *Server) authorizeMetadefs(c *caller, rules ...string) error {
	for _, rule := range rules {
		if err := s.authorizeMetadefTarget(c, policy.ProjectTarget(c.credentials()), rule); err != nil {
			return err
		}
	}
	return nil
}
