package policy

// newerDefaults are rules Glance registered after 25.1 for the API versions
// glanced also serves (2.17's locations calls, master's download store
// selection and cache upkeep). They are kept apart from glanceDefaults,
// which mirrors what the installed Glance 25.1 reports.
var newerDefaults = []Default{
	{"service_api", "role:service or role:admin", "", nil, "who may use the service-to-service calls"},
	{"add_image_location", "rule:service_api or (role:member and project_id:%(project_id)s and project_id:%(owner)s)", "", project,
		"add a location to a queued image (POST /v2/images/{id}/locations, API 2.17)"},
	{"fetch_image_location", "rule:service_api", "", project, "list an image's locations (GET /v2/images/{id}/locations, API 2.17)"},
	{"download_from_store", "role:admin or (role:member and (" + imageVisible + "))", "", project,
		"choose the stores a download reads from (?prefer=)"},
	{"cache_clean", "role:admin", "", project, "remove invalid and stalled cache entries (API 2.18)"},
	{"cache_prune", "role:admin", "", project, "prune the cache to its size limit (API 2.18)"},
}
