package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Metadata definitions (metadefs) describe the properties that images,
// volumes, flavors and other resources may carry, grouped in namespaces.
// Reads are open to readers; writes need an admin under Glance's default
// policy.

// Namespace is a metadata definitions namespace.
type Namespace struct {
	Namespace   string `json:"namespace"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
	Visibility  string `json:"visibility,omitempty"` // public or private (the default)
	Protected   *bool  `json:"protected,omitempty"`  // a protected namespace cannot be deleted
	Owner       string `json:"owner,omitempty"`
	// ResourceTypeAssociations, Properties, Objects and Tags are filled when
	// reading a namespace; the server takes them only when creating one.
	ResourceTypeAssociations []ResourceType    `json:"resource_type_associations,omitzero"`
	Properties               MetadefProperties `json:"properties,omitzero"`
	Objects                  []MetadefObject   `json:"objects,omitzero"`
	Tags                     []MetadefTag      `json:"tags,omitzero"`
	CreatedAt                time.Time         `json:"created_at,omitzero"`
	UpdatedAt                time.Time         `json:"updated_at,omitzero"`
	Self                     string            `json:"self,omitempty"`
	Schema                   string            `json:"schema,omitempty"`
}

// ResourceType is a kind of resource (OS::Glance::Image, OS::Nova::Flavor...),
// or its association with a namespace, which adds Prefix and PropertiesTarget.
type ResourceType struct {
	Name string `json:"name"`
	// Prefix is put before the namespace's property names when applied to
	// this resource type, separator included (e.g. "hw_").
	Prefix string `json:"prefix,omitempty"`
	// PropertiesTarget says which of a resource's key/value sets the
	// properties go to, when it has several (Cinder volumes: "image").
	PropertiesTarget string    `json:"properties_target,omitempty"`
	CreatedAt        time.Time `json:"created_at,omitzero"`
	UpdatedAt        time.Time `json:"updated_at,omitzero"`
}

// MetadefProperty is a metadata definitions property: a name and a JSON schema
// fragment for its value. The fields are in the order Glance answers them.
type MetadefProperty struct {
	Name            string          `json:"name,omitempty"`
	Type            string          `json:"type,omitempty"` // array, boolean, integer, number, object or string
	Title           string          `json:"title,omitempty"`
	Description     string          `json:"description,omitempty"`
	Operators       []string        `json:"operators,omitzero"`
	Required        []string        `json:"required,omitzero"` // of an object-typed property
	Default         json.RawMessage `json:"default,omitempty"`
	Readonly        *bool           `json:"readonly,omitempty"`
	Minimum         *float64        `json:"minimum,omitempty"`
	Maximum         *float64        `json:"maximum,omitempty"`
	Enum            []any           `json:"enum,omitzero"`
	Pattern         string          `json:"pattern,omitempty"`
	MinLength       *int            `json:"minLength,omitempty"`
	MaxLength       *int            `json:"maxLength,omitempty"`
	Items           *MetadefItems   `json:"items,omitempty"`
	UniqueItems     *bool           `json:"uniqueItems,omitempty"`
	MinItems        *int            `json:"minItems,omitempty"`
	MaxItems        *int            `json:"maxItems,omitempty"`
	AdditionalItems *bool           `json:"additionalItems,omitempty"`
}

// MetadefItems describes the elements of an array property.
type MetadefItems struct {
	Type string `json:"type,omitempty"`
	Enum []any  `json:"enum,omitzero"`
}

// MetadefProperties are properties in the order the server listed them. On the
// wire they are an object keyed by name; each Property carries its Name.
type MetadefProperties []MetadefProperty

// UnmarshalJSON reads the object form, keeping the server's order.
func (ps *MetadefProperties) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*ps = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("properties: want an object, got %v", tok)
	}
	out := MetadefProperties{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var p MetadefProperty
		if err := dec.Decode(&p); err != nil {
			return fmt.Errorf("property %q: %w", tok, err)
		}
		p.Name = tok.(string)
		out = append(out, p)
	}
	*ps = out
	return nil
}

// MarshalJSON writes the object form, keyed by name, in order.
func (ps MetadefProperties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if p.Name == "" {
			return nil, errors.New("glance: a property has no name")
		}
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Name)
		b.Write(k)
		b.WriteByte(':')
		p.Name = "" // the key names it
		v, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MetadefObject is a metadata definitions object: a named group of properties.
type MetadefObject struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Required    []string          `json:"required,omitzero"`
	Properties  MetadefProperties `json:"properties,omitzero"`
	CreatedAt   time.Time         `json:"created_at,omitzero"`
	UpdatedAt   time.Time         `json:"updated_at,omitzero"`
	Self        string            `json:"self,omitempty"`
	Schema      string            `json:"schema,omitempty"`
}

// MetadefTag is a metadata definitions tag.
type MetadefTag struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// NamespaceListOptions filter and page a namespace listing.
type NamespaceListOptions struct {
	// ResourceTypes keeps namespaces associated with any of these types.
	ResourceTypes []string
	Visibility    string // public or private
	PageSize      int    // namespaces per request; 0 means 20
	Marker        string // start after this namespace
	SortKey       string // created_at or namespace
	SortDir       string // asc or desc
}

func (o *NamespaceListOptions) query() (url.Values, error) {
	q := url.Values{}
	if len(o.ResourceTypes) > 0 {
		q.Set("resource_types", strings.Join(o.ResourceTypes, ","))
	}
	if o.Visibility != "" {
		q.Set("visibility", o.Visibility)
	}
	switch {
	case o.PageSize < 0:
		return nil, fmt.Errorf("glance: page size %d is negative", o.PageSize)
	case o.PageSize > 0:
		q.Set("limit", strconv.Itoa(o.PageSize))
	default:
		q.Set("limit", "20")
	}
	if o.Marker != "" {
		q.Set("marker", o.Marker)
	}
	switch o.SortKey {
	case "", "created_at", "namespace":
	default:
		return nil, fmt.Errorf("glance: sort key %q: want created_at or namespace", o.SortKey)
	}
	switch o.SortDir {
	case "", "asc", "desc":
	default:
		return nil, fmt.Errorf("glance: sort direction %q: want asc or desc", o.SortDir)
	}
	if o.SortKey != "" {
		q.Set("sort_key", o.SortKey)
	}
	if o.SortDir != "" {
		q.Set("sort_dir", o.SortDir)
	}
	return q, nil
}

const namespacesPath = "/metadefs/namespaces"

func namespacePath(ns string) string { return namespacesPath + "/" + escape(ns) }

// ListNamespaces iterates over the namespaces the caller may see, fetching
// pages as the loop needs them. An error ends the iteration after it is
// yielded.
func (c *Client) ListNamespaces(ctx context.Context, opts *NamespaceListOptions) iter.Seq2[*Namespace, error] {
	return func(yield func(*Namespace, error) bool) {
		if opts == nil {
			opts = &NamespaceListOptions{}
		}
		q, err := opts.query()
		if err != nil {
			yield(nil, err)
			return
		}
		path := namespacesPath
		for {
			var page struct {
				Namespaces []*Namespace `json:"namespaces"`
				Next       string       `json:"next"`
			}
			if _, err := c.doJSON(ctx, http.MethodGet, path, q, "", nil, &page); err != nil {
				yield(nil, err)
				return
			}
			for _, ns := range page.Namespaces {
				if !yield(ns, nil) {
					return
				}
			}
			if page.Next == "" || len(page.Namespaces) == 0 {
				return
			}
			path, q = c.resolve(page.Next), nil
		}
	}
}

// GetNamespace returns a namespace with its properties, objects, tags and
// resource type associations. A non-empty resourceType puts that type's
// prefix before every property name.
func (c *Client) GetNamespace(ctx context.Context, namespace, resourceType string) (*Namespace, error) {
	var q url.Values
	if resourceType != "" {
		q = url.Values{"resource_type": {resourceType}}
	}
	var ns Namespace
	if _, err := c.doJSON(ctx, http.MethodGet, namespacePath(namespace), q, "", nil, &ns); err != nil {
		return nil, err
	}
	return &ns, nil
}

// CreateNamespace creates a namespace, with the properties, objects, tags
// and resource type associations it carries (as an import does).
func (c *Client) CreateNamespace(ctx context.Context, ns *Namespace) (*Namespace, error) {
	if ns == nil || ns.Namespace == "" {
		return nil, errors.New("glance: a namespace needs a name")
	}
	var out Namespace
	if _, err := c.doJSON(ctx, http.MethodPost, namespacesPath, nil, "", ns, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateNamespace replaces the namespace's own fields (name, display name,
// description, visibility, protected, owner) with those of ns; its
// contents are left alone. Start from GetNamespace to change some fields
// only: an empty field is sent as absent, which the server resets.
func (c *Client) UpdateNamespace(ctx context.Context, namespace string, ns *Namespace) (*Namespace, error) {
	if ns == nil || ns.Namespace == "" {
		return nil, errors.New("glance: a namespace needs a name")
	}
	body := Namespace{
		Namespace: ns.Namespace, DisplayName: ns.DisplayName, Description: ns.Description,
		Visibility: ns.Visibility, Protected: ns.Protected, Owner: ns.Owner,
	}
	var out Namespace
	if _, err := c.doJSON(ctx, http.MethodPut, namespacePath(namespace), nil, "", &body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteNamespace deletes a namespace with all it contains. A protected
// namespace is refused (403).
func (c *Client) DeleteNamespace(ctx context.Context, namespace string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, namespacePath(namespace), nil, "", nil, nil)
	return err
}

// ListResourceTypes lists the resource types known to the server.
func (c *Client) ListResourceTypes(ctx context.Context) ([]ResourceType, error) {
	var out struct {
		ResourceTypes []ResourceType `json:"resource_types"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/metadefs/resource_types", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.ResourceTypes, nil
}

