#!/usr/bin/env bash
# postgres-up.sh DIR starts a throw-away PostgreSQL cluster in DIR for tests and
# local clusters of glanced, from Debian's packages (installed with apt-get when
# missing and run as root).
#
#   scripts/postgres-up.sh DIR     creates DIR/pg (once) and starts it
#   scripts/postgres-down.sh DIR   stops it; the data stays in DIR
#
# The cluster listens on its socket in DIR/pg only (no TCP) and trusts local
# connections: it is for tests, not for data anyone keeps. As root it runs as user
# postgres (PostgreSQL refuses root), so DIR and its parents must be searchable by
# that user. It writes DIR/pg.url, a URL of the cluster's postgres database as its
# superuser (postgres:///postgres?host=DIR/pg&user=NAME), which glanced's
# --database and GLANCE_TEST_POSTGRES take. Running it again on a running cluster
# does nothing but write the URL.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: postgres-up.sh DIR}")
say() { echo "postgres-up: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
if [[ ! -x $pgbin/initdb ]]; then
  ((EUID == 0)) || die "PostgreSQL is not installed (apt-get install postgresql, as root)"
  say "installing postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >"${TMPDIR:-/tmp}/postgres-apt.log" 2>&1 ||
    { tail -n 20 "${TMPDIR:-/tmp}/postgres-apt.log" >&2; die "apt-get install postgresql"; }
  pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n 1)
fi
owner=$(if ((EUID)); then id -un; else echo postgres; fi)
pgrun() {
  if ((EUID)); then (cd / && "$pgbin/$1" "${@:2}"); else (cd / && runuser -u postgres -- "$pgbin/$1" "${@:2}"); fi
}

mkdir -p "$DIR"
if ((EUID == 0)) && ! runuser -u postgres -- test -x "$DIR"; then
  die "user postgres cannot reach $DIR: make it and its parents searchable (chmod o+x)"
fi
if [[ ! -f $DIR/pg/PG_VERSION ]]; then
  rm -rf "$DIR/pg"
  mkdir -m 700 "$DIR/pg"
  ((EUID)) || chown postgres: "$DIR/pg"
  pgrun initdb -D "$DIR/pg" -U "$owner" -E UTF8 --locale=C --auth=trust >"$DIR/pg-initdb.log" 2>&1 ||
    { tail -n 20 "$DIR/pg-initdb.log" >&2; die "initdb"; }
  printf "listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\nmax_connections = 200\n" \
    "$DIR/pg" >>"$DIR/pg/postgresql.conf"
fi
if ! pgrun pg_ctl -D "$DIR/pg" status >/dev/null 2>&1; then
  touch "$DIR/pg.log"
  ((EUID)) || chown postgres: "$DIR/pg.log"
  pgrun pg_ctl -D "$DIR/pg" -l "$DIR/pg.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$DIR/pg.log" >&2; die "PostgreSQL did not start"; }
fi
echo "postgres:///postgres?host=$DIR/pg&user=$owner" >"$DIR/pg.url"
