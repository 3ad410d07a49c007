package server

import (
	"fmt"
	"strconv"
	"time"
)

// checksSettings are the command-line settings of quotas, property
// protections and content checks.
var checksSettings = []setting{
	{"use-keystone-limits", "GLANCED_USE_KEYSTONE_LIMITS", "enforce per-project quotas (image_size_total, image_stage_total, image_count_total, image_count_uploading) from Keystone unified limits, as Glance's use_keystone_limits; needs keystone auth (default false)"},
	{"limits-endpoint-id", "GLANCED_LIMITS_ENDPOINT_ID", "ID of the Keystone endpoint whose service and region the limits are registered for (oslo.limit's endpoint_id)"},
	{"limits-endpoint-service-type", "GLANCED_LIMITS_ENDPOINT_SERVICE_TYPE", "service type of that endpoint, when no ID is given (default image)"},
	{"limits-endpoint-service-name", "GLANCED_LIMITS_ENDPOINT_SERVICE_NAME", "service name of that endpoint, when several services have the type"},
	{"limits-endpoint-region-name", "GLANCED_LIMITS_ENDPOINT_REGION_NAME", "region of that endpoint"},
	{"limits-endpoint-interface", "GLANCED_LIMITS_ENDPOINT_INTERFACE", "interface of that endpoint (default public)"},
	{"limits-cache-ttl", "GLANCED_LIMITS_CACHE_TTL", "how long limits read from Keystone are used (default 10s)"},
	{"limits-username", "GLANCED_LIMITS_USERNAME", "user to read limits with, as oslo.limit's username (default: the keystone service user, project-scoped; Keystone shows such a token only its own project's limits)"},
	{"limits-password", "GLANCED_LIMITS_PASSWORD", "that user's password"},
	{"limits-user-domain-name", "GLANCED_LIMITS_USER_DOMAIN_NAME", "that user's domain (default Default)"},
	{"limits-system-scope", "GLANCED_LIMITS_SYSTEM_SCOPE", "read limits with a system-scoped token (oslo.limit's system_scope = all), as Glance's guide sets up (default false)"},
	{"limits-project-name", "GLANCED_LIMITS_PROJECT_NAME", "project of that user's token, without system scope"},
	{"limits-project-domain-name", "GLANCED_LIMITS_PROJECT_DOMAIN_NAME", "that project's domain (default Default)"},
	{"property-protection-file", "GLANCED_PROPERTY_PROTECTION_FILE", "property protection file (INI), as Glance's property_protection_file"},
	{"property-protection-rule-format", "GLANCED_PROPERTY_PROTECTION_RULE_FORMAT", "roles or policies (default roles)"},
	{"image-format-check", "GLANCED_IMAGE_FORMAT_CHECK", "inspect uploaded and imported data of bare images: enforce (refuse data that is not of the disk_format), warn (log it) or off (default enforce, as Glance's require_image_format_match)"},
	{"vmdk-allowed-types", "GLANCED_VMDK_ALLOWED_TYPES", "VMDK createTypes accepted, comma-separated (default monolithicSparse,streamOptimized)"},
	{"gpt-safety-checks-nonfatal", "GLANCED_GPT_SAFETY_CHECKS_NONFATAL", "partition-table safety checks only logged, comma-separated, e.g. mbr (default none)"},
}

// checksFile holds the same settings in the YAML file.
type checksFile struct {
	UseKeystoneLimits string `yaml:"use-keystone-limits"`
	LimitsEndpointID  string `yaml:"limits-endpoint-id"`
	LimitsServiceType string `yaml:"limits-endpoint-service-type"`
	LimitsServiceName string `yaml:"limits-endpoint-service-name"`
	LimitsRegionName  string `yaml:"limits-endpoint-region-name"`
	LimitsInterface   string `yaml:"limits-endpoint-interface"`
	LimitsCacheTTL    string `yaml:"limits-cache-ttl"`
	LimitsUsername    string `yaml:"limits-username"`
	LimitsPassword    string `yaml:"limits-password"`
	LimitsUserDomain  string `yaml:"limits-user-domain-name"`
	LimitsSystemScope string `yaml:"limits-system-scope"`
	LimitsProject     string `yaml:"limits-project-name"`
	LimitsProjectDom  string `yaml:"limits-project-domain-name"`
	ProtectionFile    string `yaml:"property-protection-file"`
	ProtectionFormat  string `yaml:"property-protection-rule-format"`
	ImageFormatCheck  string `yaml:"image-format-check"`
	VMDKAllowedTypes  string `yaml:"vmdk-allowed-types"`
	GPTChecksNonfatal string `yaml:"gpt-safety-checks-nonfatal"`
}

