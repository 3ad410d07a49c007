package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// The namespaces of the metadata definitions API: their create, show,
// update, delete and list calls (metadef.go has what every metadefs call
// shares, metadef_items.go the calls on a namespace's contents).

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
