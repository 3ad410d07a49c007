#!/usr/bin/env bash
# test.sh [go test arguments] is the project's test command:
#
#   1. starts a real Keystone + Glance (scripts/openstack-up.sh) in a temporary folder,
#      installing Debian's packages first when they are missing (as root);
#   2. runs gofmt, go vet, go build and go test (default ./...) against it;
#   3. stops the peer again and says how long it all took.
#
# GLANCE_PEER_DIR=DIR (or GLANCE_PEER_ENV=DIR) uses a peer already running in DIR
# instead of starting one; =none runs without a peer, skipping the integration tests.
# Without root, apt or the packages, the integration tests are skipped, loudly.
# PostgreSQL: a cluster of the run's own (scripts/postgres-up.sh, installing Debian's
# postgresql as root when missing) serves the tests through GLANCE_TEST_POSTGRES;
# a GLANCE_TEST_POSTGRES given is used instead, and =none skips those tests, loudly.
# It also starts a cluster (scripts/cluster-up.sh: PostgreSQL, Swift with s3api, two glanced
# behind nginx) for the cluster and object-store tests; see GLANCE_CLUSTER_DIR below.
# GO_TEST_TIMEOUT (default 15m) bounds each test binary; GOFLAGS passes through.
set -euo pipefail
cd "$(dirname "$0")/.."
start_time=$SECONDS
say() { echo "test.sh: $*" >&2; }
banner() {
  local bar=################################################################################
  printf '\n%s\n# %s\n%s\n\n' "$bar" "$*" "$bar" >&2
}

peer_dir= # set when this script started the peer
pg_dir=   # likewise for PostgreSQL
swift_dir= cluster_dir= # likewise for Swift and the cluster
work=$(mktemp -d "${TMPDIR:-/tmp}/glance-test.XXXXXX")
finish() {
  local rc=$?
  if [[ -n $pg_dir ]]; then
    scripts/postgres-down.sh "$pg_dir"
    if ((rc == 0)); then rm -rf "$pg_dir"; else say "PostgreSQL's log is kept in $pg_dir/pg.log"; fi
  fi
  if [[ -n $peer_dir ]]; then
    scripts/openstack-down.sh "$peer_dir"
    if ((rc == 0)); then rm -rf "$peer_dir"; else say "the peer's logs are kept in $peer_dir/log"; fi
  fi
  if [[ -n $cluster_dir ]]; then
    scripts/cluster-down.sh "$cluster_dir"
    if ((rc == 0)); then rm -rf "$cluster_dir"; else say "the cluster's logs are kept in $cluster_dir/log"; fi
  fi
  if [[ -n $swift_dir ]]; then
    scripts/swift-down.sh "$swift_dir"
    if ((rc == 0)); then rm -rf "$swift_dir"; else say "Swift's logs are kept in $swift_dir/log"; fi
  fi
  rm -rf "$work"
  local took=$((SECONDS - start_time))
  say "$( ((rc == 0)) && echo PASSED || echo "FAILED (exit $rc)") in $((took / 60))m$((took % 60))s"
}
trap finish EXIT
trap 'exit 130' INT TERM

command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { say "no go on PATH"; exit 1; }
say "$(go version)"

# ---- the peer ------------------------------------------------------------------------
given=${GLANCE_PEER_DIR:-${GLANCE_PEER_ENV:-}}
if [[ $given == none ]]; then
  export GLANCE_PEER_ENV=none GLANCE_PEER_DIR=none GLANCE_REQUIRE_PEER=0
  banner "INTEGRATION TESTS SKIPPED: GLANCE_PEER_ENV=none; only unit tests run"
elif [[ -n $given ]]; then
  [[ -f $given/env ]] || { say "$given/env does not exist: GLANCE_PEER_DIR must name a peer's folder"; exit 1; }
  export GLANCE_PEER_ENV=$given GLANCE_PEER_DIR=$given GLANCE_REQUIRE_PEER=1
  say "using the peer in $given"
