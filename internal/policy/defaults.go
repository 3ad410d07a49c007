package policy

// Default is a rule Glance 25.1 registers, with its default check string.
type Default struct {
	Name  string
	Check string // the default in force with [oslo_policy] enforce_new_defaults = true
	// Deprecated is the older default that oslo.policy or-s in when new
	// defaults are not enforced, or "" when there is none.
	Deprecated string
	// Scopes are the rule's scope_types; nil means no scope check.
	Scopes      []string
	Description string
}

// Check strings Glance repeats across rules.
const (
	adminOrOwnerMember = "role:admin or (role:member and project_id:%(project_id)s)"
	adminOrOwnerReader = "role:admin or (role:reader and project_id:%(project_id)s)"
	imageVisible       = "project_id:%(project_id)s or project_id:%(member_id)s or " +
		"'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s"
	ownerOrMemberProject = "project_id:%(project_id)s or project_id:%(member_id)s"
	metadefRead          = "role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"
	metadefAdmin         = "rule:metadef_admin"
	ruleDefault          = "rule:default"
	metadefDefault       = "rule:metadef_default"
	manageCache          = "rule:manage_image_cache"
)

var project = []string{"project"}

// glanceDefaults are the rules of glance/policies in Glance 25.1 (Zed), in
// registration order. testdata/glance-25.1-rules.txt holds the same facts as
// the installed Glance reports them; a test keeps the two equal.
var glanceDefaults = []Default{
	{"default", "", "role:admin", nil, "what a rule reference to an unknown name falls back to"},
	{"context_is_admin", "role:admin", "", nil, "who Glance treats as an administrator (sees and changes every image)"},

	{"add_image", "role:admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)", ruleDefault, project, "create an image record"},
	{"delete_image", adminOrOwnerMember, ruleDefault, project, "delete an image"},
	{"get_image", "role:admin or (role:reader and (" + imageVisible + "))", ruleDefault, project, "show one image"},
	{"get_images", adminOrOwnerReader, ruleDefault, project, "list images (each one then passes get_image)"},
	{"modify_image", adminOrOwnerMember, ruleDefault, project, "change an image's properties"},
	{"publicize_image", "role:admin", "", project, "make an image public"},
	{"communitize_image", adminOrOwnerMember, ruleDefault, project, "make an image community-visible"},
	{"download_image", "role:admin or (role:member and (" + imageVisible + "))", ruleDefault, project, "read an image's data"},
	{"upload_image", adminOrOwnerMember, ruleDefault, project, "store data into an image"},
	{"delete_image_location", "role:admin", ruleDefault, project, "remove a location of an image"},
	{"get_image_location", adminOrOwnerReader, ruleDefault, project, "see an image's locations"},
	{"set_image_location", adminOrOwnerMember, ruleDefault, project, "add or replace an image's locations"},
	{"add_member", adminOrOwnerMember, ruleDefault, project, "share an image with a project"},
	{"delete_member", adminOrOwnerMember, ruleDefault, project, "stop sharing an image with a project"},
	{"get_member", "role:admin or role:reader and (" + ownerOrMemberProject + ")", ruleDefault, project, "show one membership of an image"},
	{"get_members", "role:admin or role:reader and (" + ownerOrMemberProject + ")", ruleDefault, project, "list the memberships of an image"},
	{"modify_member", "role:admin or (role:member and project_id:%(member_id)s)", ruleDefault, project, "accept or reject an image shared with one's project"},
	{"manage_image_cache", "role:admin", "", project, "the older blanket rule of the cache API"},
	{"deactivate", adminOrOwnerMember, ruleDefault, project, "deactivate an image"},
	{"reactivate", adminOrOwnerMember, ruleDefault, project, "reactivate an image"},
	{"copy_image", "role:admin", "", project, "copy an image's data to more stores"},

	{"get_task", ruleDefault, ruleDefault, project, "show a task (registered, not checked by Glance 25.1)"},
	{"get_tasks", ruleDefault, ruleDefault, project, "list tasks (registered, not checked by Glance 25.1)"},
	{"add_task", ruleDefault, ruleDefault, project, "create a task (registered, not checked by Glance 25.1)"},
	{"modify_task", ruleDefault, "", project, "unused by Glance"},
	{"tasks_api_access", "role:admin", "", project, "use the tasks API at all"},

	{"metadef_default", "", "", nil, "base rule older metadef defaults referred to"},
	{"metadef_admin", "role:admin", "", nil, "who may change metadata definitions"},
	{"get_metadef_namespace", metadefRead, metadefDefault, project, "show a metadef namespace"},
	{"get_metadef_namespaces", adminOrOwnerReader, metadefDefault, project, "list metadef namespaces (each then passes get_metadef_namespace)"},
	{"modify_metadef_namespace", metadefAdmin, "", project, "change a metadef namespace"},
	{"add_metadef_namespace", metadefAdmin, "", project, "create a metadef namespace"},
	{"delete_metadef_namespace", metadefAdmin, "", project, "delete a metadef namespace"},
	{"get_metadef_object", metadefRead, metadefDefault, project, "show a metadef object"},
	{"get_metadef_objects", metadefRead, metadefDefault, project, "list the objects of a namespace"},
	{"modify_metadef_object", metadefAdmin, "", project, "change a metadef object"},
	{"add_metadef_object", metadefAdmin, "", project, "create a metadef object"},
	{"delete_metadef_object", metadefAdmin, "", project, "delete a metadef object"},
	{"list_metadef_resource_types", metadefRead, metadefDefault, project, "list resource types"},
	{"get_metadef_resource_type", metadefRead, metadefDefault, project, "list a namespace's resource type associations"},
	{"add_metadef_resource_type_association", metadefAdmin, "", project, "associate a resource type with a namespace"},
	{"remove_metadef_resource_type_association", metadefAdmin, "", project, "remove a resource type association"},
	{"get_metadef_property", metadefRead, metadefDefault, project, "show a metadef property"},
	{"get_metadef_properties", metadefRead, metadefDefault, project, "list the properties of a namespace"},
	{"modify_metadef_property", metadefAdmin, "", project, "change a metadef property"},
	{"add_metadef_property", metadefAdmin, "", project, "create a metadef property"},
	{"remove_metadef_property", metadefAdmin, "", project, "delete a metadef property"},
	{"get_metadef_tag", metadefRead, metadefDefault, project, "show a metadef tag"},
	{"get_metadef_tags", metadefRead, metadefDefault, project, "list the tags of a namespace"},
	{"modify_metadef_tag", metadefAdmin, "", project, "rename a metadef tag"},
	{"add_metadef_tag", metadefAdmin, "", project, "create one metadef tag"},
	{"add_metadef_tags", metadefAdmin, "", project, "create metadef tags in bulk"},
	{"delete_metadef_tag", metadefAdmin, "", project, "delete a metadef tag"},
	{"delete_metadef_tags", metadefAdmin, "", project, "delete all tags of a namespace"},

	{"cache_image", "role:admin", manageCache, project, "queue an image for caching"},
	{"cache_list", "role:admin", manageCache, project, "list cached and queued images"},
	{"cache_delete", "role:admin", manageCache, project, "drop images from the cache or its queue"},

	{"stores_info_detail", "role:admin", "", project, "see the stores' details in the stores listing"},
}

// Defaults returns Glance 25.1's registered rules, in registration order.
func Defaults() []Default {
	out := make([]Default, len(glanceDefaults))
	copy(out, glanceDefaults)
	return out
}
