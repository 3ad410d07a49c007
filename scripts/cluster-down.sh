#!/usr/bin/env bash
# cluster-down.sh DIR stops what cluster-up.sh started in DIR: nginx, the glanced nodes
# (also those a test started again from DIR/nodes), PostgreSQL and Swift. The data stays.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DIR=$(realpath -m "${1:?usage: cluster-down.sh DIR}")
PATH=$PATH:/usr/sbin:/sbin
[[ -f $DIR/nginx.pid ]] && kill -QUIT "$(cat "$DIR/nginx.pid")" 2>/dev/null
# Every glanced run from DIR's binary, whoever started it.
pids=$(pgrep -f "^$DIR/bin/glanced " || true)
[[ -n $pids ]] && kill -TERM $pids 2>/dev/null
for _ in $(seq 60); do
  pids=$(pgrep -f "^$DIR/bin/glanced " || true)
  [[ -z $pids ]] && break
  sleep 0.25
done
[[ -n $pids ]] && { echo "cluster-down: glanced $pids ignored TERM for 15 s; killing" >&2; kill -KILL $pids; }
rm -f "$DIR"/node?.pid
if [[ -f $DIR/pg/postmaster.pid ]]; then
  pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n 1)
  if ((EUID)); then (cd / && "$pgbin/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null)
  else (cd / && runuser -u postgres -- "$pgbin/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null); fi
fi
[[ -d $DIR/swift ]] && "$here/swift-down.sh" "$DIR/swift"
exit 0