// ListNamespaceResourceTypes lists the resource types associated with a
// namespace.
func (c *Client) ListNamespaceResourceTypes(ctx context.Context, namespace string) ([]ResourceType, error) {
	var out struct {
		Associations []ResourceType `json:"resource_type_associations"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, namespacePath(namespace)+"/resource_types", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Associations, nil
}

// AssociateResourceType associates a resource type with a namespace.
func (c *Client) AssociateResourceType(ctx context.Context, namespace string, rt *ResourceType) (*ResourceType, error) {
	var out ResourceType
	if _, err := c.doJSON(ctx, http.MethodPost, namespacePath(namespace)+"/resource_types", nil, "", rt, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeassociateResourceType removes a resource type from a namespace.
func (c *Client) DeassociateResourceType(ctx context.Context, namespace, resourceType string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, namespacePath(namespace)+"/resource_types/"+escape(resourceType), nil, "", nil, nil)
	return err
}

// ListProperties lists a namespace's properties in the server's order.
func (c *Client) ListMetadefProperties(ctx context.Context, namespace string) (MetadefProperties, error) {
	var out struct {
		Properties MetadefProperties `json:"properties"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, namespacePath(namespace)+"/properties", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Properties, nil
}

func propertyPath(namespace, name string) string {
	return namespacePath(namespace) + "/properties/" + escape(name)
}

// GetProperty returns one property of a namespace.
func (c *Client) GetMetadefProperty(ctx context.Context, namespace, name string) (*MetadefProperty, error) {
	var p MetadefProperty
	if _, err := c.doJSON(ctx, http.MethodGet, propertyPath(namespace, name), nil, "", nil, &p); err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = name
	}
	return &p, nil
}

