package policy

import (
	"math/rand/v2"
	"strings"
)

// The inputs of the differential cases (oslo_test.go): rules the cases refer
// to, callers and targets, hand-written rules, and a generator of random ones.

var oracleNamed = map[string]string{
	"default":         "role:reader",
	"admin_required":  "role:admin",
	"owner":           "project_id:%(project_id)s",
	"member_or_owner": "role:member or rule:owner",
}

func boolp(b bool) *bool { return &b }

var (
	credAdmin   = jsonCreds{UserID: "u-admin", ProjectID: "p1", Roles: []string{"admin", "member", "reader"}}
	credMember1 = jsonCreds{UserID: "u1", UserDomainID: "default", ProjectID: "p1", ProjectDomainID: "default", Roles: []string{"member", "reader"}}
	credReader1 = jsonCreds{UserID: "u1r", ProjectID: "p1", Roles: []string{"reader"}}
	credMember2 = jsonCreds{UserID: "u2", ProjectID: "p2", Roles: []string{"member", "reader"}}
	credReader2 = jsonCreds{UserID: "u2r", ProjectID: "p2", Roles: []string{"reader"}}
	credNoRole  = jsonCreds{UserID: "u0", ProjectID: "p1"}
	credSysAdm  = jsonCreds{UserID: "u-sys", SystemScope: "all", Roles: []string{"admin", "member", "reader"}}
	credSysRead = jsonCreds{UserID: "u-sysr", SystemScope: "all", Roles: []string{"reader"}}
	credDomAdm  = jsonCreds{UserID: "u-dom", DomainID: "d1", Roles: []string{"admin"}}
	credService = jsonCreds{UserID: "glance", ProjectID: "service", Roles: []string{"service"},
		IsAdminProject: boolp(false), ServiceUserID: "nova", ServiceProjectID: "service", ServiceRoles: []string{"service"}}
	credUpper = jsonCreds{UserID: "u1", ProjectID: "p1", Roles: []string{"Admin", "MEMBER"}}
)

var allCreds = []jsonCreds{credAdmin, credMember1, credReader1, credMember2, credReader2, credNoRole,
	credSysAdm, credSysRead, credDomAdm, credService, credUpper}

func caseScenarios() []scenario {
	targets := []Fields{
		{"project_id": "p1", "owner": "p1", "member_id": "None", "visibility": "private", "role": "admin",
			"flag": "True", "num": "1", "ab": "ab", "raw": `x\y`, "a.b": "dotted", "user_id": "u1", "pre": "p", "a": "A", "domain": "d1"},
		{"project_id": "p1", "owner": "p1", "member_id": "p2", "visibility": "shared", "role": "Member",
			"flag": "False", "num": "1.0", "user_id": "u2", "pre": "p"},
		{"project_id": "p2", "owner": "p2", "member_id": "None", "visibility": "public", "num": "-1", "a": "a"},
		{"project_id": "None", "owner": "None", "member_id": "None", "visibility": "community", "flag": "None", "num": "16"},
		{},
	}
	var out []scenario
	for _, c := range allCreds {
		for _, t := range targets {
			out = append(out, scenario{Creds: c, Target: t})
		}
	}
	return out
}

func glanceScenarios() []scenario {
	targets := []Fields{
		{"project_id": "p1", "owner": "p1", "member_id": "None", "visibility": "private"},
		{"project_id": "p1", "owner": "p1", "member_id": "p2", "visibility": "shared"},
		{"project_id": "p1", "owner": "p1", "member_id": "None", "visibility": "shared"},
		{"project_id": "p2", "owner": "p2", "member_id": "None", "visibility": "public"},
		{"project_id": "p2", "owner": "p2", "member_id": "None", "visibility": "community"},
		{"project_id": "None", "owner": "None", "member_id": "None", "visibility": "public"},
		NewImageTarget(strp("p1"), "private"),
		NewImageTarget(strp("p2"), "public"),
		{"project_id": "p1"},
		{"project_id": "None"},
		MetadefTarget(strp("p2"), "public"),
		MetadefTarget(nil, "private"),
		{},
	}
	var out []scenario
	for _, scope := range []bool{false, true} {
		for _, c := range allCreds {
			for _, t := range targets {
				out = append(out, scenario{Creds: c, Target: t, EnforceScope: scope})
			}
		}
	}
	return out
}

