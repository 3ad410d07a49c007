#!/usr/bin/env bash
# swift-up.sh DIR starts an OpenStack Swift all-in-one from Debian's packages, on loopback,
# with everything in DIR: memcached, one account, container and object server (storage in
# DIR/srv, mount_check off, rings of one replica) and a proxy with tempauth and the s3api
# middleware. Packages are installed with apt when missing (as root). It writes DIR/env:
#
#   SWIFT_AUTH_URL   tempauth's v1 URL (http://127.0.0.1:PORT/auth/v1.0)
#   SWIFT_USER       account:user for tempauth (X-Auth-User), SWIFT_KEY its key
#   S3_ENDPOINT      the same proxy for S3 clients (path-style, region us-east-1)
#   S3_ACCESS_KEY    S3_SECRET_KEY: tempauth's user and key, as s3api takes them
#
# SWIFT_KEYSTONE_PEER=PEERDIR (a folder of openstack-up.sh) also lets Keystone users of that
# peer in (authtoken + keystoneauth, accounts KEY_<project id>, roles admin and member), and
# adds SWIFT_KEYSTONE_URL (the storage URL up to KEY_) to DIR/env.
# Ports: SWIFT_PORT (proxy, default 18080) and the three servers after it; a taken port moves
# the whole block up. swift-down.sh DIR stops it all.
set -euo pipefail
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
cd "$(dirname "$0")"
say() { echo "swift-up.sh: $*" >&2; }
source ./peer-lib.sh

need=()
for p in swift-proxy:/usr/bin/swift-proxy-server swift-account:/usr/bin/swift-account-server \
  swift-container:/usr/bin/swift-container-server swift-object:/usr/bin/swift-object-server \
  memcached:/usr/bin/memcached; do
  [[ -x ${p#*:} ]] || need+=("${p%%:*}")
done
if ((${#need[@]})); then
  ((EUID == 0)) || { say "not root, and missing: ${need[*]}"; exit 1; }
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${need[@]}" >"$DIR/apt.log" 2>&1 ||
    { apt-get update >>"$DIR/apt.log" 2>&1 &&
      apt-get install -y --no-install-recommends "${need[@]}" >>"$DIR/apt.log" 2>&1; } ||
    { say "apt-get install failed; see $DIR/apt.log"; exit 1; }
fi

port=${SWIFT_PORT:-18080}
while busy "$port" || busy $((port + 1)) || busy $((port + 2)) || busy $((port + 3)) || busy $((port + 4)); do
  port=$((port + 10))
done
proxy=$port account=$((port + 1)) container=$((port + 2)) object=$((port + 3)) memcache=$((port + 4))
etc=$DIR/etc
mkdir -p "$etc" "$DIR/srv/d1" "$DIR/log" "$DIR/run"
key=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = $(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
swift_hash_path_prefix = $(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
[storage-policy:0]
name = Policy-0
default = yes
EOF
common="bind_ip = 127.0.0.1
swift_dir = $etc
devices = $DIR/srv
mount_check = false
workers = 0
log_address = $DIR/run/nolog"
for kind in account container object; do
  cat >"$etc/$kind-server.conf" <<EOF
[DEFAULT]
bind_port = ${!kind}
$common
[pipeline:main]
pipeline = healthcheck $kind-server
[filter:healthcheck]
use = egg:swift#healthcheck
[app:$kind-server]
use = egg:swift#$kind
EOF
  rm -f "$etc/$kind.builder"
  swift-ring-builder "$etc/$kind.builder" create 6 1 1 >/dev/null
  swift-ring-builder "$etc/$kind.builder" add "r1z1-127.0.0.1:${!kind}/d1" 1 >/dev/null
  swift-ring-builder "$etc/$kind.builder" rebalance >/dev/null || true
done
keystone_filters= keystone_conf=
if [[ -n ${SWIFT_KEYSTONE_PEER:-} ]]; then
  source "$SWIFT_KEYSTONE_PEER/peer.env"
  read -r kuser kpassword kproject kdomain _ <<<"$(source "$SWIFT_KEYSTONE_PEER/users.env" && echo "$PEER_USER_GLANCE")"
  keystone_filters="authtoken keystoneauth"
  keystone_conf="[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $PEER_KEYSTONE_URL
auth_url = $PEER_KEYSTONE_URL
auth_type = password
username = $kuser
password = $kpassword
project_name = $kproject
user_domain_name = $kdomain
project_domain_name = $kdomain
delay_auth_decision = true
memcached_servers = 127.0.0.1:$memcache
[filter:keystoneauth]
use = egg:swift#keystoneauth
reseller_prefix = KEY_
operator_roles = admin, member"
fi
cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_port = $proxy
$common
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api $keystone_filters tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_glance_store = $key .admin
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcache
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
$keystone_conf
EOF

# exec -a puts DIR in its command line, by which swift-down.sh knows it for ours.
start memcached "$DIR/log/memcached.log" bash -c 'exec -a "$0" /usr/bin/memcached "$@"' "memcached:$DIR/" -u "$(id -un)" -l 127.0.0.1 -p "$memcache" -U 0 -m 64
for kind in account container object proxy; do
  start "$kind" "$DIR/log/$kind.log" "/usr/bin/swift-$kind-server" "$etc/$kind-server.conf" --verbose
done
for _ in {1..50}; do busy "$memcache" && break; sleep 0.1; done
busy "$memcache" || { say "memcached did not start; see $DIR/log/memcached.log"; exit 1; }
for kind in proxy account container object; do
  wait_http "$kind" "http://127.0.0.1:${!kind}/healthcheck" "$DIR/log/$kind.log"
done
cat >"$DIR/env" <<EOF
SWIFT_AUTH_URL=http://127.0.0.1:$proxy/auth/v1.0
SWIFT_USER=glance:store
SWIFT_KEY=$key
S3_ENDPOINT=http://127.0.0.1:$proxy
S3_ACCESS_KEY=glance:store
S3_SECRET_KEY=$key
EOF
[[ -n $keystone_filters ]] && echo "SWIFT_KEYSTONE_URL=http://127.0.0.1:$proxy/v1/KEY_" >>"$DIR/env"
chmod 600 "$DIR/env"
say "Swift with s3api at http://127.0.0.1:$proxy (settings in $DIR/env)"
