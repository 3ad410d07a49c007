package policy

import (
	"strconv"
	"strings"
)

// Credentials are what oslo.policy sees of the caller in Glance 25.1: the
// values of oslo.context's to_policy_values(), taken from the headers that
// keystonemiddleware sets after validating the token. An empty string stands
// for Python's None, which checks compare as the text "None".
type Credentials struct {
	UserID, UserDomainID       string
	ProjectID, ProjectDomainID string // the token's project, for a project-scoped token
	DomainID                   string // the token's domain, for a domain-scoped token
	System                     string // "all" for a system-scoped token, else ""
	// Roles as Glance holds them: it lower-cases the names from X-Roles.
	// role: checks ignore case; a generic roles:NAME check does not.
	Roles []string
	// NotAdminProject is true when X-Is-Admin-Project says "False"; oslo.context
	// takes a missing header as true.
	NotAdminProject bool
	// The service token's identity, from X-Service-* headers, if one was sent.
	ServiceUserID, ServiceUserDomainID       string
	ServiceProjectID, ServiceProjectDomainID string
	ServiceRoles                             []string
}

// Scope returns the token's scope as oslo.policy decides it for scope_types:
// "system" when a system scope is set, "domain" when a domain is, otherwise
// "project".
func (c *Credentials) Scope() string {
	switch {
	case c.System != "":
		return "system"
	case c.DomainID != "":
		return "domain"
	}
	return "project"
}

// credential reads one credential as oslo.policy sees it: a scalar as
// Python's str() prints it (ok false when the key is absent), or a list.
type credential struct {
	scalar func(c *Credentials) (v string, ok bool)
	list   func(c *Credentials) []string
}

func scalar(f func(c *Credentials) string) credential {
	return credential{scalar: func(c *Credentials) (string, bool) { return orNone(f(c)), true }}
}

// credKeys are the credential names a generic check can test. Glance passes
// no "is_admin": is_admin:True never matches in Glance 25.1.
var credKeys = map[string]credential{
	"user_id":                   scalar(func(c *Credentials) string { return c.UserID }),
	"user_domain_id":            scalar(func(c *Credentials) string { return c.UserDomainID }),
	"system_scope":              scalar(func(c *Credentials) string { return c.System }),
	"domain_id":                 scalar(func(c *Credentials) string { return c.DomainID }),
	"project_id":                scalar(func(c *Credentials) string { return c.ProjectID }),
	"project_domain_id":         scalar(func(c *Credentials) string { return c.ProjectDomainID }),
	"is_admin_project":          scalar(func(c *Credentials) string { return pyBool(!c.NotAdminProject) }),
	"service_user_id":           scalar(func(c *Credentials) string { return c.ServiceUserID }),
	"service_user_domain_id":    scalar(func(c *Credentials) string { return c.ServiceUserDomainID }),
	"service_project_id":        scalar(func(c *Credentials) string { return c.ServiceProjectID }),
	"service_project_domain_id": scalar(func(c *Credentials) string { return c.ServiceProjectDomainID }),
	// oslo.policy adds "system" for system-scoped tokens only.
	"system":        {scalar: func(c *Credentials) (string, bool) { return c.System, c.System != "" }},
	"roles":         {list: func(c *Credentials) []string { return c.Roles }},
	"service_roles": {list: func(c *Credentials) []string { return c.ServiceRoles }},
}

