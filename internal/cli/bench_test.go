package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkStartup measures building the command tree and running
// --version in-process: the CLI's own start-up cost, without the Go runtime's.
func BenchmarkStartup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		io := &IOStreams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}
		if code := Main(context.Background(), []string{"--version"}, io, func(string) string { return "" }); code != 0 {
			b.Fatal(code)
		}
	}
}

// BenchmarkImageListTable prints a 1000-image verbose list.
func BenchmarkImageListTable(b *testing.B) {
	recs := make([]map[string]any, 1000)
	for i := range recs {
		recs[i] = map[string]any{
			"id": fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), "name": fmt.Sprintf("image-%d", i),
			"disk_format": "qcow2", "container_format": "bare", "size": json.Number("1073741824"),
			"status": "active", "owner": "881a514648aa4148a60d29914b656618",
		}
	}
	cols := []column{{"ID", "id"}, {"Name", "name"}, {"Disk_format", "disk_format"}, {"Container_format", "container_format"},
		{"Size", "size"}, {"Status", "status"}, {"Owner", "owner"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := printRecords(io.Discard, &printOptions{Format: "table"}, cols, recs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
