#!/usr/bin/env bash
# openstack-up.sh [DIR] starts a real Keystone and Glance on loopback for the
# integration tests, from Debian's packages, with SQLite databases and file stores.
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
# Glance has secure RBAC, two file stores (fast, slow), the image cache and its API,
# the glance-direct, web-download and copy-image import methods and the standard
# metadata definitions.
#
# When none of the three port variables is set and a default port is taken, the script
# moves all three up by a multiple of 1000 until it finds free ones. Ports given
# explicitly must be free.
#
# It writes:
#   DIR/env        admin credentials as OS_* variables (source it)
#   DIR/users.env  every user as PEER_USER_<KEY>="name password project domain role"
#   DIR/peer.env   the URLs, regions and ports chosen
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

# ---- packages -----------------------------------------------------------------------
mkdir -p "$DIR/log"
packages=(keystone glance-api python3-openstackclient python3-glanceclient
  uwsgi-plugin-python3 nginx curl)
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

# ---- helpers --------------------------------------------------------------------------
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [[ -f $DIR/$1.pid ]] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }
# wait_http NAME URL LOG: waits up to 90 s for URL to answer 2xx/3xx while NAME runs.
wait_http() {
  local name=$1 url=$2 log=$3 i
  for ((i = 0; i < 180; i++)); do
    curl -s -o /dev/null --max-time 20 -f "$url" && return 0
    if ! alive "$name"; then break; fi
    sleep 0.5
  done
  say "$name did not come up at $url; the end of $log:"
  tail -n 30 "$log" >&2 || true
  return 1
}
# start NAME LOG CMD...: runs CMD in its own session, so that a hang-up of the
# caller's terminal leaves it running and openstack-down.sh can stop its whole group.
start() {
  local name=$1 log=$2
  shift 2
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$DIR/$name.pid" "$@" \
    </dev/null >"$log" 2>&1 &
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $DIR/$name.pid ]] && return; sleep 0.1; done
}

# ---- already up? ------------------------------------------------------------------------
if [[ -f $DIR/peer.env ]] && alive keystone && alive glance && alive nginx; then
  # shellcheck disable=SC1091
  source "$DIR/peer.env"
  if curl -sf -o /dev/null --max-time 5 "$PEER_KEYSTONE_URL" &&
    curl -sf -o /dev/null --max-time 5 "$PEER_PREFIX_URL/versions"; then
    say "already running in $DIR: Keystone $PEER_KEYSTONE_URL, Glance $PEER_GLANCE_URL, $PEER_PREFIX_URL"
    exit 0
  fi
fi
"$here/openstack-down.sh" "$DIR" # leftovers of an earlier, half-started run

# ---- ports ------------------------------------------------------------------------------
if [[ -n ${KEYSTONE_PORT:-}${GLANCE_PORT:-}${PREFIX_PORT:-} ]]; then
  KPORT=${KEYSTONE_PORT:-15000} GPORT=${GLANCE_PORT:-19292} PPORT=${PREFIX_PORT:-19293}
  for p in "$KPORT" "$GPORT" "$PPORT"; do
    busy "$p" && die "port $p is taken (KEYSTONE_PORT/GLANCE_PORT/PREFIX_PORT)"
  done
else
  KPORT= # the ports of an earlier run in DIR come first, then the defaults moved up
  candidates=()
  [[ -f $DIR/peer.env ]] && candidates+=("$(
    # shellcheck disable=SC1091
    source "$DIR/peer.env" && echo "$PEER_KEYSTONE_PORT $PEER_GLANCE_PORT $PEER_PREFIX_PORT"
  )")
  for ((off = 0; off <= 40000; off += 1000)); do
    candidates+=("$((15000 + off)) $((19292 + off)) $((19293 + off))")
  done
  for c in "${candidates[@]}"; do
    read -r k g p <<<"$c"
    [[ -n $k ]] || continue
    if ! busy "$k" && ! busy "$g" && ! busy "$p"; then KPORT=$k GPORT=$g PPORT=$p; break; fi
  done
  [[ -n $KPORT ]] || die "found no free ports"
fi
KURL=http://127.0.0.1:$KPORT
GURL=http://127.0.0.1:$GPORT
PURL=http://127.0.0.1:$PPORT/image
DEADURL=http://127.0.0.2:$GPORT

# From here on, a failure stops whatever was started.
trap 'say "FAILED at line $LINENO: $BASH_COMMAND"; say "stopping what was started"; "$here/openstack-down.sh" "$DIR"' ERR
set -E

# ---- Keystone -----------------------------------------------------------------------------
# keystone-manage works on the SQL catalog (bootstrap writes to it); the server reads
# a template file instead: Keystone on SQLite cannot create catalog entries through
# its API (its own writes lock each other out), and a file can list extra regions.
cat >"$DIR/keystone.conf" <<CONF
[database]
connection = sqlite:///$DIR/keystone.sqlite
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
  done
  echo "catalog.RegionOne.identity.name = keystone"
  for r in RegionOne RegionPrefix RegionTwo; do echo "catalog.$r.image.name = glance"; done
} >"$DIR/catalog.templates"

# manage LOG CMD...: runs a database or key set-up command, showing its log if it fails.
manage() {
  local log=$1
  shift
  "$@" >>"$log" 2>&1 || { say "$* failed; the end of $log:"; tail -n 15 "$log" >&2; return 1; }
}
km() { manage "$DIR/log/keystone-manage.log" keystone-manage --config-file "$DIR/keystone.conf" "$@"; }
if [[ ! -f $DIR/.keystone-ready ]]; then
  say "creating the Keystone database"
  rm -f "$DIR/keystone.sqlite" "$DIR"/fernet/* "$DIR"/cred/*
  km db_sync
  km fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  km credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  km bootstrap --bootstrap-password admin-secret --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KURL/v3/" --bootstrap-internal-url "$KURL/v3/" \
    --bootstrap-public-url "$KURL/v3/"
  touch "$DIR/.keystone-ready"
fi
# One process without threads: SQLite takes one writer at a time. uwsgi closes each
# connection after one answer but does not say so; without "Connection: close" a
# client that sends a second request on it gets a reset.
start keystone "$DIR/log/keystone.log" uwsgi --plugins python3 \
  --http-socket "127.0.0.1:$KPORT" --wsgi-file /usr/bin/keystone-wsgi-public \
  --master --processes 1 --lazy-apps --die-on-term --buffer-size 65535 \
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
connection = sqlite:///$DIR/glance.sqlite
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
CONF
gm() { manage "$DIR/log/glance-manage.log" glance-manage --config-file "$DIR/glance-api.conf" "$@"; }
if [[ ! -f $DIR/.glance-ready ]]; then
  say "creating the Glance database"
  rm -f "$DIR/glance.sqlite"
  gm db_sync
  gm db_load_metadefs /etc/glance/metadefs
  touch "$DIR/.glance-ready"
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
PEER
say "ready: Keystone $KURL/v3, Glance $GURL, $PURL (RegionPrefix); source $DIR/env"
