package swiftblob

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sweep implements blob.Sweeper: it deletes the segments written before
// the given time that the blob they were written for does not use (an
// upload cut by a crash, before its manifest).
func (s *Store) Sweep(ctx context.Context, before time.Time) (int, error) {
	old := map[string][]string{} // key -> its old segments
	err := s.listing(ctx, s.prefix+segDir, "", func(o object) {
		t, err := o.modified()
		if err != nil || !t.Before(before) {
			return
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(o.Name, s.prefix+segDir), "/")
		old[key] = append(old[key], o.Name)
	})
	if err != nil {
		return 0, fmt.Errorf("swift store: list segments: %w", err)
	}
	n := 0
	for key, segs := range old {
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
