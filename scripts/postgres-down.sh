#!/usr/bin/env bash
# postgres-down.sh DIR stops the cluster postgres-up.sh started in DIR (a fast
# shutdown: it does not wait for clients). The data stays.
set -uo pipefail
DIR=$(realpath -m "${1:?usage: postgres-down.sh DIR}")
pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
[[ -f $DIR/pg/postmaster.pid && -x $pgbin/pg_ctl ]] || exit 0
if ((EUID)); then (cd / && "$pgbin/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null)
else (cd / && runuser -u postgres -- "$pgbin/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null); fi
