#!/usr/bin/env bash
# openstack-up.sh [DIR] starts a real Keystone and Glance on loopback for the
# integration tests, from Debian's packages, with SQLite (or PostgreSQL) databases
# and file stores.
#
#   scripts/openstack-up.sh [DIR]      DIR defaults to ${TMPDIR:-/tmp}/glance-peer
#   scripts/openstack-down.sh [DIR]    stops it again; the data stays in DIR
#
# What runs:
#   Keystone  http://127.0.0.1:$KEYSTONE_PORT/v3   (default 15000)
#   Glance    http://127.0.0.1:$GLANCE_PORT        (default 19292, region RegionOne)
#   nginx     http://127.0.0.1:$PREFIX_PORT/image  (default 19293, region RegionPrefix:
#             the same Glance behind a path prefix, as devstack serves it)
#   RegionTwo's image endpoint is http://127.0.0.2:$GLANCE_PORT, where nothing listens.
#   RegionExtra's image endpoint is http://127.0.0.1:$EXTRA_IMAGE_PORT (default 19400,
#             Glance's port + 108), where nothing listens either: a place for another
#             image service on the same Keystone (scripts/glanced-up.sh starts glanced there).
# Glance has secure RBAC, two file stores (fast, slow), the image cache and its API,
# the glance-direct, web-download and copy-image import methods and the standard
# metadata definitions.
#
# Settings:
#   GLANCE_ENFORCE_SCOPE=true|false  oslo.policy's enforce_scope for Glance (default
#             true, as in Glance 26 and later): system-scoped tokens are refused on
#             project resources.
#   KEYSTONE_DB=sqlite|postgresql, GLANCE_DB=sqlite|postgresql  where each service keeps
#             its database (default sqlite). postgresql runs a cluster of the peer's own
#             in DIR/pg, reachable by its socket only (no TCP), and lets Keystone run
#             several processes that write at once (tempest's dynamic credentials need
#             that). As root, DIR and its parents must be searchable by user postgres.
#
# When none of the four port variables (KEYSTONE_PORT, GLANCE_PORT, PREFIX_PORT,
# EXTRA_IMAGE_PORT) is set and a default port is taken, the script moves all four up
# by a multiple of 1000 until it finds free ones. Ports given explicitly must be free.
#
# It writes:
#   DIR/env        admin credentials as OS_* variables (source it)
#   DIR/users.env  every user as PEER_USER_<KEY>="name password project domain role"
#   DIR/peer.env   the URLs, regions, ports and settings chosen
#
# Packages are installed with apt-get when missing (needs root). Running it again on
# a DIR whose peer is up does nothing; on a stopped DIR it starts the same peer again.
# It exits non-zero, with the end of the failing log, when a service does not come up.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
DIR=$(realpath -m "${1:-${TMPDIR:-/tmp}/glance-peer}")
PY=/usr/bin/python3 # Debian's, which has the OpenStack modules
PATH=$PATH:/usr/sbin:/sbin # nginx, for users whose PATH lacks them
say() { echo "openstack-up: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

SCOPE=${GLANCE_ENFORCE_SCOPE:-true}
KDB=${KEYSTONE_DB:-sqlite}
GDB=${GLANCE_DB:-sqlite}
[[ $SCOPE == true || $SCOPE == false ]] || die "GLANCE_ENFORCE_SCOPE=$SCOPE: want true or false"
for db in "$KDB" "$GDB"; do
  [[ $db == sqlite || $db == postgresql ]] || die "database '$db' (KEYSTONE_DB/GLANCE_DB): want sqlite or postgresql"
done
usepg() { [[ $KDB == postgresql || $GDB == postgresql ]]; }
# shellcheck source=scripts/peer-lib.sh
source "$here/peer-lib.sh"

# ---- packages -----------------------------------------------------------------------
mkdir -p "$DIR/log"
packages=(keystone glance-api python3-openstackclient python3-glanceclient
  uwsgi-plugin-python3 nginx curl
  qemu-utils zstd bzip2 xz-utils) # the CLI's disk-format and decompression tests
usepg && packages+=(postgresql python3-psycopg2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  ((EUID == 0)) || die "missing Debian packages (${missing[*]}); run as root or install them"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -q -y -o DPkg::Lock::Timeout=300)
  { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "${missing[@]}"; } \
    >"$DIR/log/apt.log" 2>&1 || { tail -n 20 "$DIR/log/apt.log" >&2; die "apt-get install ${missing[*]}"; }
fi

for f in /etc/glance/glance-api-paste.ini /etc/glance/metadefs; do
  [[ -r $f ]] || die "cannot read $f (Debian keeps /etc/glance to root and group glance)"
done

mkdir -p "$DIR"/{fernet,cred,images/fast,images/slow,staging,tasks,cache,lock,log,nginx-tmp}
chmod 700 "$DIR/fernet" "$DIR/cred"

# ---- already up? ------------------------------------------------------------------------
# pg_alive: PostgreSQL runs, when the peer in DIR (peer.env sourced) uses it.
pg_alive() {
  [[ ${PEER_KEYSTONE_DB:-}${PEER_GLANCE_DB:-} != *postgresql* ]] ||
    { [[ -f $DIR/pg/postmaster.pid ]] && kill -0 "$(head -n 1 "$DIR/pg/postmaster.pid")" 2>/dev/null; }
}
if [[ -f $DIR/peer.env ]] && alive keystone && alive glance && alive nginx; then
  # shellcheck disable=SC1091
  source "$DIR/peer.env"
  if pg_alive && curl -sf -o /dev/null --max-time 5 "$PEER_KEYSTONE_URL" &&
    curl -sf -o /dev/null --max-time 5 "$PEER_PREFIX_URL/versions"; then
    # Settings asked for explicitly must be those it runs with (older peers: the defaults
    # of their time, sqlite and no scope enforcement).
    for v in "GLANCE_ENFORCE_SCOPE ${PEER_GLANCE_ENFORCE_SCOPE:-false}" \
      "KEYSTONE_DB ${PEER_KEYSTONE_DB:-sqlite}" "GLANCE_DB ${PEER_GLANCE_DB:-sqlite}"; do
      read -r name has <<<"$v"
      [[ -z ${!name:-} || ${!name} == "$has" ]] ||
        die "the peer in $DIR runs with $name=$has; stop it first (openstack-down.sh $DIR)"
    done
    say "already running in $DIR: Keystone $PEER_KEYSTONE_URL, Glance $PEER_GLANCE_URL, $PEER_PREFIX_URL"
    exit 0
  fi
fi
"$here/openstack-down.sh" "$DIR" # leftovers of an earlier, half-started run

# ---- ports ------------------------------------------------------------------------------
# RegionExtra's port follows Glance's: 19292 + 108 = 19400 by default.
if [[ -n ${KEYSTONE_PORT:-}${GLANCE_PORT:-}${PREFIX_PORT:-}${EXTRA_IMAGE_PORT:-} ]]; then
  KPORT=${KEYSTONE_PORT:-15000} GPORT=${GLANCE_PORT:-19292} PPORT=${PREFIX_PORT:-19293}
  XPORT=${EXTRA_IMAGE_PORT:-$((GPORT + 108))}
  for p in "$KPORT" "$GPORT" "$PPORT" "$XPORT"; do
    busy "$p" && die "port $p is taken (KEYSTONE_PORT/GLANCE_PORT/PREFIX_PORT/EXTRA_IMAGE_PORT)"
  done
else
  KPORT= # the ports of an earlier run in DIR come first, then the defaults moved up
  candidates=()
  [[ -f $DIR/peer.env ]] && candidates+=("$(
    # shellcheck disable=SC1091
    source "$DIR/peer.env" && echo "$PEER_KEYSTONE_PORT $PEER_GLANCE_PORT $PEER_PREFIX_PORT" \
      "${PEER_EXTRA_PORT:-$((PEER_GLANCE_PORT + 108))}"
  )")
  for ((off = 0; off <= 40000; off += 1000)); do
    candidates+=("$((15000 + off)) $((19292 + off)) $((19293 + off)) $((19400 + off))")
  done
  for c in "${candidates[@]}"; do
    read -r k g p x <<<"$c"
    [[ -n $k ]] || continue
    if ! busy "$k" && ! busy "$g" && ! busy "$p" && ! busy "$x"; then
      KPORT=$k GPORT=$g PPORT=$p XPORT=$x
      break
    fi
  done
  [[ -n $KPORT ]] || die "found no free ports"
fi
KURL=http://127.0.0.1:$KPORT
GURL=http://127.0.0.1:$GPORT
PURL=http://127.0.0.1:$PPORT/image
DEADURL=http://127.0.0.2:$GPORT
XURL=http://127.0.0.1:$XPORT

# From here on, a failure stops whatever was started.
trap 'say "FAILED at line $LINENO: $BASH_COMMAND"; say "stopping what was started"; "$here/openstack-down.sh" "$DIR"' ERR
set -E

# ---- databases ----------------------------------------------------------------------------
# manage LOG CMD...: runs a database or key set-up command, showing its log if it fails.
manage() {
  local log=$1
  shift
  "$@" >>"$log" 2>&1 || { say "$* failed; the end of $log:"; tail -n 15 "$log" >&2; return 1; }
}
# dburl NAME ENGINE: the SQLAlchemy URL of service NAME's database.
dburl() {
  if [[ $2 == postgresql ]]; then echo "postgresql+psycopg2://$1:$1-secret@/$1?host=$DIR/pg"
  else echo "sqlite:///$DIR/$1.sqlite"; fi
}
# marker NAME ENGINE: the file that says NAME's database in ENGINE is created and filled.
marker() { if [[ $2 == postgresql ]]; then echo "$DIR/.$1-pg-ready"; else echo "$DIR/.$1-ready"; fi; }
# freshdb NAME ENGINE: makes NAME's database empty, dropping what a half-done run left.
freshdb() {
  if [[ $2 == postgresql ]]; then pgsql -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER $1"
  else rm -f "$DIR/$1.sqlite"; fi
}
if usepg; then
  # PostgreSQL refuses to run as root: as root, the cluster belongs to user postgres.
  pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n 1)
  [[ -x $pgbin/initdb ]] || die "no PostgreSQL server programs in /usr/lib/postgresql"
  pgrun() {
    if ((EUID)); then (cd / && "$pgbin/$1" "${@:2}"); else (cd / && runuser -u postgres -- "$pgbin/$1" "${@:2}"); fi
  }
  pgsql() { pgrun psql -h "$DIR/pg" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
  if ((EUID == 0)) && ! runuser -u postgres -- test -x "$DIR/log"; then
    die "user postgres cannot reach $DIR: make it and its parents searchable (chmod o+x)"
  fi
  if [[ ! -f $DIR/pg/PG_VERSION ]]; then
    say "creating a PostgreSQL cluster in $DIR/pg"
    rm -rf "$DIR/pg"
    mkdir -m 700 "$DIR/pg"
    ((EUID)) || chown postgres: "$DIR/pg"
    manage "$DIR/log/initdb.log" pgrun initdb -D "$DIR/pg" -E UTF8 --locale=C
    # The cluster's superuser by its system user name, the services by password; the
    # socket in DIR/pg and no TCP at all. Durability is not needed for a test peer.
    printf 'local all %s peer\nlocal all all scram-sha-256\n' "$(if ((EUID)); then id -un; else echo postgres; fi)" \
      >"$DIR/pg/pg_hba.conf"
    printf "listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\n" \
      "$DIR/pg" >>"$DIR/pg/postgresql.conf"
  fi
  if ! pgrun pg_ctl -D "$DIR/pg" status >/dev/null 2>&1; then
    touch "$DIR/log/postgresql.log"
    ((EUID)) || chown postgres: "$DIR/log/postgresql.log"
    pgrun pg_ctl -D "$DIR/pg" -l "$DIR/log/postgresql.log" -w -t 60 start >/dev/null ||
      { tail -n 20 "$DIR/log/postgresql.log" >&2; die "PostgreSQL did not start"; }
  fi
  for db in keystone:$KDB glance:$GDB; do
    [[ ${db#*:} == postgresql ]] || continue
    db=${db%:*}
    [[ -n $(pgsql -c "SELECT 1 FROM pg_roles WHERE rolname = '$db'") ]] ||
      pgsql -c "CREATE ROLE $db LOGIN PASSWORD '$db-secret'" -c "CREATE DATABASE $db OWNER $db"
  done
fi

# ---- Keystone -----------------------------------------------------------------------------
# keystone-manage works on the SQL catalog (bootstrap writes to it); the server reads
# a template file instead: Keystone on SQLite cannot create catalog entries through
# its API (its own writes lock each other out), and a file can list extra regions.
cat >"$DIR/keystone.conf" <<CONF
[database]
connection = $(dburl keystone "$KDB")
[token]
provider = fernet
expiration = 7200
[fernet_tokens]
key_repository = $DIR/fernet
[fernet_receipts]
# fernet_setup sets up this one too, by default in /etc/keystone.
key_repository = $DIR/fernet
[credential]
key_repository = $DIR/cred
[identity]
# bcrypt's cheapest cost: tests ask for many password tokens, and each checks a hash.
password_hash_rounds = 4
CONF
{
  cat "$DIR/keystone.conf"
  printf '[catalog]\ndriver = templated\ntemplate_file = %s\n' "$DIR/catalog.templates"
} >"$DIR/keystone-server.conf"
{
  for i in public internal admin; do
    echo "catalog.RegionOne.identity.${i}URL = $KURL/v3"
    echo "catalog.RegionOne.image.${i}URL = $GURL"
    echo "catalog.RegionPrefix.image.${i}URL = $PURL"
    echo "catalog.RegionTwo.image.${i}URL = $DEADURL"
    echo "catalog.RegionExtra.image.${i}URL = $XURL"
  done
  echo "catalog.RegionOne.identity.name = keystone"
  for r in RegionOne RegionPrefix RegionTwo RegionExtra; do echo "catalog.$r.image.name = glance"; done
} >"$DIR/catalog.templates"

km() { manage "$DIR/log/keystone-manage.log" keystone-manage --config-file "$DIR/keystone.conf" "$@"; }
if [[ ! -f $(marker keystone "$KDB") ]]; then
  say "creating the Keystone database ($KDB)"
  freshdb keystone "$KDB"
  rm -f "$DIR"/fernet/* "$DIR"/cred/* "$DIR/.users-ready"
  km db_sync
  km fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  km credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  km bootstrap --bootstrap-password admin-secret --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KURL/v3/" --bootstrap-internal-url "$KURL/v3/" \
    --bootstrap-public-url "$KURL/v3/"
  touch "$(marker keystone "$KDB")"
fi
# On SQLite one process without threads: SQLite takes one writer at a time. PostgreSQL
# takes several. uwsgi closes each connection after one answer but does not say so;
# without "Connection: close" a client that sends a second request on it gets a reset.
start keystone "$DIR/log/keystone.log" uwsgi --plugins python3 \
  --http-socket "127.0.0.1:$KPORT" --wsgi-file /usr/bin/keystone-wsgi-public \
  --master --processes "$([[ $KDB == postgresql ]] && echo 4 || echo 1)" --lazy-apps --die-on-term --buffer-size 65535 \
  --add-header "Connection: close" \
  --env "OS_KEYSTONE_CONFIG_FILES=$DIR/keystone-server.conf"
wait_http keystone "$KURL/v3" "$DIR/log/keystone.log"

# ---- users ----------------------------------------------------------------------------------
# key         name          password             project  role
users="\
ADMIN         admin         admin-secret         admin    admin
GLANCE        glance        glance-secret        service  admin
ALPHA_MEMBER  alpha-user    alpha-secret         alpha    member
ALPHA_READER  alpha-reader  alpha-reader-secret  alpha    reader
BETA_MEMBER   beta-user     beta-secret          beta     member
BETA_READER   beta-reader   beta-reader-secret   beta     reader"

if [[ ! -f $DIR/.users-ready ]]; then
  say "creating projects and users"
  # Through the API with one admin token: one Python process instead of one
  # openstack command per object. Existing objects are kept, so it can run again.
  "$PY" - "$KURL/v3" "$users" >>"$DIR/log/users.log" 2>&1 <<'PY' || { tail -n 20 "$DIR/log/users.log" >&2; false; }
import json, sys, time, urllib.error, urllib.request

base, table = sys.argv[1], sys.argv[2]
token = None

def call(method, path, body=None):
    """One API call; retried, since Keystone on SQLite now and then drops one."""
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(8):
        req = urllib.request.Request(base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("X-Auth-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            if e.code < 500 or attempt == 7:
                raise RuntimeError(f"{method} {path}: {e.code} {e.read()[:300]!r}")
        except OSError as e:
            if attempt == 7:
                raise RuntimeError(f"{method} {path}: {e}")
        time.sleep(0.5)

def find(kind, name):
    _, body = call("GET", f"/{kind}?name={name}")
    items = body[kind]
    return items[0]["id"] if items else None

def ensure(kind, name, fields):
    found = find(kind, name)
    if found:
        return found
    try:
        _, body = call("POST", f"/{kind}", {kind[:-1]: dict(fields, name=name)})
        return body[kind[:-1]]["id"]
    except RuntimeError:
        found = find(kind, name)  # a retried create that had gone through
        if found:
            return found
        raise

headers, _ = call("POST", "/auth/tokens", {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "admin-secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
token = headers["X-Subject-Token"]
roles = {}
for line in table.splitlines():
    key, name, password, project, role = line.split()
    if name == "admin":
        continue  # made by keystone-manage bootstrap
    pid = ensure("projects", project, {"domain_id": "default"})
    uid = ensure("users", name, {"domain_id": "default", "password": password,
                                 "default_project_id": pid})
    if role not in roles:
        roles[role] = find("roles", role) or ensure("roles", role, {})
    call("PUT", f"/projects/{pid}/users/{uid}/roles/{roles[role]}")
    print(f"{name}: {role} on {project}")
PY
  touch "$DIR/.users-ready"
fi

cat >"$DIR/env" <<ENV
export OS_AUTH_URL=$KURL/v3
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=admin-secret
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
ENV
{
  echo "# The peer's users, one a line: PEER_USER_<KEY>=\"name password project domain role\"."
  while read -r key name password project role; do
    echo "PEER_USER_$key=\"$name $password $project Default $role\""
  done <<<"$users"
} >"$DIR/users.env"

# ---- Glance -----------------------------------------------------------------------------------
cat >"$DIR/glance-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $GPORT
workers = 1
enforce_secure_rbac = true
enabled_import_methods = [glance-direct,web-download,copy-image]
# Two stores, for multi-store import, copy-image and deleting from one store.
enabled_backends = fast:file, slow:file
image_cache_dir = $DIR/cache
[glance_store]
default_backend = fast
[fast]
filesystem_store_datadir = $DIR/images/fast
store_description = Fast file store
[slow]
filesystem_store_datadir = $DIR/images/slow
store_description = Slow file store
[os_glance_staging_store]
filesystem_store_datadir = $DIR/staging
[os_glance_tasks_store]
filesystem_store_datadir = $DIR/tasks
[import_filtering_opts]
# Glance refuses web-download from loopback unless the host is listed; any port.
allowed_ports = []
allowed_hosts = [127.0.0.1]
[database]
connection = $(dburl glance "$GDB")
[paste_deploy]
# Keystone auth, plus the image cache and its management API (/v2/cache).
flavor = keystone+cachemanagement
config_file = /etc/glance/glance-api-paste.ini
[keystone_authtoken]
www_authenticate_uri = $KURL
auth_url = $KURL
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = glance
password = glance-secret
region_name = RegionOne
[oslo_concurrency]
lock_path = $DIR/lock
[oslo_policy]
# Secure-RBAC defaults: readers cannot write, projects see only their own.
enforce_new_defaults = true
# Token scope (GLANCE_ENFORCE_SCOPE): with true, as Glance 26 and later by default,
# system-scoped tokens are refused on project resources such as images.
enforce_scope = $SCOPE
CONF
gm() { manage "$DIR/log/glance-manage.log" glance-manage --config-file "$DIR/glance-api.conf" "$@"; }
if [[ ! -f $(marker glance "$GDB") ]]; then
  say "creating the Glance database ($GDB)"
  freshdb glance "$GDB"
  gm db_sync
  gm db_load_metadefs /etc/glance/metadefs
  touch "$(marker glance "$GDB")"
fi
start glance "$DIR/log/glance.log" glance-api --config-file "$DIR/glance-api.conf"
wait_http glance "$GURL/versions" "$DIR/log/glance.log"

# ---- nginx: Glance under /image --------------------------------------------------------------
{
  # As root, workers as root too: DIR may be private to its owner (mktemp -d).
  ((EUID == 0)) && echo "user root root;"
  cat <<NGINX
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/log/nginx-error.log;
events { worker_connections 256; }
http {
  access_log $DIR/log/nginx-access.log;
  client_body_temp_path $DIR/nginx-tmp/body;
  proxy_temp_path $DIR/nginx-tmp/proxy;
  fastcgi_temp_path $DIR/nginx-tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx-tmp/uwsgi;
  scgi_temp_path $DIR/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$PPORT;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    location = /image { proxy_pass http://127.0.0.1:$GPORT/; }
    location /image/ { proxy_pass http://127.0.0.1:$GPORT/; }
  }
}
NGINX
} >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -g 'daemon on;' 2>>"$DIR/log/nginx-error.log" ||
  { tail -n 20 "$DIR/log/nginx-error.log" >&2; false; }
wait_http nginx "$PURL/versions" "$DIR/log/nginx-error.log"

# ---- a last check, through the whole chain -----------------------------------------------------
# A token for a member, and an image list through nginx: proves Keystone, Glance's own
# service login (keystonemiddleware) and the proxy all work, and warms them up.
tok=$(curl -s -D - -o /dev/null --max-time 30 -H 'Content-Type: application/json' \
  -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alpha-user",
  "domain":{"id":"default"},"password":"alpha-secret"}}},"scope":{"project":{"name":"alpha",
  "domain":{"id":"default"}}}}}' "$KURL/v3/auth/tokens" | tr -d '\r' |
  awk -F': ' 'tolower($1)=="x-subject-token"{print $2}')
[[ -n $tok ]] || { say "Keystone gives alpha-user no token"; false; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H "X-Auth-Token: $tok" "$PURL/v2/images")
[[ $code == 200 ]] || {
  say "GET /v2/images through $PURL answered $code; the end of $DIR/log/glance.log:"
  tail -n 30 "$DIR/log/glance.log" >&2
  false
}
busy_dead=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$DEADURL/" || true)
[[ $busy_dead == 000 ]] || say "warning: something answers at $DEADURL (RegionTwo should be dead)"
# The services keep their logins and tokens working without the admin's role on the
# system, but a system-scoped admin token (tests of scope enforcement) needs it:
# keystone-manage bootstrap grants it; say so when it did not.
sys_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
  -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin",
  "domain":{"id":"default"},"password":"admin-secret"}}},"scope":{"system":{"all":true}}}}' \
  "$KURL/v3/auth/tokens" || true)
[[ $sys_code == 201 ]] || say "warning: Keystone gives admin no system-scoped token (HTTP $sys_code)"

cat >"$DIR/peer.env" <<PEER
# The peer in this folder, for tests (internal/testenv) and scripts.
PEER_KEYSTONE_URL=$KURL/v3
PEER_GLANCE_URL=$GURL
PEER_PREFIX_URL=$PURL
PEER_DEAD_URL=$DEADURL
PEER_REGION=RegionOne
PEER_PREFIX_REGION=RegionPrefix
PEER_DEAD_REGION=RegionTwo
PEER_KEYSTONE_PORT=$KPORT
PEER_GLANCE_PORT=$GPORT
PEER_PREFIX_PORT=$PPORT
PEER_EXTRA_URL=$XURL
PEER_EXTRA_REGION=RegionExtra
PEER_EXTRA_PORT=$XPORT
PEER_GLANCE_ENFORCE_SCOPE=$SCOPE
PEER_KEYSTONE_DB=$KDB
PEER_GLANCE_DB=$GDB
PEER
say "ready: Keystone $KURL/v3, Glance $GURL, $PURL (RegionPrefix), RegionExtra $XURL (free);" \
  "enforce_scope=$SCOPE, Keystone on $KDB, Glance on $GDB; source $DIR/env"
