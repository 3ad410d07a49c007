#!/usr/bin/env bash
# cluster-up.sh DIR starts glanced as a site beyond one machine would run it, from Debian's
# packages, everything on loopback and in DIR:
#
#   DIR/pg       PostgreSQL, a cluster of its own (socket in DIR/pg, no TCP)
#   DIR/swift    Swift all-in-one with s3api (scripts/swift-up.sh)
#   node1 node2  glanced (noauth) sharing the database and the object store (images in
#                Swift, an S3 store on s3api beside it, staging in Swift)
#   nginx        in front of both, http://127.0.0.1:$CLUSTER_PORT (default 19500)
#
# It writes DIR/env (OS_IMAGE_URL of the front end, OS_AUTH_TOKEN=noauth; CLUSTER_DB, CLUSTER_AUTH,
# CLUSTER_PEER) and DIR/nodes, one
# line per node: its URL, its PID and the command line that starts it again (the node's
# secrets are in DIR/secrets.env, mode 0600, not on the command line). cluster-down.sh DIR
# stops it all. Each node has its own --node-id (node1, node2) and short leases:
# CLUSTER_LEASE_TTL (default 10s), CLUSTER_JANITOR_INTERVAL (3s), CLUSTER_ORPHAN_GRACE (2m). CLUSTER_DB=postgres|sqlite picks the database: postgres when this glanced
# takes postgres:// URLs, else one SQLite file that both nodes share (which works on one
# machine only, and has no leases: a node that starts resets the other's uploads).
# CLUSTER_PEER=PEERDIR (a folder of openstack-up.sh) runs the nodes in keystone mode on that
# peer's Keystone, with its glance service user, instead of noauth.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DIR=$(mkdir -p "${1:?usage: cluster-up.sh DIR}" && cd "$1" && pwd)
say() { echo "cluster-up: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
source "$here/peer-lib.sh"
PATH=$PATH:/usr/sbin:/sbin
mkdir -p "$DIR"/{bin,log,nginx-tmp}

need=()
[[ -x /usr/sbin/nginx ]] || need+=(nginx)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if ((${#need[@]})); then
  ((EUID == 0)) || die "not root, and missing: ${need[*]}"
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends "${need[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${need[@]}"; }; } \
    >"$DIR/log/apt.log" 2>&1 || die "apt-get install failed; see $DIR/log/apt.log"
fi

# ---- object store --------------------------------------------------------------------------
SWIFT_KEYSTONE_PEER=${CLUSTER_PEER:-} "$here/swift-up.sh" "$DIR/swift"
source "$DIR/swift/env"

# ---- PostgreSQL ----------------------------------------------------------------------------
pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n 1)
pgrun() { if ((EUID)); then (cd / && "$pgbin/$1" "${@:2}"); else (cd / && runuser -u postgres -- "$pgbin/$1" "${@:2}"); fi; }
pgsql() { pgrun psql -h "$DIR/pg" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if ((EUID == 0)); then chmod o+x "$DIR"; runuser -u postgres -- test -x "$DIR/log" || die "user postgres cannot reach $DIR (chmod o+x its parents)"; fi
if [[ ! -f $DIR/pg/PG_VERSION ]]; then
  rm -rf "$DIR/pg" && mkdir -m 700 "$DIR/pg"
  ((EUID)) || chown postgres: "$DIR/pg"
  pgrun initdb -D "$DIR/pg" -E UTF8 --locale=C >"$DIR/log/initdb.log" 2>&1 || die "initdb; see $DIR/log/initdb.log"
  printf 'local all %s peer\nlocal all all scram-sha-256\n' "$(if ((EUID)); then id -un; else echo postgres; fi)" >"$DIR/pg/pg_hba.conf"
  printf "listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\n" "$DIR/pg" >>"$DIR/pg/postgresql.conf"
fi
touch "$DIR/log/postgresql.log"
((EUID)) || chown postgres: "$DIR/log/postgresql.log"
pgrun pg_ctl -D "$DIR/pg" status >/dev/null 2>&1 ||
  pgrun pg_ctl -D "$DIR/pg" -l "$DIR/log/postgresql.log" -w -t 60 start >/dev/null || die "PostgreSQL did not start"
[[ -n $(pgsql -c "SELECT 1 FROM pg_roles WHERE rolname = 'glance'") ]] ||
  pgsql -c "CREATE ROLE glance LOGIN PASSWORD 'glance-secret'" -c "CREATE DATABASE glance OWNER glance"

# ---- glanced nodes -------------------------------------------------------------------------
say "building glanced"
(cd "$here/.." && go build -o "$DIR/bin/glanced.new" ./cmd/glanced) || die "go build ./cmd/glanced"
mv -f "$DIR/bin/glanced.new" "$DIR/bin/glanced"
db=${CLUSTER_DB:-}
if [[ -z $db ]]; then
  db=sqlite
  # Not a pipe into grep -q: under pipefail, glanced's SIGPIPE would fail the test.
  [[ $("$DIR/bin/glanced" --help 2>&1) == *'postgres://'* ]] && db=postgres
fi
case $db in
postgres) database="postgres://glance:glance-secret@/glance?host=$DIR/pg" ;;
sqlite) database="sqlite://$DIR/shared.db"; say "NOTE: this glanced has no PostgreSQL backend: both nodes share $DIR/shared.db" ;;
*) die "CLUSTER_DB=$db: want postgres or sqlite" ;;
esac
auth=noauth kuser= kpassword= kproject= kdomain=
if [[ -n ${CLUSTER_PEER:-} ]]; then
  [[ -f $CLUSTER_PEER/peer.env ]] || die "CLUSTER_PEER=$CLUSTER_PEER: no peer.env there"
  source "$CLUSTER_PEER/peer.env"
  read -r kuser kpassword kproject kdomain _ <<<"$(source "$CLUSTER_PEER/users.env" && echo "$PEER_USER_GLANCE")"
  auth=keystone