elif ((EUID == 0)) || [[ -x /usr/bin/keystone-manage && -x /usr/bin/uwsgi && -x /usr/sbin/nginx &&
  -r /etc/glance/glance-api-paste.ini ]]; then
  peer_dir=$(mktemp -d "${TMPDIR:-/tmp}/glance-peer.XXXXXX")
  chmod 755 "$peer_dir" # Keystone's PostgreSQL runs as user postgres when we are root
  say "starting Keystone and Glance in $peer_dir"
  # Keystone on PostgreSQL, as sites run it: it takes writes from several processes at
  # once (tempest's dynamic credentials, the quota tests' second Keystone server).
  KEYSTONE_DB=${KEYSTONE_DB:-postgresql} scripts/openstack-up.sh "$peer_dir" || { say "the peer did not start"; exit 1; }
  export GLANCE_PEER_ENV=$peer_dir GLANCE_PEER_DIR=$peer_dir GLANCE_REQUIRE_PEER=1
  say "peer ready after $((SECONDS - start_time))s"
else
  export GLANCE_PEER_ENV=none GLANCE_PEER_DIR=none GLANCE_REQUIRE_PEER=0
  banner "INTEGRATION TESTS SKIPPED: not root, and Keystone/Glance are not installed or /etc/glance is unreadable; only unit tests run"
fi

# ---- PostgreSQL ----------------------------------------------------------------------------
if [[ ${GLANCE_TEST_POSTGRES:-} == none ]]; then
  export GLANCE_REQUIRE_POSTGRES=0
  banner "POSTGRESQL TESTS SKIPPED: GLANCE_TEST_POSTGRES=none"
elif [[ -n ${GLANCE_TEST_POSTGRES:-} ]]; then
  export GLANCE_REQUIRE_POSTGRES=1
  say "using PostgreSQL at the given GLANCE_TEST_POSTGRES"
elif ((EUID == 0)) || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/glance-pg.XXXXXX")
  chmod 755 "$pg_dir" # the cluster runs as user postgres when we are root
  scripts/postgres-up.sh "$pg_dir" || { say "PostgreSQL did not start"; exit 1; }
  export GLANCE_TEST_POSTGRES=$(<"$pg_dir/pg.url") GLANCE_REQUIRE_POSTGRES=1
  say "PostgreSQL ready in $pg_dir"
else
  export GLANCE_REQUIRE_POSTGRES=0
  banner "POSTGRESQL TESTS SKIPPED: not root, and PostgreSQL is not installed"
fi

# ---- the cluster: PostgreSQL, Swift with s3api, two glanced nodes, nginx ----------------
# Its Swift also serves the object-store tests. GLANCE_CLUSTER_DIR=DIR uses a cluster running
# in DIR; =none starts Swift alone (scripts/swift-up.sh), unless GLANCE_SWIFT_DIR names one
# running or is none.
cluster_given=${GLANCE_CLUSTER_DIR:-${GLANCE_CLUSTER_ENV:-}}
swift_given=${GLANCE_SWIFT_DIR:-${GLANCE_SWIFT_ENV:-}}
can_start() { ((EUID == 0)) || [[ -x /usr/bin/swift-proxy-server && -x /usr/bin/memcached && -x /usr/sbin/nginx ]]; }
export GLANCE_CLUSTER_ENV=none GLANCE_REQUIRE_CLUSTER=0 GLANCE_SWIFT_ENV=none GLANCE_REQUIRE_SWIFT=0
if [[ $given == none ]]; then
  banner "CLUSTER AND OBJECT STORE TESTS SKIPPED: GLANCE_PEER_ENV=none"
elif [[ -n $cluster_given && $cluster_given != none ]]; then
  [[ -f $cluster_given/env ]] || { say "$cluster_given/env does not exist: GLANCE_CLUSTER_DIR must name a cluster's folder"; exit 1; }
  export GLANCE_CLUSTER_ENV=$cluster_given GLANCE_REQUIRE_CLUSTER=1 GLANCE_SWIFT_ENV=$cluster_given/swift GLANCE_REQUIRE_SWIFT=1
