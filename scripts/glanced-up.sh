#!/usr/bin/env bash
# glanced-up.sh DIR builds glanced from this checkout and starts it as the image service
# of RegionExtra of the peer that openstack-up.sh runs in DIR: on the port of that
# region's catalog entry (PEER_EXTRA_URL in DIR/peer.env), in keystone mode with the
# peer's glance service user. Clients that read the catalog (tempest, openstack image
# ... --os-region-name RegionExtra, python-glanceclient) then reach glanced with the
# peer's Keystone tokens, side by side with the real Glance in RegionOne.
#
#   scripts/glanced-up.sh DIR      builds and (re)starts it; GLANCED_FRESH=1 empties its data first
#   scripts/glanced-down.sh DIR    stops it
#
# Data: DIR/glanced (stores fast and slow, the cache). Log: DIR/log/glanced.log.
# Binary: DIR/bin/glanced.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
DIR=$(realpath -m "${1:?usage: glanced-up.sh DIR (a folder of openstack-up.sh)}")
say() { echo "glanced-up: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
# shellcheck source=scripts/peer-lib.sh
source "$here/peer-lib.sh"

[[ -f $DIR/peer.env ]] || die "$DIR/peer.env does not exist: start the peer with openstack-up.sh $DIR"
# shellcheck disable=SC1091
source "$DIR/peer.env"
[[ -n ${PEER_EXTRA_URL:-} ]] ||
  die "the peer in $DIR has no RegionExtra (an older openstack-up.sh): restart it (openstack-down.sh, openstack-up.sh)"
curl -sf -o /dev/null --max-time 5 "$PEER_KEYSTONE_URL" || die "Keystone does not answer at $PEER_KEYSTONE_URL"

# The glance service user, as users.env names it (older folders: the standard one).
read -r user password project domain _ <<<"glance glance-secret service Default admin"
if [[ -f $DIR/users.env ]] && grep -q '^PEER_USER_GLANCE=' "$DIR/users.env"; then
  # shellcheck disable=SC1091
  read -r user password project domain _ <<<"$(source "$DIR/users.env" && echo "$PEER_USER_GLANCE")"
fi

command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
mkdir -p "$DIR/bin" "$DIR/log"
say "building glanced"
(cd "$here/.." && go build -o "$DIR/bin/glanced.new" ./cmd/glanced) || die "go build ./cmd/glanced"
mv -f "$DIR/bin/glanced.new" "$DIR/bin/glanced"

"$here/openstack-down.sh" "$DIR" glanced # one started earlier
port=${PEER_EXTRA_URL##*:}
busy "$port" && die "port $port (RegionExtra, $PEER_EXTRA_URL) is taken"
[[ ${GLANCED_FRESH:-} == 1 ]] && rm -rf "$DIR/glanced"
mkdir -p "$DIR/glanced"

# The password by the environment, not on the command line that ps shows.
export GLANCED_KEYSTONE_PASSWORD=$password
start glanced "$DIR/log/glanced.log" "$DIR/bin/glanced" --listen "127.0.0.1:$port" \
  --data-dir "$DIR/glanced" --auth keystone --keystone-auth-url "$PEER_KEYSTONE_URL" \
  --keystone-username "$user" --keystone-project-name "$project" \
  --keystone-user-domain-name "$domain" --keystone-project-domain-name "$domain" \
  --import-allowed-hosts 127.0.0.1 --import-allowed-ports '*' \
  --store "fast=$DIR/glanced/images/fast,Fast file store" --store "slow=$DIR/glanced/images/slow,Slow file store" \
  --default-store fast --cache-dir "$DIR/glanced/cache" --cache-all-stores true \
  --import-methods glance-direct,web-download,copy-image,glance-download \
  --metadefs-dir "${GLANCED_METADEFS_DIR:-/etc/glance/metadefs}"
# As the peer's Glance: web-download from 127.0.0.1 on any port, two file stores, the image
# cache (of file stores too, as Glance caches every store), copy-image and the standard
# metadata definitions; glanced also offers glance-download (from the Glance of a region of
# the catalog).
wait_http glanced "$PEER_EXTRA_URL/versions" "$DIR/log/glanced.log" || {
  "$here/openstack-down.sh" "$DIR" glanced
  exit 1
}
say "ready: glanced at $PEER_EXTRA_URL (${PEER_EXTRA_REGION:-RegionExtra}), data in $DIR/glanced"
