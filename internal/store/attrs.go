package store

import "regexp"

// Kind is the JSON type of an image attribute's value.
type Kind int

// The kinds of image attributes.
const (
	KindString Kind = iota
	KindInt
	KindBool
	KindTime   // an ISO 8601 string on the wire
	KindTags   // an array of strings
	KindObject // anything else (locations): never set through the attribute table
)

// Access says who may set an attribute.
type Access int

// The ways an attribute may be written.
const (
	// Writable attributes are set by clients on create and with JSON-Patch.
	Writable Access = iota
	// CreateOnly attributes may be given at creation only (id).
	CreateOnly
	// ReadOnly attributes are the server's; setting one is a 403
	// ("Attribute 'x' is read-only.").
	ReadOnly
	// Reserved names belong to Glance itself ("Attribute 'x' is reserved.").
	Reserved
)

// FilterKind is how GET /v2/images filters on an attribute.
type FilterKind int

// The filter kinds of image attributes.
const (
	NoFilter FilterKind = iota
	// FilterExact compares for equality (owner=..., checksum=...).
	FilterExact
	// FilterEqIn takes a value, eq:value, or in:a,b,"c,d" (name, id, ...).
	FilterEqIn
	// FilterNumber is an exact number, and NAME_min / NAME_max are bounds
	// (size, virtual_size) when Range is set on the attribute.
	FilterNumber
	// FilterTime takes [op:]ISO-time with op gt, gte, lt, lte, eq or neq.
	FilterTime
	// FilterBool takes true or false.
	FilterBool
)

// Attr describes one attribute of an image: its type, who may set it, how
// lists filter and sort on it and where the store keeps it. The schema
// document, create, JSON-Patch, filters, sorting and the SQL columns all
// follow this table; a test holds it against the served schema.
type Attr struct {
	Name     string
	Kind     Kind
	Nullable bool
	Access   Access
	MaxLen   int            // in characters; 0 for none
	Enum     []string       // allowed values (without null)
	Pattern  *regexp.Regexp // a value must match
	// Base attributes are the image's own; the others are well-known custom
	// properties that the schema describes (is_base false).
	Base   bool
	Filter FilterKind
	Range  bool // NAME_min and NAME_max filters
	// Column is the SQL column; "" when the attribute is derived (self,
	// file, schema, stores) or kept among the custom properties.
	Column string
	// NullSort is what NULL counts as when sorting ("" for NOT NULL).
	NullSort string
	// Field points into an Image at the attribute's value (a *string,
	// **string, *int64, **int64, *bool, *time.Time or *[]string), for
	// attributes the record holds in a field of its own.
	Field func(*Image) any
}

// UUIDPattern is Glance's pattern for image ids.
var UUIDPattern = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)

// Value sets of the enumerated attributes, in the schema's order.
var (
	Visibilities     = []string{"community", "public", "private", "shared"}
	ContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	DiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	Statuses         = []string{StatusQueued, StatusSaving, StatusActive, StatusKilled, StatusDeleted, StatusUploading,
		StatusImporting, StatusPendingDelete, StatusDeactivated}
)

