package blob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ModTime implements ModTimer.
func (f *File) ModTime(_ context.Context, key string) (time.Time, error) {
	p, err := f.path(key)
	if err != nil {
		return time.Time{}, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("stat blob: %w", err)
	}
	return st.ModTime(), nil
}
