package store

import (
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err says the database server cannot be
// reached or is going down or starting up (a restart, a failover), rather
// than that a request failed: callers answer it as a passing outage.
func Unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.Is(err, driver.ErrBadConn), pgconn.SafeToRetry(err):
		// Not connected, or the request never reached the server.
		return true
	case errors.As(err, &pe):
		// Class 08: connection exceptions; 57P01-57P03: admin shutdown,
		// crash shutdown, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}

// BadValue reports whether err is the database refusing a value it was
// given (SQLSTATE class 22, data exception: text it cannot hold, a number
// out of range): a value from the request, which callers answer as bad
// input. The server checks text before it gets here; this is the backstop.
func BadValue(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22")
}
