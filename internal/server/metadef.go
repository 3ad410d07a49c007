package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// The metadata definitions API (/v2/metadefs), as Glance 25.1 answers it.

// metadefRoutes registers the metadefs API and its schemas.
func (s *Server) metadefRoutes(add addFunc) {
	const ns = "/v2/metadefs/namespaces/{ns}"
	add("/v2/metadefs/namespaces", "GET!", s.listNamespaces, "POST", s.createNamespace)
	add(ns, "GET!", s.showNamespace, "PUT", s.updateNamespace, "DELETE!", s.deleteNamespace)
	add(ns+"/properties", "GET!", s.listProperties, "POST", s.createProperty, "DELETE!", s.deleteAll(store.MetadefProperty))
	add(ns+"/properties/{name}", "GET!", s.showProperty, "PUT", s.updateProperty, "DELETE!", s.deleteItem(store.MetadefProperty))
	add(ns+"/objects", "GET!", s.listObjects, "POST", s.createObject, "DELETE!", s.deleteAll(store.MetadefObject))
	add(ns+"/objects/{name}", "GET!", s.showObject, "PUT", s.updateObject, "DELETE!", s.deleteItem(store.MetadefObject))
	add(ns+"/tags", "GET!", s.listTags, "POST", s.createTags, "DELETE!", s.deleteAll(store.MetadefTag))
	add(ns+"/tags/{name}", "GET!", s.showTag, "POST", s.createTag, "PUT", s.updateTag, "DELETE!", s.deleteItem(store.MetadefTag))
	add("/v2/metadefs/resource_types", "GET!", s.listResourceTypes)
	add(ns+"/resource_types", "GET!", s.listAssociations, "POST", s.createAssociation)
	add(ns+"/resource_types/{rt}", "DELETE!", s.deleteAssociation)
	for _, n := range []string{"namespace", "namespaces", "resource_type", "resource_types", "property",
		"properties", "object", "objects", "tag", "tags"} {
		add("/v2/schemas/metadefs/"+n, "GET!", s.schema("metadefs-"+n))
	}
}

// metadefs is the store of definitions; every shipped backend has one.
func (s *Server) metadefs() (store.Metadefs, error) {
	md, ok := metaAs[store.Metadefs](s.meta)
	if !ok {
		return nil, errorf(http.StatusNotImplemented, "The metadata database does not hold metadata definitions.")
	}
	return md, nil
}

// namespaceVisible is Glance's database-level check, made before any
// policy: admins see everything, others public namespaces, their
// project's, and namespaces without an owner.
func namespaceVisible(c *caller, ns *store.Namespace) bool {
	return c.Admin || ns.Owner == nil || ns.Visibility == "public" || (c.ProjectID != "" && *ns.Owner == c.ProjectID)
}

// errNamespaceGone is the 404 most metadef calls answer for a namespace
// that does not exist or that the caller cannot see.
func errNamespaceGone(name string) *apiError {
	return errorf(http.StatusNotFound, "Namespace %s not found", name)
}

func errNamespaceMissing(name string) *apiError {
	return errorf(http.StatusNotFound, "Metadata definition namespace=%s was not found.", name)
}

// namespace loads the namespace of the request for the caller and checks
// rule on it. Glance words the 404 of a missing namespace two ways,
// depending on the call: missing is that answer, or nil for the usual one.
func (s *Server) namespace(r *http.Request, rule string, missing func(string) *apiError) (*caller, store.Metadefs, *store.Namespace, error) {
	c := callerFrom(r.Context())
	md, err := s.metadefs()
	if err != nil {
		return nil, nil, nil, err
	}
	name := r.PathValue("ns")
	ns, err := md.GetNamespace(r.Context(), name)
	switch {
	case errors.Is(err, store.ErrNotFound) && missing != nil:
		return nil, nil, nil, missing(name)
	case errors.Is(err, store.ErrNotFound):
		return nil, nil, nil, errNamespaceGone(name)
	case err != nil:
		return nil, nil, nil, err
	case !namespaceVisible(c, ns):
		return nil, nil, nil, errNamespaceGone(name)
	}
	if err := s.authorizeMetadef(c, ns, rule); err != nil {
		return nil, nil, nil, err
	}
	return c, md, ns, nil
}

