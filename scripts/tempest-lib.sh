# tempest-lib.sh: what tempest-image.sh and tempest-rbac.sh share. Sourced; the caller
# sets NAME (a short name for messages and the workspace) and defines nothing else.
#
# Both run Debian's tempest (installed with python3-stestr when missing, as root) against
# the image endpoint of one catalog region of a peer that openstack-up.sh started:
# RegionOne is the real Glance, RegionExtra what runs on its port (scripts/glanced-up.sh
# starts glanced there). Identity stays in RegionOne and every other setting is the same
# for every region, so that two runs compare like for like.
#
# The peer's folder is GLANCE_PEER_DIR (default /tmp/peer); the workspace is WS (default
# DIR/NAME-REGION, e.g. /tmp/peer/tempest-image-RegionOne), emptied first; the whole log is WS/run.log.

say() { echo "$NAME: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

# tempest_setup REGION: checks the peer, the region and tempest, and makes the workspace.
tempest_setup() {
  REGION=$1
  DIR=$(realpath -m "${GLANCE_PEER_DIR:-/tmp/peer}")
  [[ -f $DIR/peer.env ]] || die "$DIR/peer.env does not exist: set GLANCE_PEER_DIR to a folder of openstack-up.sh"
  # shellcheck disable=SC1091
  source "$DIR/peer.env"
  WS=$(realpath -m "${WS:-$DIR/$NAME-$REGION}")
  local url
  url=$(sed -n "s/^catalog\.$REGION\.image\.publicURL = //p" "$DIR/catalog.templates")
  [[ -n $url ]] || die "the peer's catalog ($DIR/catalog.templates) has no image endpoint in $REGION"
  curl -sf -o /dev/null --max-time 10 "$url/versions" || die "nothing answers at $url ($REGION)"
  if ! command -v tempest >/dev/null || ! dpkg-query -W -f='${Status}' python3-stestr 2>/dev/null | grep -q 'ok installed'; then
    ((EUID == 0)) || die "tempest is not installed; run as root or install Debian's tempest and python3-stestr"
    say "installing Debian's tempest and python3-stestr"
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=300)
    mkdir -p "$DIR/log"
    { DEBIAN_FRONTEND=noninteractive "${apt[@]}" update &&
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends tempest python3-stestr; } \
      >"$DIR/log/apt-tempest.log" 2>&1 || { tail -n 20 "$DIR/log/apt-tempest.log" >&2; die "apt-get install tempest"; }
  fi
  # A workspace registry of its own in WS, rather than the user's ~/.tempest.
  rm -rf "$WS"
  mkdir -p "$WS"
  local out
  # From DIR, where tempest leaves its tempest.log.
  out=$(cd "$DIR" && tempest init --name "$NAME-$REGION" --workspace-path "$WS/.workspace.yaml" "$WS" 2>&1) ||
    { echo "$out" >&2; die "tempest init $WS"; }
  say "tempest against $url ($REGION), Keystone $PEER_KEYSTONE_URL; workspace $WS"
}

# tempest_conf [EXTRA]: writes WS/etc/tempest.conf, with EXTRA (more sections) at its end.
tempest_conf() {
  cat >"$WS/etc/tempest.conf" <<CONF
[DEFAULT]
log_dir = $WS/logs
[auth]
# Dynamic credentials: tempest makes a project and users for each test class, as admin.
use_dynamic_credentials = true
admin_username = admin
admin_password = admin-secret
admin_project_name = admin
admin_domain_name = Default
[identity]
uri_v3 = $PEER_KEYSTONE_URL
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[image]
image_caching_enabled = true
region = $REGION
endpoint_type = public
# What web-download imports fetch: tempest's default is on the internet, which the
# peer does not reach; Keystone's answer is at hand (the peer's Glance may fetch
# from 127.0.0.1, see import_filtering_opts in openstack-up.sh).
http_image = $PEER_KEYSTONE_URL
# How long to wait for an image to become active: imports here take seconds, and a
# test that waits in vain (Glance lists an image's stores in another order than
# tempest compares them) should not hold the run for tempest's default 300 s.
build_timeout = 120
[image-feature-enabled]
import_image = true
os_glance_reserved = true
[service_available]
glance = true
nova = false
neutron = false
cinder = false
swift = false
${1:-}
CONF
}

# tempest_run REGEX TIMEOUT: runs the tests whose names match REGEX one at a time, and
# prints the wall time, tempest's totals and the failed tests. Its status is tempest's.
tempest_run() {
  local rc=0 t0=$SECONDS
  (cd "$WS" && timeout -k 30 "$2" tempest run --regex "$1" --concurrency 1) >"$WS/run.log" 2>&1 || rc=$?
  ((rc != 124)) || say "tempest did not finish in $2 s"
  echo "region=$REGION wall_s=$((SECONDS - t0)) exit=$rc log=$WS/run.log"
  sed -n '/^Totals/,/^Sum of execute/p' "$WS/run.log"
  grep -E '\.\.\. FAILED' "$WS/run.log" | sed 's/^{[0-9]*} //; s/ \[.*//' || true
  return "$rc"
}
