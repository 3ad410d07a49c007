package server

import (
	"testing"

	"github.com/go-glance/glance/internal/blob"
)

// TestBlobAs: what a store offers beyond blob.Store is found through the
// counting wrapper (two of them here), and what it lacks is not.
func TestBlobAs(t *testing.T) {
	f, err := blob.OpenFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var st blob.Store = &countingBlob{Store: &countingBlob{Store: f}}
	if got, ok := blobAs[*blob.File](st); !ok || got != f {
		t.Fatalf("blobAs[*blob.File] = %v, %v", got, ok)
	}
	if _, ok := blobAs[blob.ModTimer](st); !ok {
		t.Fatal("the file store's ModTime was not found")
	}
	if _, ok := blobAs[blob.Sweeper](st); ok {
		t.Fatal("a file store was taken for a Sweeper")
	}
	if _, ok := st.(blob.ModTimer); ok {
		t.Fatal("the wrapper itself offers ModTime: the test proves nothing")
	}
}