func strp(s string) *string { return &s }

// handCases are rules written to probe one behaviour each.
var handCases = []string{
	"", "@", "!", " ", "\t", "()", "(", ")", "and", "not", "or",
	"role:admin", "ROLE:admin", "role:ADMIN", "Role:admin", "role:%(role)s", "role:%(missing)s", "role:",
	"rule:admin_required", "rule:nosuch", "rule:member_or_owner", "rule:", "rule:default",
	"role:admin or role:member and role:reader", "(role:admin or role:member) and role:reader",
	"role:admin and role:member or role:reader", "not role:admin and role:member", "not (role:admin and role:member)",
	"not not role:admin", "role:admin or not role:member", "role:admin AND role:member OR NOT role:reader",
	"role:admin or (role:member and role:reader) and project_id:%(project_id)s",
	"role:admin or (role:member and role:reader) and project_id:%(project_id)s and @",
	"(role:admin and role:member) and role:reader", "((role:admin))", "(role:admin)) or (role:member",
	"role:admin or role:member or role:reader", "(role:admin or role:member) or role:reader",
	"role:admin\tor\nrole:member", "role:admin\u00a0or\u2003role:member", "role:admin\x1cor\x1frole:member",
	"'public':%(visibility)s", `"shared":%(visibility)s`, "'public':'public'", `"public"`, "'quoted'",
	`("a:b")`, "('a:b')", "'a:b')", "'x'y':z",
	"True:%(flag)s", "False:%(flag)s", "None:%(flag)s", "true:%(flag)s", "1:%(num)s", "1.0:%(num)s",
	"-1:%(num)s", "+1:%(num)s", "0x10:%(num)s", "0o20:%(num)s", "0b10000:%(num)s", "1_6:%(num)s", "016:%(num)s",
	"1e0:%(num)s", "10e-1:%(num)s", ".1e1:%(num)s", "1.:%(num)s", "00:%(num)s", "1e16:%(num)s", "1e15:x",
	"0.0001:x", "0.00001:x", "1e400:x", "-0.0:x", "123456789012345678901234567890:x",
	"'a''b':%(ab)s", "'a'\"b\":%(ab)s", `r'x\y':%(raw)s`, `'x\\y':%(raw)s`, `'\x41':%(a)s`, `'\101':%(a)s`,
	`'\u0041':%(a)s`, `'\q':x`, `u'A':%(a)s`, `R"A":%(a)s`, `'''A''':%(a)s`,
	"project_id:%(project_id)s", "project_id:%(owner)s", "project_id:%(member_id)s", "project_id:None",
	"project_id:p%(missing)s", "project_id:%(pre)s1", "'p1':%(project_id)s", "'%(x)s':%%(x)s", "'100%':100%%",
	"user_id:%(user_id)s", "domain_id:%(domain)s", "domain_id:None", "user_domain_id:default",
	"project_domain_id:default", "system:all", "system:None", "system_scope:all", "system_scope:None",
	"roles:admin", "roles:Admin", "roles:%(role)s", "service_roles:service", "service_user_id:nova",
	"service_project_id:service", "service_user_domain_id:None", "is_admin_project:True", "is_admin_project:False",
	"is_admin:True", "is_admin:False", "user.name:x", "tenant:%(project_id)s", "'dotted':%(a.b)s",
	"project_id:%(a.b)s", "role:admin)", "(role:admin", "noColon", ":", "a:", ":b", ":%(x)s",
	"%(x)s:y", "a-b:c", "role:admin%", "role:%(r)d", "roles.x:y", "[1]:x", "1j:x", "b'x':x", "...:x",
	"project_id:%(project_id)r", "'a':%(", "not:x", "class:x", "-a:x", "--1:x", "1__0:x", "0x:x",
	"role:admin or rule:nosuch", "not rule:nosuch", "rule:owner and not role:admin",
}

