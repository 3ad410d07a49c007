package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestUnavailable(t *testing.T) {
	// A server that is not there: a real connect error from pgx.
	_, connErr := pgconn.Connect(context.Background(), "postgres://u:p@/db?host=/nonexistent&connect_timeout=1")
	if connErr == nil {
		t.Fatal("connected to nothing")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("list images: %w", connErr), true},
		{fmt.Errorf("get: %w", driver.ErrBadConn), true},
		{fmt.Errorf("create: %w", &pgconn.PgError{Code: "57P01"}), true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation
		{&pgconn.PgError{Code: "40001"}, false}, // serialization failure
		{ErrNotFound, false},
		{errors.New("disk full"), false},
		{nil, false},
	} {
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
