// Package policy decides glanced's authorization by Glance's rule names, as
// Glance 25.1 (Zed) does with oslo.policy, so that a site's Glance policy.yaml
// (or policy.json, or policy.d directory) works unchanged.
//
// # Rules
//
// An Enforcer holds Glance 25.1's registered rules with their secure-RBAC
// defaults ([oslo_policy] enforce_new_defaults = true), overridden rule by rule
// by the policy files. The rule language is oslo.policy's (see Parse): checks
// role:NAME, rule:NAME, generic KEY:VALUE checks against the credentials or a
// literal ('public':%(visibility)s, True:%(flag)s), "@" and "!", combined with
// not, and, or and parentheses. Behaviour carried over from oslo.policy on
// purpose:
//   - rule:NAME for an undefined NAME falls back to the "default" rule, which
//     Glance defines as "" (always): a misspelt rule name lets everyone in.
//     Warnings lists such references.
//   - is_admin:True never matches: Glance passes no is_admin credential. Use
//     role:admin or rule:context_is_admin.
//   - role: checks ignore case; generic checks (roles:admin) compare exactly.
//   - A None value (an image without owner, a caller without project) is the
//     text "None", so project_id:%(project_id)s holds between the two.
//   - With EnforceScope, a rule whose scope_types (all "project" in Glance
//     25.1) lack the token's scope is refused before its check; Debian's
//     oslo.policy 4.0.0 leaves enforce_scope off by default.
//
// Where oslo.policy would accept a rule that can only fail or raise at
// evaluation (Glance answers 500 then), or that calls out (http checks),
// New refuses it with an error naming the file and rule; so do rule loops.
//
// # Callers
//
// Credentials carry what keystonemiddleware passes: X-User-Id,
// X-User-Domain-Id, X-Project-Id, X-Project-Domain-Id, X-Domain-Id,
// X-System-Scope ("all"), X-Roles (Glance lower-cases them),
// X-Is-Admin-Project and the X-Service-* headers of a service token.
// IsAdmin evaluates context_is_admin, which Glance uses to let a caller see
// and change every image and namespace.
//
// # Targets
//
// Glance 25.1 builds these targets; the server must pass the same for each
// rule family, or a site's rule on another key would decide differently:
//
//   - get_images: ProjectTarget(caller), {"project_id": caller's project};
//     every listed image then passes get_image with its ImageTarget.
//   - add_image: NewImageTarget(owner, visibility), the requested owner
//     (the caller's project when the body names none) and visibility
//     ("private" when unset). When that visibility is "public" or
//     "community", publicize_image or communitize_image follows on the same
//     target.
//   - Every other image rule: the image's ImageTarget. Glance checks
//     get_image to show an image or its tasks; modify_image for each
//     property change of a PATCH (preceded by publicize_image or
//     communitize_image when it sets visibility to public or community;
//     set_image_location or delete_image_location instead when it changes
//     locations), for tags, staging, and imports other than copy-image
//     (copy_image); upload_image,
//     download_image, delete_image, deactivate, reactivate. Its keys are
//     project_id/owner (the owner), member_id/member (SharedMember: the
//     caller's own project when the image is shared and not the caller's,
//     else None), visibility, id/image_id, status, name... and custom
//     properties by name. A refusal is a 404 when get_image is refused too
//     (or is the rule), else a 403.
//   - Member rules (add_member, delete_member, get_member, get_members,
//     modify_member): the ImageTarget of the image, not of the membership;
//     Glance first checks get_image (404 when refused), and lists members
//     by get_members, then get_member for each. So modify_member's
//     project_id:%(member_id)s holds for any non-owner project that can see
//     the shared image.
//   - Tasks: tasks_api_access, with an empty target (nil), on every tasks
//     call. get_task, get_tasks, add_task and modify_task are registered but
//     Glance 25.1 never checks them.
//   - Metadefs: MetadefTarget(namespace owner, namespace visibility) for every
//     rule about a namespace or its objects, properties, tags and resource
//     type associations (items listed one by one with their namespace's
//     target); ProjectTarget(caller) to list namespaces (each then passes
//     get_metadef_namespace), create one, or list resource types. A refusal is
//     a 404 when get_metadef_namespace is refused too, else a 403.
//   - Cache (/v2/cache): cache_list, and cache_delete of everything, with an
//     empty target; cache_image and cache_delete of one image with its
//     ImageTarget (or empty when the image is gone but still cached). Always
//     403 on refusal, checked before the 404 of a disabled cache.
//   - stores_info_detail: empty target.
//
// Glance's refusal message is Denied.Error(): "You are not authorized to
// complete RULE action."
package policy