// ImageAttrs lists every image attribute the API knows, in the order
// Glance's image schema lists them.
var ImageAttrs = []Attr{
	{Name: "id", Kind: KindString, Access: CreateOnly, Pattern: UUIDPattern, Base: true, Filter: FilterEqIn, Column: "id", Field: func(im *Image) any { return &im.ID }},
	{Name: "name", Kind: KindString, Nullable: true, MaxLen: 255, Base: true, Filter: FilterEqIn, Column: "name", NullSort: "''", Field: func(im *Image) any { return &im.Name }},
	{Name: "status", Kind: KindString, Access: ReadOnly, Enum: Statuses, Base: true, Filter: FilterEqIn, Column: "status", Field: func(im *Image) any { return &im.Status }},
	{Name: "visibility", Kind: KindString, Enum: Visibilities, Base: true, Column: "visibility", Field: func(im *Image) any { return &im.Visibility }},
	{Name: "protected", Kind: KindBool, Base: true, Filter: FilterBool, Column: "protected", Field: func(im *Image) any { return &im.Protected }},
	{Name: "os_hidden", Kind: KindBool, Base: true, Filter: FilterBool, Column: "os_hidden", Field: func(im *Image) any { return &im.Hidden }},
	{Name: "checksum", Kind: KindString, Nullable: true, Access: ReadOnly, MaxLen: 32, Base: true, Filter: FilterExact, Column: "checksum", NullSort: "''", Field: func(im *Image) any { return &im.Checksum }},
	{Name: "os_hash_algo", Kind: KindString, Nullable: true, Access: ReadOnly, MaxLen: 64, Base: true, Filter: FilterExact, Column: "os_hash_algo", NullSort: "''", Field: func(im *Image) any { return &im.HashAlgo }},
	{Name: "os_hash_value", Kind: KindString, Nullable: true, Access: ReadOnly, MaxLen: 128, Base: true, Filter: FilterExact, Column: "os_hash_value", NullSort: "''", Field: func(im *Image) any { return &im.HashValue }},
	{Name: "owner", Kind: KindString, Nullable: true, MaxLen: 255, Base: true, Filter: FilterExact, Column: "owner", NullSort: "''", Field: func(im *Image) any { return &im.Owner }},
	{Name: "size", Kind: KindInt, Nullable: true, Access: ReadOnly, Base: true, Filter: FilterNumber, Range: true, Column: "size", NullSort: "-1", Field: func(im *Image) any { return &im.Size }},
	{Name: "virtual_size", Kind: KindInt, Nullable: true, Access: ReadOnly, Base: true, Filter: FilterNumber, Range: true, Column: "virtual_size", NullSort: "-1", Field: func(im *Image) any { return &im.VirtualSize }},
	{Name: "container_format", Kind: KindString, Nullable: true, Enum: ContainerFormats, Base: true, Filter: FilterEqIn, Column: "container_format", NullSort: "''", Field: func(im *Image) any { return &im.ContainerFormat }},
	{Name: "disk_format", Kind: KindString, Nullable: true, Enum: DiskFormats, Base: true, Filter: FilterEqIn, Column: "disk_format", NullSort: "''", Field: func(im *Image) any { return &im.DiskFormat }},
	{Name: "created_at", Kind: KindTime, Access: ReadOnly, Base: true, Filter: FilterTime, Column: "created_at", Field: func(im *Image) any { return &im.CreatedAt }},
	{Name: "updated_at", Kind: KindTime, Access: ReadOnly, Base: true, Filter: FilterTime, Column: "updated_at", Field: func(im *Image) any { return &im.UpdatedAt }},
	{Name: "tags", Kind: KindTags, MaxLen: 255, Base: true, Column: "tags", Field: func(im *Image) any { return &im.Tags }},
	{Name: "direct_url", Kind: KindString, Access: ReadOnly, Base: true},
	{Name: "min_ram", Kind: KindInt, Base: true, Filter: FilterNumber, Range: true, Column: "min_ram", Field: func(im *Image) any { return &im.MinRAM }},
	{Name: "min_disk", Kind: KindInt, Base: true, Filter: FilterNumber, Range: true, Column: "min_disk", Field: func(im *Image) any { return &im.MinDisk }},
	{Name: "self", Kind: KindString, Access: ReadOnly, Base: true},
	{Name: "file", Kind: KindString, Access: ReadOnly, Base: true},
	{Name: "stores", Kind: KindString, Access: ReadOnly, Base: true},
	{Name: "schema", Kind: KindString, Access: ReadOnly, Base: true},
	{Name: "locations", Kind: KindObject, Access: Reserved, Base: true},
	{Name: "kernel_id", Kind: KindString, Nullable: true, Pattern: UUIDPattern},
	{Name: "ramdisk_id", Kind: KindString, Nullable: true, Pattern: UUIDPattern},
	{Name: "instance_uuid", Kind: KindString},
	{Name: "architecture", Kind: KindString},
	{Name: "os_distro", Kind: KindString},
	{Name: "os_version", Kind: KindString},
	{Name: "description", Kind: KindString},
	{Name: "cinder_encryption_key_id", Kind: KindString},
	{Name: "cinder_encryption_key_deletion_policy", Kind: KindString, Enum: []string{"on_image_deletion", "do_not_delete"}},
}

// SortKeys are the attributes lists sort on, in the order Glance's error
// message names them.
var SortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

var attrIndex = func() map[string]*Attr {
	m := make(map[string]*Attr, len(ImageAttrs))
	for i := range ImageAttrs {
		m[ImageAttrs[i].Name] = &ImageAttrs[i]
	}
	return m
}()

// LookupAttr returns the attribute named name, if the table has it.
func LookupAttr(name string) (*Attr, bool) {
	a, ok := attrIndex[name]
	return a, ok
}

// IsBase reports whether name is one of the image's own attributes (not a
// custom property).
func IsBase(name string) bool {
	a, ok := attrIndex[name]
	return ok && a.Base
}

// AccessOf says how name may be written. Names outside the table are
// custom properties (Writable) unless Glance reserves them: location,
// deleted, deleted_at and everything starting with os_glance.
func AccessOf(name string) Access {
	if a, ok := attrIndex[name]; ok {
		return a.Access
	}
	if name == "location" || name == "deleted" || name == "deleted_at" || len(name) >= 9 && name[:9] == "os_glance" {
		return Reserved
	}
	return Writable
}

// HiddenProps are custom properties Glance keeps but never shows.
var HiddenProps = map[string]bool{"os_glance_stage_host": true, "os_glance_hash_op_host": true}