func init() {
	registerFeature(feature{order: 50, settings: checksSettings, file: checksFile{}, load: loadChecks})
}

func (f checksFile) values() map[string]string {
	return map[string]string{
		"use-keystone-limits": f.UseKeystoneLimits, "limits-endpoint-id": f.LimitsEndpointID,
		"limits-endpoint-service-type": f.LimitsServiceType, "limits-endpoint-service-name": f.LimitsServiceName,
		"limits-endpoint-region-name": f.LimitsRegionName, "limits-endpoint-interface": f.LimitsInterface,
		"limits-cache-ttl": f.LimitsCacheTTL, "property-protection-file": f.ProtectionFile,
		"limits-username": f.LimitsUsername, "limits-password": f.LimitsPassword, "limits-user-domain-name": f.LimitsUserDomain,
		"limits-system-scope": f.LimitsSystemScope, "limits-project-name": f.LimitsProject, "limits-project-domain-name": f.LimitsProjectDom,
		"property-protection-rule-format": f.ProtectionFormat, "image-format-check": f.ImageFormatCheck,
		"vmdk-allowed-types": f.VMDKAllowedTypes, "gpt-safety-checks-nonfatal": f.GPTChecksNonfatal,
	}
}

// loadChecks sets cfg.Quota, cfg.Protections and cfg.Content from the
// settings get resolves; an empty value keeps the default.
func loadChecks(get func(string) string, cfg *Config) error {
	q := &cfg.Quota
	for name, dst := range map[string]*bool{"use-keystone-limits": &q.UseKeystoneLimits, "limits-system-scope": &q.Auth.SystemScope} {
		if v := get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not true or false", name, v)
			}
			*dst = b
		}
	}
	q.Auth.Username, q.Auth.Password, q.Auth.UserDomainName = get("limits-username"), get("limits-password"), get("limits-user-domain-name")
	q.Auth.ProjectName, q.Auth.ProjectDomainName = get("limits-project-name"), get("limits-project-domain-name")
	q.EndpointID, q.EndpointServiceType = get("limits-endpoint-id"), get("limits-endpoint-service-type")
	q.EndpointServiceName, q.EndpointRegionName = get("limits-endpoint-service-name"), get("limits-endpoint-region-name")
	q.EndpointInterface = get("limits-endpoint-interface")
	if v := get("limits-cache-ttl"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("limits-cache-ttl: %q is not a positive duration such as 10s", v)
		}
		q.CacheTTL = d
	}
	cfg.Protections = ProtectionsConfig{File: get("property-protection-file"), Format: get("property-protection-rule-format")}
	c := &cfg.Content
	c.Mode = get("image-format-check")
	if v := get("vmdk-allowed-types"); v != "" {
		c.VMDKTypes = splitList(v)
	}
	if v := get("gpt-safety-checks-nonfatal"); v != "" {
		c.GPTNonfatal = splitList(v)
	}
	return checkContentMode(c.Mode)
}

func checkContentMode(m string) error {
	switch m {
	case "", ContentEnforce, ContentWarn, ContentOff:
		return nil
	}
	return fmt.Errorf("image-format-check: %q is not enforce, warn or off", m)
}

// initChecks sets up quotas and property protections for New.
func (s *Server) initChecks() error {
	if err := checkContentMode(s.cfg.Content.Mode); err != nil {
		return err
	}
	var err error
	if s.limits, err = newLimiter(s.cfg.Quota, s.auth); err != nil {
		return err
	}
	s.props, err = loadPropRules(s.cfg.Protections, s.pol)
	return err
}
