package swiftblob

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/blob"
)

// Sweep implements blob.Sweeper: it deletes the segments written before
// the given time that the blob they were written for does not use (an
// upload cut by a crash, before its manifest).
func (s *Store) Sweep(ctx context.Context, before time.Time) (int, error) {
	return s.dropUnused(ctx, s.prefix+segDir, func(o object) bool {
		t, err := o.modified()
		return err == nil && t.Before(before)
	})
}

// AbortPartial implements blob.Aborter: it deletes the segments of key
// that its blob does not use, whatever their age (the Put that wrote them
// is known to be dead).
func (s *Store) AbortPartial(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	_, err := s.dropUnused(ctx, s.prefix+segDir+key+"/", func(object) bool { return true })
	return err
}

// dropUnused deletes the segments named prefix... that pick says may go
// and that the blob they were written for does not use.
func (s *Store) dropUnused(ctx context.Context, prefix string, pick func(object) bool) (int, error) {
	found := map[string][]string{} // key -> its segments that may go
	err := s.listing(ctx, prefix, "", func(o object) {
		if pick(o) {
			key, _, _ := strings.Cut(strings.TrimPrefix(o.Name, s.prefix+segDir), "/")
			found[key] = append(found[key], o.Name)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("swift store: list segments: %w", err)
	}
	n := 0
	for key, segs := range found {
		used, err := s.segmentsOf(ctx, s.prefix+key)
		if err != nil {
			return n, fmt.Errorf("swift store: sweep %s: %w", key, err)
		}
		for _, seg := range segs {
			if !slices.Contains(used, seg) {
				s.deleteSegments(ctx, seg, 1)
				n++
			}
		}
	}
	return n, nil
}

// ModTime implements blob.ModTimer: the object's Last-Modified.
func (s *Store) ModTime(ctx context.Context, key string) (time.Time, error) {
	name, err := s.name(key)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := s.do(ctx, http.MethodHead, name, nil, nil, nil, 0)
	if err != nil {
		return time.Time{}, s.keyErr(key, err)
	}
	resp.Body.Close()
	t, err := http.ParseTime(resp.Header.Get("Last-Modified"))
	if err != nil {
		return time.Time{}, fmt.Errorf("swift store: %s: Last-Modified: %w", key, err)
	}
	return t, nil
}
