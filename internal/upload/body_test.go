package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSize(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("0123456789"), 0o644)
	f, _ := os.Open(file)
	defer f.Close()
	f.Seek(4, io.SeekStart)
	pr, pw := io.Pipe()
	defer pw.Close()
	for name, tc := range map[string]struct {
		r    io.Reader
		want int64
	}{
		"file from offset 4": {f, 6},
		"bytes reader":       {bytes.NewReader(make([]byte, 7)), 7},
		"section (seeker)":   {io.NewSectionReader(strings.NewReader("abcdef"), 1, 3), 3},
		"pipe":               {pr, -1},
	} {
		if got := Size(tc.r); got != tc.want {
			t.Errorf("%s: Size = %d, want %d", name, got, tc.want)
		}
	}
	if off, _ := f.Seek(0, io.SeekCurrent); off != 4 {
		t.Errorf("Size moved the file to %d", off)
	}
}

// A replay waits for the previous attempt's body to be closed, starts where
// the data started, and hashes afresh.
func TestReplay(t *testing.T) {
	src := strings.NewReader("xxhello")
	src.Seek(2, io.SeekStart)
	b := NewBody(context.Background(), src)
	first := b.First()
	if got, _ := io.ReadAll(io.LimitReader(first, 3)); string(got) != "hel" {
		t.Fatalf("first read %q", got)
	}
	replayed := make(chan io.ReadCloser)
	go func() {
		rc, err := b.Replay()()
		if err != nil {
			t.Error(err)
		}
		replayed <- rc
	}()
	select {
	case <-replayed:
		t.Fatal("the replay did not wait for the first body to be released")
	case <-time.After(50 * time.Millisecond):
	}
	first.Close()
	second := <-replayed
	if got, _ := io.ReadAll(second); string(got) != "hello" {
		t.Fatalf("replayed %q", got)
	}
	sum := md5.Sum([]byte("hello"))
	if s := b.Sums(); s.Size != 5 || s.MD5 != hex.EncodeToString(sum[:]) {
		t.Errorf("sums after the replay: %+v", s)
	}
}

func TestNoReplayForPipes(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	b := NewBody(context.Background(), pr)
	defer b.Abandon()
	if b.Replay() != nil {
		t.Error("a pipe got a replay")
	}
}

func TestReplayGivesUpWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := NewBody(ctx, strings.NewReader("data"))
	defer b.Abandon()
	cancel()
	if _, err := b.Replay()(); err != context.Canceled {
		t.Errorf("err = %v", err)
	}
}