fi
# Images beyond this size are segmented (glance_store's default is 5 GiB): small here, so that
# the fault tests' uploads leave segments when cut.
swift_chunk=${CLUSTER_SWIFT_CHUNK:-4MiB}
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
umask 077
cat >"$DIR/secrets.env" <<EOF
export ST_USER='$SWIFT_USER' ST_KEY='$SWIFT_KEY'
export AWS_ACCESS_KEY_ID='$S3_ACCESS_KEY' AWS_SECRET_ACCESS_KEY='$S3_SECRET_KEY'
export GLANCED_DATABASE='$database'
export GLANCED_STORES='swift=swift://glance-images?auth_url=$(enc "$SWIFT_AUTH_URL")&chunk_size=$swift_chunk,Swift;s3=s3://glance-s3/images?endpoint=$(enc "$S3_ENDPOINT"),S3 (Swift s3api)'
export GLANCED_AUTH=$auth GLANCED_KEYSTONE_AUTH_URL='${PEER_KEYSTONE_URL:-}' GLANCED_KEYSTONE_USERNAME='$kuser'
export GLANCED_KEYSTONE_PASSWORD='$kpassword' GLANCED_KEYSTONE_PROJECT_NAME='$kproject'
export GLANCED_KEYSTONE_USER_DOMAIN_NAME='$kdomain' GLANCED_KEYSTONE_PROJECT_DOMAIN_NAME='$kdomain'
export GLANCED_STAGING='swift://glance-staging?auth_url=$(enc "$SWIFT_AUTH_URL")'
EOF
umask 022

