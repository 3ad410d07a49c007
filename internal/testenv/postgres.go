package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresEnv names the URL of a PostgreSQL database whose user may create
// databases (scripts/test.sh starts a cluster and sets it, from
// scripts/postgres-up.sh). GLANCE_REQUIRE_POSTGRES=1 turns a missing or
// unreachable server from a loud skip into a failure.
const PostgresEnv = "GLANCE_TEST_POSTGRES"

var (
	pgOnce  sync.Once
	pgAdmin *sql.DB
	pgBase  *url.URL
	pgErr   error
)

// Postgres returns the URL of a new, empty PostgreSQL database, dropped when
// the test ends. Without a server it skips the test loudly.
func Postgres(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgAdmin, pgBase, pgErr = findPostgres() })
	if pgErr != nil {
		msg := "POSTGRESQL TEST SKIPPED: " + pgErr.Error() + "; run scripts/test.sh, or scripts/postgres-up.sh DIR and set " +
			PostgresEnv + " to the URL in DIR/pg.url"
		if os.Getenv("GLANCE_REQUIRE_POSTGRES") == "1" {
			t.Fatal("POSTGRESQL TEST FAILED (GLANCE_REQUIRE_POSTGRES=1): " + pgErr.Error())
		}
		t.Skip(msg)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "glance_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pgAdmin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pgAdmin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u := *pgBase
	u.Path = "/" + name
	return u.String()
}

func findPostgres() (*sql.DB, *url.URL, error) {
	raw := os.Getenv(PostgresEnv)
	if raw == "" || raw == "none" {
		return nil, nil, fmt.Errorf("%s is not set", PostgresEnv)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", PostgresEnv, err)
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", PostgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%s: PostgreSQL does not answer: %w", PostgresEnv, err)
	}
	return db, u, nil
}