elif [[ -z $cluster_given ]] && can_start; then
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/glance-cluster.XXXXXX")
  say "starting the cluster in $cluster_dir"
  peer_for_cluster=$GLANCE_PEER_ENV
  [[ $peer_for_cluster == none ]] && peer_for_cluster=
  CLUSTER_PEER=$peer_for_cluster scripts/cluster-up.sh "$cluster_dir" || { say "the cluster did not start"; exit 1; }
  export GLANCE_CLUSTER_ENV=$cluster_dir GLANCE_REQUIRE_CLUSTER=1 GLANCE_SWIFT_ENV=$cluster_dir/swift GLANCE_REQUIRE_SWIFT=1
elif [[ -n $swift_given && $swift_given != none ]]; then
  [[ -f $swift_given/env ]] || { say "$swift_given/env does not exist: GLANCE_SWIFT_DIR must name Swift's folder"; exit 1; }
  export GLANCE_SWIFT_ENV=$swift_given GLANCE_REQUIRE_SWIFT=1
  banner "CLUSTER TESTS SKIPPED: GLANCE_CLUSTER_DIR=none"
elif [[ -z $swift_given ]] && can_start; then
  swift_dir=$(mktemp -d "${TMPDIR:-/tmp}/glance-swift.XXXXXX")
  say "starting Swift in $swift_dir"
  scripts/swift-up.sh "$swift_dir" || { say "Swift did not start"; exit 1; }
  export GLANCE_SWIFT_ENV=$swift_dir GLANCE_REQUIRE_SWIFT=1
  banner "CLUSTER TESTS SKIPPED: GLANCE_CLUSTER_DIR=none"
else
  banner "CLUSTER AND OBJECT STORE TESTS SKIPPED: not root and Swift or nginx not installed, or =none given"
fi

# ---- checks -----------------------------------------------------------------------------
# Every check runs even when one before it failed, so that one run shows all problems.
failed=()
check() {
  local name=$1
  shift
  say "$name"
  "$@" || { failed+=("$name"); say "$name FAILED"; }
}
gofmt_clean() {
  local files
  files=$(gofmt -l .) && [[ -z $files ]] && return
  echo "gofmt -l lists files to format:" >&2
  echo "$files" >&2
  return 1
}
run_tests() {
  go build -o "$work/testreport" ./scripts/testreport &&
    go test -json -count=1 -timeout "${GO_TEST_TIMEOUT:-15m}" "$@" | "$work/testreport"
}
check gofmt gofmt_clean
check "go vet" go vet ./...
check "go build" go build ./...
(($#)) || set -- ./...
check "go test $*" run_tests "$@"
# The server's tests again with glanced's metadata in PostgreSQL, when they ran; not those that
# choose their databases themselves (several nodes on each engine, migrations), which the first
# run ran on PostgreSQL already.
if [[ $GLANCE_REQUIRE_POSTGRES == 1 && " $* " =~ \ (\./\.\.\.|\./internal/server/?(\.\.\.)?)\  ]]; then
  GLANCE_TEST_SERVER_DATABASE=postgres check "go test ./internal/server/ on PostgreSQL" \
    run_tests -skip '^(TestMigrate|TestLiveUploadSurvivesOtherNodes|TestDeadNode|TestOrphan|TestLostLease)' ./internal/server/
fi

if [[ $GLANCE_PEER_ENV == none ]]; then
  banner "INTEGRATION TESTS WERE SKIPPED: no Keystone+Glance peer (see above)"
fi
if [[ $GLANCE_REQUIRE_POSTGRES == 0 ]]; then
  banner "POSTGRESQL TESTS WERE SKIPPED (see above)"
fi
if ((${#failed[@]})); then
  (IFS=,; say "failed: ${failed[*]}")
  exit 1
fi