# The metadata definitions Debian's Glance ships, as glance-manage db_load_metadefs loads them
# (namespaces already there are kept).
if [[ -d /etc/glance/metadefs ]]; then
  mkdir -p "$DIR/node1"
  (source "$DIR/secrets.env" && "$DIR/bin/glanced" metadefs load /etc/glance/metadefs --data-dir "$DIR/node1") \
    >>"$DIR/log/metadefs.log" 2>&1 || die "glanced metadefs load; see $DIR/log/metadefs.log"
fi

port=${CLUSTER_PORT:-19500}
# Short leases, so that a fault test sees a killed node's work reset within seconds.
lease_ttl=${CLUSTER_LEASE_TTL:-10s} janitor_interval=${CLUSTER_JANITOR_INTERVAL:-3s}
orphan_grace=${CLUSTER_ORPHAN_GRACE:-2m}
while busy "$port" || busy $((port + 1)) || busy $((port + 2)); do port=$((port + 10)); done
: >"$DIR/nodes"
for n in 1 2; do
  nport=$((port + n))
  mkdir -p "$DIR/node$n"
  # The command line a test runs to start the node again: it takes the secrets from the
  # file and execs glanced, keeping its PID.
  cat >"$DIR/node$n/run" <<EOF
#!/usr/bin/env bash
source '$DIR/secrets.env'
exec '$DIR/bin/glanced' --listen 127.0.0.1:$nport --data-dir '$DIR/node$n' --node-id node$n \\
  --lease-ttl $lease_ttl --janitor-interval $janitor_interval --orphan-grace $orphan_grace \\
  --default-store swift --public-url http://127.0.0.1:$port \\
  --import-allowed-hosts 127.0.0.1 --import-allowed-ports '*' >>'$DIR/log/node$n.log' 2>&1
EOF
  chmod +x "$DIR/node$n/run"
  start "node$n" /dev/null "$DIR/node$n/run"
  wait_http "node$n" "http://127.0.0.1:$nport/versions" "$DIR/log/node$n.log"
  echo "http://127.0.0.1:$nport $(cat "$DIR/node$n.pid") $DIR/node$n/run" >>"$DIR/nodes"
done

# ---- nginx ---------------------------------------------------------------------------------
{
  ((EUID == 0)) && echo "user root root;"
  cat <<NGINX
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/log/nginx-error.log;
events { worker_connections 512; }
http {
  access_log $DIR/log/nginx-access.log;
  client_body_temp_path $DIR/nginx-tmp/body;
  proxy_temp_path $DIR/nginx-tmp/proxy;
  fastcgi_temp_path $DIR/nginx-tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx-tmp/uwsgi;
  scgi_temp_path $DIR/nginx-tmp/scgi;
  upstream glanced {
    server 127.0.0.1:$((port + 1)) max_fails=1 fail_timeout=5s;
    server 127.0.0.1:$((port + 2)) max_fails=1 fail_timeout=5s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_read_timeout 600s;
    proxy_send_timeout 600s;
    location / { proxy_pass http://glanced; }
  }
}
NGINX
} >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -g 'daemon on;' 2>>"$DIR/log/nginx-error.log" ||
  { tail -n 20 "$DIR/log/nginx-error.log" >&2; die "nginx did not start"; }
wait_http nginx "http://127.0.0.1:$port/versions" "$DIR/log/nginx-error.log"
{
  echo "OS_IMAGE_URL=http://127.0.0.1:$port"
  [[ $auth == noauth ]] && echo "OS_AUTH_TOKEN=noauth"
  cat <<EOF
CLUSTER_DB=$db
CLUSTER_LEASE_TTL=$lease_ttl
CLUSTER_JANITOR_INTERVAL=$janitor_interval
CLUSTER_ORPHAN_GRACE=$orphan_grace
CLUSTER_AUTH=$auth
CLUSTER_PEER=${CLUSTER_PEER:-}
EOF
} >"$DIR/env"
say "ready: http://127.0.0.1:$port (nginx) in front of $(awk '{print $1}' "$DIR/nodes" | paste -sd ' '); database $db, auth $auth"