// CreateProperty adds a property to a namespace. Name, Title and Type are
// required.
func (c *Client) CreateMetadefProperty(ctx context.Context, namespace string, p *MetadefProperty) (*MetadefProperty, error) {
	var out MetadefProperty
	if _, err := c.doJSON(ctx, http.MethodPost, namespacePath(namespace)+"/properties", nil, "", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateProperty replaces the property called name with p, which may
// rename it.
func (c *Client) UpdateMetadefProperty(ctx context.Context, namespace, name string, p *MetadefProperty) (*MetadefProperty, error) {
	var out MetadefProperty
	if _, err := c.doJSON(ctx, http.MethodPut, propertyPath(namespace, name), nil, "", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteProperty removes one property from a namespace.
func (c *Client) DeleteMetadefProperty(ctx context.Context, namespace, name string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, propertyPath(namespace, name), nil, "", nil, nil)
	return err
}

// DeleteAllProperties removes every property of a namespace.
func (c *Client) DeleteAllMetadefProperties(ctx context.Context, namespace string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, namespacePath(namespace)+"/properties", nil, "", nil, nil)
	return err
}

// ListObjects lists a namespace's objects.
func (c *Client) ListMetadefObjects(ctx context.Context, namespace string) ([]MetadefObject, error) {
	var out struct {
		Objects []MetadefObject `json:"objects"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, namespacePath(namespace)+"/objects", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Objects, nil
}

func objectPath(namespace, name string) string {
	return namespacePath(namespace) + "/objects/" + escape(name)
}

// GetObject returns one object of a namespace.
func (c *Client) GetMetadefObject(ctx context.Context, namespace, name string) (*MetadefObject, error) {
	var o MetadefObject
	if _, err := c.doJSON(ctx, http.MethodGet, objectPath(namespace, name), nil, "", nil, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// writableObject drops the fields the server sets itself.
func writableObject(o *MetadefObject) *MetadefObject {
	return &MetadefObject{Name: o.Name, Description: o.Description, Required: o.Required, Properties: o.Properties}
}

// CreateObject adds an object to a namespace.
func (c *Client) CreateMetadefObject(ctx context.Context, namespace string, o *MetadefObject) (*MetadefObject, error) {
	var out MetadefObject
	if _, err := c.doJSON(ctx, http.MethodPost, namespacePath(namespace)+"/objects", nil, "", writableObject(o), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateObject replaces the object called name with o, which may rename it.
func (c *Client) UpdateMetadefObject(ctx context.Context, namespace, name string, o *MetadefObject) (*MetadefObject, error) {
	var out MetadefObject
	if _, err := c.doJSON(ctx, http.MethodPut, objectPath(namespace, name), nil, "", writableObject(o), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteObject removes one object from a namespace.
func (c *Client) DeleteMetadefObject(ctx context.Context, namespace, name string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, objectPath(namespace, name), nil, "", nil, nil)
	return err
}

// DeleteAllObjects removes every object of a namespace.
func (c *Client) DeleteAllMetadefObjects(ctx context.Context, namespace string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, namespacePath(namespace)+"/objects", nil, "", nil, nil)
	return err
}

// ListTags lists a namespace's tags.
func (c *Client) ListMetadefTags(ctx context.Context, namespace string) ([]MetadefTag, error) {
	var out struct {
		Tags []MetadefTag `json:"tags"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, namespacePath(namespace)+"/tags", nil, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Tags, nil
}

func tagPath(namespace, name string) string {
	return namespacePath(namespace) + "/tags/" + escape(name)
}

// GetTag returns one tag of a namespace.
func (c *Client) GetMetadefTag(ctx context.Context, namespace, name string) (*MetadefTag, error) {
	var t MetadefTag
	if _, err := c.doJSON(ctx, http.MethodGet, tagPath(namespace, name), nil, "", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTag adds one tag to a namespace.
func (c *Client) CreateMetadefTag(ctx context.Context, namespace, name string) (*MetadefTag, error) {
	var t MetadefTag
	if _, err := c.doJSON(ctx, http.MethodPost, tagPath(namespace, name), nil, "", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTags sets a namespace's tags to names, or adds them to the existing
// ones when appending, and returns the tags created.
func (c *Client) CreateMetadefTags(ctx context.Context, namespace string, names []string, appending bool) ([]MetadefTag, error) {
	body := struct {
		Tags []MetadefTag `json:"tags"`
	}{Tags: make([]MetadefTag, len(names))}
	for i, n := range names {
		body.Tags[i].Name = n
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("glance: encoding request: %w", err)
	}
	r := &request{
		method: http.MethodPost, path: namespacePath(namespace) + "/tags",
		header: http.Header{"Content-Type": {"application/json"}},
		body:   bytes.NewReader(data), size: int64(len(data)),
	}
	if appending {
		r.header.Set("X-Openstack-Append", "True")
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Tags []MetadefTag `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("glance: decoding answer to POST %s: %w", resp.Request.URL.Redacted(), err)
	}
	return out.Tags, nil
}

// UpdateTag renames a tag.
func (c *Client) UpdateMetadefTag(ctx context.Context, namespace, name, newName string) (*MetadefTag, error) {
	var t MetadefTag
	if _, err := c.doJSON(ctx, http.MethodPut, tagPath(namespace, name), nil, "", map[string]string{"name": newName}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTag removes one tag from a namespace.
func (c *Client) DeleteMetadefTag(ctx context.Context, namespace, name string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, tagPath(namespace, name), nil, "", nil, nil)
	return err
}

// DeleteAllTags removes every tag of a namespace.
func (c *Client) DeleteAllMetadefTags(ctx context.Context, namespace string) error {
	_, err := c.doJSON(ctx, http.MethodDelete, namespacePath(namespace)+"/tags", nil, "", nil, nil)
	return err
}
