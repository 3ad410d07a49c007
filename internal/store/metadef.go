package store

import (
	"context"
	"fmt"
	"time"
)

// Namespace is a metadata definition namespace (Glance's metadefs): a named
// catalog of properties, objects and tags that describe what may be set on
// images, volumes, flavors and so on.
type Namespace struct {
	Namespace   string
	DisplayName *string
	Description *string
	Visibility  string // public or private
	Protected   bool
	Owner       *string
	CreatedAt   time.Time
	UpdatedAt   *time.Time // nil when never updated (definitions loaded from files)
}

// ResourceType is a kind of resource namespaces apply to (OS::Glance::Image,
// OS::Nova::Flavor, ...). Types the loader creates are protected.
type ResourceType struct {
	Name      string
	Protected bool
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// Association ties a namespace to a resource type, with the prefix its
// property names take on that type.
type Association struct {
	Name             string // the resource type
	Prefix           *string
	PropertiesTarget *string
	CreatedAt        time.Time
	UpdatedAt        *time.Time
}

// ItemKind names the three kinds of content a namespace holds by name.
type ItemKind string

// The kinds of Item.
const (
	MetadefProperty ItemKind = "property"
	MetadefObject   ItemKind = "object"
	MetadefTag      ItemKind = "tag"
)

// Item is one property, object or tag of a namespace. Body is its JSON
// document as the server keeps it (a property's schema, an object's
// description, required list and properties); tags have none.
type Item struct {
	Name      string
	Body      []byte
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// NamespaceContent is what a namespace is created with besides itself.
type NamespaceContent struct {
	Associations []Association
	Properties   []Item
	Objects      []Item
	Tags         []Item
}

// NamespaceQuery selects namespaces as one caller sees them.
type NamespaceQuery struct {
	Admin         bool     // sees every namespace
	Project       string   // the caller's project: its own namespaces besides public ones
	Visibility    string   // "", public or private
	ResourceTypes []string // any of them associated; nil for all
	SortKey       string   // a namespace field; default created_at
	SortDesc      bool
	Marker        string // name of the last namespace of the previous page
	Limit         int    // 0 for all
}

// DuplicateError is a create or rename that would give two records one
// name. Kind is namespace, resource_type_association or an ItemKind.
type DuplicateError struct {
	Kind, Name, Namespace string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s %q of namespace %q: %v", e.Kind, e.Name, e.Namespace, ErrDuplicate)
}

// Unwrap makes errors.Is(err, ErrDuplicate) hold.
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// Metadefs stores metadata definitions. Namespaces are found by name;
// ErrNotFound means the namespace (or the item named) does not exist.
// Each method is one transaction.
type Metadefs interface {
	// CreateNamespace adds ns with its content, all or nothing; creating an
	// association to an unknown resource type creates the type.
	CreateNamespace(ctx context.Context, ns *Namespace, c *NamespaceContent) error
	GetNamespace(ctx context.Context, name string) (*Namespace, error)
	ListNamespaces(ctx context.Context, q NamespaceQuery) ([]*Namespace, error)
	// UpdateNamespace replaces the namespace called name by ns (which may
	// rename it).
	UpdateNamespace(ctx context.Context, name string, ns *Namespace) error
	// DeleteNamespace removes a namespace and all its content.
	DeleteNamespace(ctx context.Context, name string) error

	ResourceTypes(ctx context.Context) ([]*ResourceType, error)
	Associations(ctx context.Context, namespace string) ([]*Association, error)
	Associate(ctx context.Context, namespace string, a *Association) error
	Dissociate(ctx context.Context, namespace, resourceType string) error

	// Items lists a namespace's items of one kind as Glance does: properties
	// and objects by name, tags newest first.
	Items(ctx context.Context, namespace string, kind ItemKind) ([]*Item, error)
	Item(ctx context.Context, namespace string, kind ItemKind, name string) (*Item, error)
	// AddItems adds items of one kind; replace drops the existing ones first.
	AddItems(ctx context.Context, namespace string, kind ItemKind, items []Item, replace bool) error
	// UpdateItem replaces the item called name by it (which may rename it).
	UpdateItem(ctx context.Context, namespace string, kind ItemKind, name string, it *Item) error
	DeleteItem(ctx context.Context, namespace string, kind ItemKind, name string) error
	DeleteItems(ctx context.Context, namespace string, kind ItemKind) error
}