var leafVocab = []string{
	"@", "!", "role:admin", "role:member", "role:reader", "role:ADMIN", "role:service", "role:%(role)s",
	"role:%(missing)s", "rule:admin_required", "rule:owner", "rule:nosuch", "rule:default", "rule:member_or_owner",
	"project_id:%(project_id)s", "project_id:%(owner)s", "project_id:%(member_id)s", "project_id:%(missing)s",
	"user_id:%(user_id)s", "domain_id:%(domain)s", "domain_id:None", "project_id:None",
	"'public':%(visibility)s", `"shared":%(visibility)s`, "'community':%(visibility)s", "'private':%(visibility)s",
	"True:%(flag)s", "False:%(flag)s", "None:%(owner)s", "1:%(num)s", "1.0:%(num)s", "-1:%(num)s",
	"0x1:%(num)s", "1_0:%(num)s", "1e0:%(num)s", "roles:admin", "roles:Admin", "service_roles:service",
	"system:all", "system_scope:all", "system_scope:None", "is_admin:True", "is_admin_project:True",
	"is_admin_project:False", "user.name:x", "'a''b':%(ab)s", `r'x\y':%(raw)s`, `'\x41':%(a)s`,
	"project_id:p%(missing)s", "project_id:%(pre)s1", "'%(x)s':%%(x)s",
	"noColon", "'quoted'", `"q"`, ":", "a:", "role:", "%(x)s:y", "a-b:c", "role:admin%", "role:%(r)d",
	"roles.x:y", "1j:x", "project_id:%(a.b)s",
}

// randomCases builds n rules from leafVocab with random structure, operator
// case, spacing and parenthesis placement; one in six is then damaged by
// dropping, repeating or inserting a token.
func randomCases(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]string, n)
	for i := range out {
		s := genExpr(r, 0)
		if r.IntN(6) == 0 {
			s = damage(r, s)
		}
		out[i] = s
	}
	return out
}

func genExpr(r *rand.Rand, depth int) string {
	if depth > 3 || r.IntN(3) == 0 {
		return leafVocab[r.IntN(len(leafVocab))]
	}
	switch r.IntN(4) {
	case 0:
		return opWord(r, "not") + space(r) + genExpr(r, depth+1)
	case 1:
		return genExpr(r, depth+1) + space(r) + opWord(r, "and") + space(r) + genExpr(r, depth+1)
	case 2:
		return genExpr(r, depth+1) + space(r) + opWord(r, "or") + space(r) + genExpr(r, depth+1)
	}
	if r.IntN(2) == 0 {
		return "(" + genExpr(r, depth+1) + ")"
	}
	return "( " + genExpr(r, depth+1) + " )"
}

func opWord(r *rand.Rand, w string) string {
	switch r.IntN(5) {
	case 0:
		return strings.ToUpper(w)
	case 1:
		return strings.ToUpper(w[:1]) + w[1:]
	}
	return w
}

func space(r *rand.Rand) string {
	return []string{" ", " ", " ", "  ", "\t", "\n "}[r.IntN(6)]
}

func damage(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	i := r.IntN(len(words))
	switch r.IntN(3) {
	case 0:
		words = append(words[:i], words[i+1:]...)
	case 1:
		words = append(words[:i+1], words[i:]...)
	default:
		ins := []string{"(", ")", "and", "or", "not", "'x'"}[r.IntN(6)]
		words = append(words[:i], append([]string{ins}, words[i:]...)...)
	}
	return strings.Join(words, " ")
}