// readDoc decodes a JSON request body into v, refusing the read-only
// fields Glance refuses with a 403 and, when schema names one of the
// metadefs schemas, fields it does not define (400).
func readDoc(r *http.Request, v any, schema string, readOnly ...string) error {
	body, err := readBody(r, 1<<20)
	if err != nil {
		return err
	}
	m, ok := body.(map[string]any)
	if !ok {
		return errorf(http.StatusBadRequest, "%s is not of type 'object'", pyRepr(body))
	}
	for _, k := range readOnly {
		if _, ok := m[k]; ok {
			return errorf(http.StatusForbidden, "Attribute '%s' is read-only.", k)
		}
	}
	if schema != "" {
		name, fields := schemaFields(schema)
		for k := range m {
			if !fields[k] {
				return mdSchemaError(name, "Additional properties are not allowed ('%s' was unexpected)", k)
			}
		}
	}
	raw, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
		return errorf(http.StatusBadRequest, "Invalid input for the request body: %v", err)
	}
	return nil
}

// schemaFields are the name of a metadefs schema document and the fields
// it defines.
func schemaFields(name string) (string, map[string]bool) {
	var doc struct {
		Name       string                     `json:"name"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	b, err := schemaFS.ReadFile("schemas/metadefs-" + name + ".json")
	if err != nil || json.Unmarshal(b, &doc) != nil {
		panic("embedded schema " + name) // embedded at build time
	}
	out := map[string]bool{}
	for k := range doc.Properties {
		out[k] = true
	}
	return doc.Name, out
}

// mdSchemaError is Glance's 400 for a body its schema refuses.
func mdSchemaError(schema, format string, args ...any) *apiError {
	e := errorf(http.StatusBadRequest, format, args...)
	e.msg = "Provided object does not match schema '" + schema + "': " + e.msg
	return e
}

// storeError maps the store's typed errors to Glance's answers.
func storeError(err error, notFound string) error {
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &dup):
		return errorf(http.StatusConflict, "%s", duplicateMessage(dup))
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "%s", notFound)
	}
	return err
}

func duplicateMessage(d *store.DuplicateError) string {
	switch d.Kind {
	case "namespace":
		return "The metadata definition namespace=" + d.Name + " already exists."
	case string(store.MetadefTag):
		return "A metadata tag with name=" + d.Name + " already exists in namespace=" + d.Namespace +
			". (Please note that metadata tag names are case insensitive)."
	case "resource_type_association":
		return "The metadata definition resource-type association of resource-type=" + d.Name +
			" to namespace=" + d.Namespace + " already exists."
	}
	return "A metadata definition " + d.Kind + " with name=" + d.Name + " already exists in namespace=" + d.Namespace + "."
}

// checkNamespaceDoc checks a namespace body as Glance's schema does.
func checkNamespaceDoc(d *namespaceDoc) error {
	switch {
	case d.Namespace == "":
		return mdSchemaError("namespace", "'namespace' is a required property")
	case len([]rune(d.Namespace)) > 80:
		return mdSchemaError("namespace", "'%s' is too long", d.Namespace)
	case d.DisplayName != nil && len([]rune(*d.DisplayName)) > 80:
		return mdSchemaError("namespace", "'%s' is too long", *d.DisplayName)
	case d.Description != nil && len([]rune(*d.Description)) > 500:
		return mdSchemaError("namespace", "'%s' is too long", *d.Description)
	case d.Owner != nil && len([]rune(*d.Owner)) > 255:
		return mdSchemaError("namespace", "'%s' is too long", *d.Owner)
	case d.Visibility != nil && *d.Visibility != "public" && *d.Visibility != "private":
		return mdSchemaError("namespace", "'%s' is not one of ['public', 'private']", *d.Visibility)
	}
	return nil
}

// namespaceFromDoc is the namespace a create or update body describes;
// unset fields take Glance's defaults.
func namespaceFromDoc(c *caller, d *namespaceDoc, now time.Time) *store.Namespace {
	ns := &store.Namespace{Namespace: d.Namespace, DisplayName: d.DisplayName, Description: d.Description,
		Visibility: "private", Owner: d.Owner, CreatedAt: now, UpdatedAt: &now}
	if d.Visibility != nil {
		ns.Visibility = *d.Visibility
	}
	if d.Protected != nil {
		ns.Protected = *d.Protected
	}
	if ns.Owner == nil && c.ProjectID != "" {
		p := c.ProjectID
		ns.Owner = &p
	}
	return ns
}

var nsReadOnly = []string{"self", "schema", "created_at", "updated_at"}

// readNamespaceDoc reads and checks a namespace create or update body.
func readNamespaceDoc(r *http.Request) (*namespaceDoc, error) {
	var d namespaceDoc
	if err := readDoc(r, &d, "namespace", nsReadOnly...); err != nil {
		return nil, err
	}
	return &d, checkNamespaceDoc(&d)
}

func (s *Server) createNamespace(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	md, err := s.metadefs()
	if err != nil {
		return err
	}
	d, err := readNamespaceDoc(r)
	if err != nil {
		return err
	}
	rules := []string{"add_metadef_namespace"}
	for _, r := range []struct {
		has  bool
		rule string
	}{{len(d.Associations) > 0, "add_metadef_resource_type_association"}, {len(d.Objects) > 0, "add_metadef_object"},
		{d.Properties != nil && len(*d.Properties) > 0, "add_metadef_property"}, {len(d.Tags) > 0, "add_metadef_tag"}} {
		if r.has {
			rules = append(rules, r.rule)
		}
	}
	if err := s.authorizeMetadefs(c, rules...); err != nil {
		return err
	}
	now := mdNow()
	ns := namespaceFromDoc(c, d, now)
	content, err := namespaceContent(d, now)
	if err != nil {
		return err
	}
	if err := md.CreateNamespace(r.Context(), ns, content); err != nil {
		return storeError(err, "")
	}
	out := toNamespaceDoc(ns)
	out.Associations, out.Properties, out.Objects, out.Tags = d.Associations, d.Properties, d.Objects, d.Tags
	w.Header().Set("Location", s.baseURL(r)+nsHref(ns.Namespace))
	return writeDoc(w, http.StatusCreated, out)
}

// namespaceContent is the content of a create body, in store records.
func namespaceContent(d *namespaceDoc, now time.Time) (*store.NamespaceContent, error) {
	c := &store.NamespaceContent{}
	for i := range d.Associations {
		a := &d.Associations[i]
		if a.Name == "" {
			return nil, errorf(http.StatusBadRequest, "Invalid input for field/attribute name. Value: None. Mandatory field missing.")
		}
		a.CreatedAt, a.UpdatedAt = "", ""
		c.Associations = append(c.Associations, store.Association{Name: a.Name, Prefix: a.Prefix,
			PropertiesTarget: a.PropertiesTarget, CreatedAt: now, UpdatedAt: &now})
	}
	if d.Properties != nil {
		items, err := propertyItems(*d.Properties, now)
		if err != nil {
			return nil, err
		}
		c.Properties = items
	}
	for i := range d.Objects {
		o := &d.Objects[i]
		if o.Name == "" {
			return nil, errorf(http.StatusBadRequest, "Invalid input for field/attribute name. Value: None. Mandatory field missing.")
		}
		o.CreatedAt, o.UpdatedAt, o.Self, o.Schema = "", "", "", ""
		it, err := objectItem(o, now)
		if err != nil {
			return nil, err
		}
		c.Objects = append(c.Objects, it)
	}
	for i := range d.Tags {
		t := &d.Tags[i]
		t.CreatedAt, t.UpdatedAt = "", ""
		c.Tags = append(c.Tags, store.Item{Name: t.Name, Body: []byte("{}"), CreatedAt: now, UpdatedAt: &now})
	}
	return c, nil
}

func (s *Server) showNamespace(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	md, err := s.metadefs()
	if err != nil {
		return err
	}
	name := r.PathValue("ns")
	ns, err := md.GetNamespace(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return errNamespaceMissing(name)
	} else if err != nil {
		return err
	}
	// Glance hides a namespace the caller may not get as if it did not exist.
	if !namespaceVisible(c, ns) || s.authorizeMetadef(c, ns, "get_metadef_namespace") != nil {
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}
	for _, rule := range []string{"list_metadef_resource_types", "get_metadef_objects", "get_metadef_properties", "get_metadef_tags"} {
		if err := s.authorizeMetadef(c, ns, rule); err != nil {
			return err
		}
	}
	d, err := s.namespaceDetail(r.Context(), md, ns)
	if err != nil {
		return err
	}
	if rt := r.URL.Query().Get("resource_type"); rt != "" {
		prefixProperties(&d, rt)
	}
	return writeDoc(w, http.StatusOK, d)
}

// namespaceDetail is a namespace with its associations, properties,
// objects and tags.
func (s *Server) namespaceDetail(ctx context.Context, md store.Metadefs, ns *store.Namespace) (namespaceDoc, error) {
	d := toNamespaceDoc(ns)
	objs, err := md.Items(ctx, ns.Namespace, store.MetadefObject)
	if err != nil {
		return d, err
	}
	for _, it := range objs {
		o, err := toObjectDoc(ns.Namespace, it)
		if err != nil {
			return d, err
		}
		d.Objects = append(d.Objects, o)
	}
	if d.Associations, err = s.associationDocs(ctx, md, ns.Namespace); err != nil {
		return d, err
	}
	props, err := md.Items(ctx, ns.Namespace, store.MetadefProperty)
	if err != nil {
		return d, err
	}
	if len(props) > 0 {
		ps, err := toProperties(props)
		if err != nil {
			return d, err
		}
		d.Properties = &ps
	}
	tags, err := md.Items(ctx, ns.Namespace, store.MetadefTag)
	if err != nil {
		return d, err
	}
	for _, t := range tags {
		d.Tags = append(d.Tags, tagDoc{Name: t.Name})
	}
	return d, nil
}

func (s *Server) associationDocs(ctx context.Context, md store.Metadefs, ns string) ([]associationDoc, error) {
	as, err := md.Associations(ctx, ns)
	if err != nil {
		return nil, err
	}
	var out []associationDoc
	for _, a := range as {
		out = append(out, toAssociationDoc(a))
	}
	return out, nil
}

// prefixProperties gives property names the prefix of the resource type
// rt, as Glance's show with ?resource_type= does.
func prefixProperties(d *namespaceDoc, rt string) {
	var prefix string
	for _, a := range d.Associations {
		if a.Name == rt && a.Prefix != nil {
			prefix = *a.Prefix
			break
		}
	}
	if prefix == "" {
		return
	}
	addPrefix := func(ps *properties) {
		if ps == nil {
			return
		}
		for i := range *ps {
			(*ps)[i].name = prefix + (*ps)[i].name
		}
	}
	addPrefix(d.Properties)
	for i := range d.Objects {
		o := &d.Objects[i]
		addPrefix(o.Properties)
		if o.Required != nil && len(*o.Required) > 0 {
			req := make([]string, len(*o.Required))
			for j, n := range *o.Required {
				req[j] = prefix + n
			}
			o.Required = &req
		}
	}
}

func (s *Server) updateNamespace(w http.ResponseWriter, r *http.Request) error {
	c, md, ns, err := s.namespace(r, "modify_metadef_namespace", nil)
	if err != nil {
		return err
	}
	d, err := readNamespaceDoc(r)
	if err != nil {
		return err
	}
	now := mdNow()
	up := namespaceFromDoc(c, d, now)
	up.CreatedAt = ns.CreatedAt
	if err := md.UpdateNamespace(r.Context(), ns.Namespace, up); err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	return writeDoc(w, http.StatusOK, toNamespaceDoc(up))
}

func (s *Server) deleteNamespace(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "delete_metadef_namespace", nil)
	if err != nil {
		return err
	}
	if ns.Protected {
		return errNamespaceProtected(ns)
	}
	if err := md.DeleteNamespace(r.Context(), ns.Namespace); err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func errNamespaceProtected(ns *store.Namespace) *apiError {
	return errorf(http.StatusForbidden, "Metadata definition namespace %s is protected and cannot be deleted.", ns.Namespace)
}

// deleteAll removes every item of one kind from a namespace. Glance checks
// delete_metadef_namespace for all three kinds (and delete_metadef_tags
// for tags) and refuses on a protected namespace as for its deletion.
func (s *Server) deleteAll(kind store.ItemKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, md, ns, err := s.namespace(r, "delete_metadef_namespace", nil)
		if err != nil {
			return err
		}
		if kind == store.MetadefTag {
			if err := s.authorizeMetadef(c, ns, "delete_metadef_tags"); err != nil {
				return err
			}
		}
		if ns.Protected {
			return errNamespaceProtected(ns)
		}
		if err := md.DeleteItems(r.Context(), ns.Namespace, kind); err != nil {
			return storeError(err, "Namespace "+ns.Namespace+" not found")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	md, err := s.metadefs()
	if err != nil {
		return err
	}
	pairs, err := parseQueryOrdered(r.URL.RawQuery)
	if err != nil {
		return err
	}
	q, err := s.namespaceQuery(c, pairs)
	if err != nil {
		return err
	}
	if err := s.authorizeMetadefs(c, "get_metadef_namespaces", "list_metadef_resource_types"); err != nil {
		return err
	}
	if q.Marker != "" {
		m, err := md.GetNamespace(r.Context(), q.Marker)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !namespaceVisible(c, m)) {
			return errNamespaceMissing(q.Marker)
		} else if err != nil {
			return err
		}
	}
	list, err := md.ListNamespaces(r.Context(), q)
	if errors.Is(err, store.ErrSortKey) {
		return errorf(http.StatusBadRequest, "Sort key supplied is invalid: %s", q.SortKey)
	} else if err != nil {
		return err
	}
	if q.Limit == 0 {
		list = nil // limit=0 asks for an empty page; the store reads 0 as no limit
	}
	out := struct {
		Namespaces []namespaceDoc `json:"namespaces"`
		Next       string         `json:"next,omitempty"`
		Schema     string         `json:"schema"`
		First      string         `json:"first"`
	}{Namespaces: []namespaceDoc{}, Schema: "/v2/schemas/metadefs/namespaces"}
	for _, ns := range list {
		if s.authorizeMetadef(c, ns, "get_metadef_namespace") != nil {
			continue
		}
		d := toNamespaceDoc(ns)
		if d.Associations, err = s.associationDocs(r.Context(), md, ns.Namespace); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		out.Namespaces = append(out.Namespaces, d)
	}
	out.First, out.Next = namespaceLinks(pairs, out.Namespaces, q.Limit)
	return writeDoc(w, http.StatusOK, out)
}

// namespaceLinks are the first and next links of a namespace list: the
// request's parameters (the last of repeated ones) without the marker,
// and with the last namespace as marker when the page is full.
func namespaceLinks(pairs []queryPair, page []namespaceDoc, limit int) (first, next string) {
	var kept []queryPair
	for _, p := range pairs {
		if p.k == "marker" {
			continue
		}
		if i := indexPair(kept, p.k); i >= 0 {
			kept[i].v = p.v
			continue
		}
		kept = append(kept, p)
	}
	first = "/v2/metadefs/namespaces"
	if q := encodeQuery(kept); q != "" {
		first += "?" + q
	}
	if len(page) > 0 && len(page) == limit {
		next = "/v2/metadefs/namespaces?" + encodeQuery(append(kept, queryPair{"marker", page[len(page)-1].Namespace}))
	}
	return first, next
}

func indexPair(ps []queryPair, k string) int {
	for i, p := range ps {
		if p.k == k {
			return i
		}
	}
	return -1
}

// namespaceQuery reads a namespace list's parameters as Glance does.
func (s *Server) namespaceQuery(c *caller, pairs []queryPair) (store.NamespaceQuery, error) {
	q := store.NamespaceQuery{Admin: c.Admin, Project: c.ProjectID, SortKey: "created_at", SortDesc: true,
		Limit: defaultLimit}
	for _, p := range pairs {
		switch p.k {
		case "limit":
			n, err := strconv.Atoi(p.v)
			if err != nil {
				return q, errorf(http.StatusBadRequest, "limit param must be an integer")
			}
			if n < 0 {
				return q, errorf(http.StatusBadRequest, "limit param must be positive")
			}
			q.Limit = min(n, maxLimit)
		case "marker":
			q.Marker = p.v
		case "sort_key":
			q.SortKey = p.v
		case "sort_dir":
			if p.v != "asc" && p.v != "desc" {
				return q, errorf(http.StatusBadRequest, "Invalid sort direction: %s", p.v)
			}
			q.SortDesc = p.v == "desc"
		case "visibility":
			if p.v != "" && p.v != "public" && p.v != "private" {
				return q, errorf(http.StatusBadRequest, "Invalid visibility value: %s", p.v)
			}
			q.Visibility = p.v
		case "resource_types":
			q.ResourceTypes = strings.Split(p.v, ",")
		}
	}
	return q, nil
}
