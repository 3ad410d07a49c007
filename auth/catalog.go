package auth

import (
	"slices"
	"strings"
)

// Catalog is a Keystone service catalog, in one shape for v3 and v2.0.
type Catalog []Service

// Service is one catalog entry.
type Service struct {
	Type      string     `json:"type"`
	Name      string     `json:"name,omitempty"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one URL of a service. Interface is public, internal or admin
// (a v2.0 entry with publicURL, internalURL and adminURL becomes three).
type Endpoint struct {
	Region    string `json:"region,omitempty"`
	Interface string `json:"interface"`
	URL       string `json:"url"`
}

// Lookup returns the URL of the first endpoint of serviceType with the
// given interface (public, internal, admin or their v2.0 spellings) in
// region (any region when empty). When there is none the error is an
// *EndpointNotFoundError listing what the catalog has.
func (c Catalog) Lookup(serviceType, iface, region string) (string, error) {
	iface, err := normInterface(iface)
	if err != nil {
		return "", err
	}
	nf := &EndpointNotFoundError{ServiceType: serviceType, Interface: iface, Region: region}
	for _, s := range c {
		if !slices.Contains(nf.ServiceTypes, s.Type) {
			nf.ServiceTypes = append(nf.ServiceTypes, s.Type)
		}
		if s.Type != serviceType {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Interface == iface && (region == "" || e.Region == region) && e.URL != "" {
				return e.URL, nil
			}
			if !slices.Contains(nf.Regions, e.Region) && e.Region != "" {
				nf.Regions = append(nf.Regions, e.Region)
			}
			if !slices.Contains(nf.Interfaces, e.Interface) {
				nf.Interfaces = append(nf.Interfaces, e.Interface)
			}
		}
	}
	slices.Sort(nf.ServiceTypes)
	slices.Sort(nf.Regions)
	slices.Sort(nf.Interfaces)
	return "", nf
}

// v2Endpoints expands a v2.0 catalog endpoint into one per interface.
func v2Endpoints(region, public, internal, admin string) []Endpoint {
	var out []Endpoint
	for _, e := range []Endpoint{{region, "public", public}, {region, "internal", internal}, {region, "admin", admin}} {
		if e.URL != "" {
			out = append(out, e)
		}
	}
	return out
}

// trimSlash removes trailing slashes so that endpoints join cleanly with
// API paths.
func trimSlash(u string) string { return strings.TrimRight(u, "/") }
