package v1

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Image is an image record as the v1 API shows it. Base fields have typed
// fields; custom properties are in Properties. Fields keeps the record as
// the server sent it (custom properties under "properties"), for callers
// that print or forward it.
type Image struct {
	ID              string
	Name            string
	Status          string // queued, saving, active, killed, deleted, pending_delete, deactivated
	DiskFormat      string
	ContainerFormat string
	Size            int64
	VirtualSize     *int64
	Checksum        string // MD5 of the data, hex
	Owner           string
	IsPublic        bool
	Protected       bool
	Deleted         bool
	MinDisk         int
	MinRAM          int
	CreatedAt       time.Time
	UpdatedAt       time.Time
	DeletedAt       *time.Time

	Properties map[string]string
	Fields     map[string]any
}

// imageFromFields builds an Image from a decoded record: a JSON object (with
// json.Number numbers) or the fields metaFromHeader collected.
func imageFromFields(f map[string]any) *Image {
	img := &Image{Fields: f, Properties: map[string]string{}}
	str := func(k string) string {
		switch v := f[k].(type) {
		case string:
			return v
		case nil:
			return ""
		default:
			return fmt.Sprint(v)
		}
	}
	img.ID, img.Name, img.Status = str("id"), str("name"), str("status")
	img.DiskFormat, img.ContainerFormat = str("disk_format"), str("container_format")
	img.Checksum, img.Owner = str("checksum"), str("owner")
	img.Size, _ = intField(f["size"])
	if n, ok := intField(f["virtual_size"]); ok {
		img.VirtualSize = &n
	}
	disk, _ := intField(f["min_disk"])
	ram, _ := intField(f["min_ram"])
	img.MinDisk, img.MinRAM = int(disk), int(ram)
	img.IsPublic, img.Protected, img.Deleted = boolField(f["is_public"]), boolField(f["protected"]), boolField(f["deleted"])
	img.CreatedAt, _ = parseTime(str("created_at"))
	img.UpdatedAt, _ = parseTime(str("updated_at"))
	if t, ok := parseTime(str("deleted_at")); ok {
		img.DeletedAt = &t
	}
	if props, ok := f["properties"].(map[string]any); ok {
		for k, v := range props {
			switch v := v.(type) {
			case string:
				img.Properties[k] = v
			case nil:
				img.Properties[k] = ""
			default:
				img.Properties[k] = fmt.Sprint(v)
			}
		}
	}
	return img
}

func intField(v any) (int64, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case int64:
		return v, true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func boolField(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return boolFromString(v)
	}
	return false
}

// timeLayouts are the forms of Glance v1 timestamps: ISO 8601 without a zone
// (UTC), with or without microseconds, in JSON and headers alike.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

func parseTime(s string) (time.Time, bool) {
	if s == "" || s == "None" {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// MarshalJSON encodes the record as the server sent it.
func (img *Image) MarshalJSON() ([]byte, error) { return json.Marshal(img.Fields) }

// UnmarshalJSON decodes a v1 image record.
func (img *Image) UnmarshalJSON(data []byte) error {
	var f map[string]any
	if err := decodeNumbers(data, &f); err != nil {
		return fmt.Errorf("decoding image: %w", err)
	}
	*img = *imageFromFields(f)
	return nil
}