// match evaluates a generic check on credential k: the filled right side
// must equal the credential, or one element of a list credential.
func (c *Credentials) match(k credential, m *template, t Target) bool {
	if k.list == nil {
		v, ok := k.scalar(c)
		eq, _ := m.compare(t, v)
		return ok && eq
	}
	for _, v := range k.list(c) {
		if eq, ok := m.compare(t, v); eq || !ok {
			return eq
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

func ptrOrNone(s *string) string {
	if s == nil {
		return "None"
	}
	return *s
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// Target is the object of a check: %(key)s in a rule reads Lookup(key), and a
// missing key makes that check false. Values are text as Python's str()
// prints them ("None", "True", "0").
type Target interface {
	Lookup(key string) (value string, ok bool)
}

// Fields is a Target held in a map, for the plain dictionaries Glance passes.
type Fields map[string]string

// Lookup returns f[key].
func (f Fields) Lookup(key string) (string, bool) {
	v, ok := f[key]
	return v, ok
}

// ProjectTarget is the target Glance 25.1 builds from the caller alone:
// {"project_id": caller's project}. It serves get_images, and the metadef
// checks made with no namespace at hand (listing namespaces, creating one,
// listing resource types).
func ProjectTarget(c *Credentials) Fields {
	return Fields{"project_id": orNone(c.ProjectID)}
}

// NewImageTarget is the target of add_image (and of the publicize_image or
// communitize_image check it makes for the requested visibility): the
// proposed owner (the caller's project unless the request names one, nil for
// an explicit null) and visibility ("private" unless requested).
func NewImageTarget(owner *string, visibility string) Fields {
	o := ptrOrNone(owner)
	return Fields{"project_id": o, "owner": o, "visibility": visibility}
}

// MetadefTarget is the target of a metadef check made on a namespace or
// anything in it: the namespace's owner (nil when it has none) and
// visibility.
func MetadefTarget(owner *string, visibility string) Fields {
	return Fields{"project_id": ptrOrNone(owner), "visibility": visibility}
}

// ImageTarget is the target of every check on an image that exists: image
// rules, member rules (with the image, not the member) and cache rules given
// an image. It answers keys as Glance 25.1's ImageTarget does: an attribute of
// the image, with "id", "project_id" and "member_id" standing for image_id,
// owner and member, or else a custom property of that name. tags, locations,
// created_at, updated_at and extra_properties are left out (Glance would
// compare their Python repr).
type ImageTarget struct {
	ID, Status, Visibility            string
	Name                              *string
	Owner                             *string // nil: the image has no owner
	Member                            *string // see SharedMember
	Protected, Hidden                 bool
	MinDisk, MinRAM                   int64
	Size, VirtualSize                 *int64
	DiskFormat, ContainerFormat       *string
	Checksum, OSHashAlgo, OSHashValue *string
	Properties                        map[string]string
}

// SharedMember returns the image's "member" as Glance sets it when it reads
// an image for a caller: the caller's project when the image is shared and
// the caller does not own it, else nil. Glance only finds a shared image for
// a project that is one of its members (in any status) or for an admin, so
// project_id:%(member_id)s holds for every non-owner who can load it.
func SharedMember(visibility string, owner *string, c *Credentials) *string {
	if visibility != "shared" || c.ProjectID == "" || ptrOrNone(owner) == c.ProjectID {
		return nil // a caller with no project sets None, which prints the same
	}
	p := c.ProjectID
	return &p
}

// Lookup answers a key as Glance's ImageTarget does.
func (im *ImageTarget) Lookup(key string) (string, bool) {
	switch key {
	case "id", "image_id":
		return im.ID, true
	case "project_id", "owner":
		return ptrOrNone(im.Owner), true
	case "member_id", "member":
		return ptrOrNone(im.Member), true
	case "name":
		return ptrOrNone(im.Name), true
	case "status":
		return im.Status, true
	case "visibility":
		return im.Visibility, true
	case "protected":
		return pyBool(im.Protected), true
	case "os_hidden":
		return pyBool(im.Hidden), true
	case "min_disk":
		return strconv.FormatInt(im.MinDisk, 10), true
	case "min_ram":
		return strconv.FormatInt(im.MinRAM, 10), true
	case "size":
		return intOrNone(im.Size), true
	case "virtual_size":
		return intOrNone(im.VirtualSize), true
	case "disk_format":
		return ptrOrNone(im.DiskFormat), true
	case "container_format":
		return ptrOrNone(im.ContainerFormat), true
	case "checksum":
		return ptrOrNone(im.Checksum), true
	case "os_hash_algo":
		return ptrOrNone(im.OSHashAlgo), true
	case "os_hash_value":
		return ptrOrNone(im.OSHashValue), true
	}
	v, ok := im.Properties[key]
	return v, ok
}

func intOrNone(v *int64) string {
	if v == nil {
		return "None"
	}
	return strconv.FormatInt(*v, 10)
}

// contextTarget is the target of context_is_admin: oslo.context's to_dict()
// of the request context, as Glance builds it before it lower-cases roles
// (auth_token and request ids are left out).
func contextTarget(c *Credentials) Fields {
	idt := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	roles := make([]string, len(c.Roles))
	for i, r := range c.Roles {
		roles[i] = "'" + r + "'" // Python's repr of a plain name
	}
	return Fields{
		"user": orNone(c.UserID), "project_id": orNone(c.ProjectID), "project": orNone(c.ProjectID),
		"system_scope": orNone(c.System), "domain": orNone(c.DomainID),
		"user_domain": orNone(c.UserDomainID), "project_domain": orNone(c.ProjectDomainID),
		"is_admin": "False", "read_only": "False", "show_deleted": "False", "resource_uuid": "None",
		"roles":            "[" + strings.Join(roles, ", ") + "]",
		"is_admin_project": pyBool(!c.NotAdminProject),
		"user_identity": strings.Join([]string{idt(c.UserID), idt(c.ProjectID), idt(c.DomainID),
			idt(c.UserDomainID), idt(c.ProjectDomainID)}, " "),
	}
}
