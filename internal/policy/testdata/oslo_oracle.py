"""Evaluate policy cases with the installed oslo.policy and Glance.

Run by TestOsloDrift (oslo_test.go); reads a JSON request on stdin and prints
the answers as JSON. Not part of glanced: it is the reference the Go package
is checked against.

Request: {"named": {name: check}, "scenarios": [{"creds": {}, "target": {}}],
          "cases": [{"rule": check}, ...],
          "glance_scenarios": [{"creds": {}, "target": {}, "enforce_scope": bool}]}
Answer:  {"cases": [{"parsed": str or null, "results": "01E..."}],
          "glance": {rule: "01..."}, "glance_legacy": {rule: "01..."},
          "defaults": [[name, scope_types, check_str, deprecated_check_str]]}
"""
import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")

from oslo_config import cfg  # noqa: E402
from oslo_policy import _parser, policy  # noqa: E402

CRED_KEYS = ("user_id", "user_domain_id", "system_scope", "domain_id",
             "project_id", "project_domain_id", "is_admin_project",
             "service_user_id", "service_user_domain_id",
             "service_project_id", "service_project_domain_id")


class Count(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.n = 0

    def emit(self, record):
        self.n += 1


def creds_of(c):
    # What oslo.context's to_policy_values() gives: every key, None if unset.
    out = {k: c.get(k) for k in CRED_KEYS}
    out["is_admin_project"] = c.get("is_admin_project", True)
    out["roles"] = list(c.get("roles", []))
    out["service_roles"] = list(c.get("service_roles", []))
    return out


def verdict(enforcer, rule, target, creds):
    try:
        return "1" if enforcer.enforce(rule, dict(target), creds_of(creds)) else "0"
    except Exception:
        return "E"


def run_cases(req):
    counter = Count()
    plog = logging.getLogger("oslo_policy._parser")
    plog.addHandler(counter)
    plog.propagate = False
    conf = cfg.ConfigOpts()
    conf([], project="oslo-oracle", default_config_files=[])
    enforcer = policy.Enforcer(conf, use_conf=False)
    logging.getLogger("oslo_policy.policy").setLevel(logging.CRITICAL)
    out = []
    for case in req["cases"]:
        rule = case["rule"]
        counter.n = 0
        check = _parser.parse_rule(rule)
        parsed = None if counter.n else str(check)
        rules = dict(req["named"])
        rules["case"] = rule
        counter.n = 0
        enforcer.set_rules(policy.Rules.from_dict(rules, "default"),
                           overwrite=True, use_conf=False)
        results = "".join(verdict(enforcer, "case", s["target"], s["creds"])
                          for s in req["scenarios"])
        out.append({"parsed": parsed, "results": results})
    return out


def glance_enforcer(new_defaults):
    from glance.api import policy as gpolicy
    cfg.CONF.set_override("enforce_new_defaults", new_defaults, "oslo_policy")
    e = gpolicy.Enforcer(suppress_deprecation_warnings=True)
    e.load_rules()
    e.use_conf = False  # rules are loaded: do not look for the file on each call
    return e


def run_glance(req):
    import glance.common.config  # noqa: F401 (registers enforce_secure_rbac)
    from glance import policies
    cfg.CONF([], project="glance", default_config_files=[])
    cfg.CONF.set_override("policy_file", "/nonexistent/policy.yaml", "oslo_policy")
    cfg.CONF.set_override("policy_dirs", [], "oslo_policy")
    answers = {}
    for key, new in (("glance", True), ("glance_legacy", False)):
        e = glance_enforcer(new)
        res = {}
        for d in policies.list_rules():
            chars = []
            for s in req["glance_scenarios"]:
                cfg.CONF.set_override("enforce_scope", s.get("enforce_scope", False), "oslo_policy")
                chars.append(glance_verdict(e, d.name, s))
            res[d.name] = "".join(chars)
        answers[key] = res
    answers["defaults"] = [
        [d.name, d.scope_types, d.check_str,
         d.deprecated_rule.check_str if d.deprecated_rule else None]
        for d in policies.list_rules()]
    return answers


def glance_verdict(e, name, s):
    try:
        ok = policy.Enforcer.enforce(e, name, dict(s["target"]), creds_of(s["creds"]))
        return "1" if ok else "0"
    except Exception:
        return "E"


def main():
    req = json.load(sys.stdin)
    answer = {"cases": run_cases(req)}
    answer.update(run_glance(req))
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
