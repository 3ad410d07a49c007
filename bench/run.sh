#!/usr/bin/env bash
# bench/run.sh [flags] measures the glance CLI and glanced beside python-glanceclient,
# openstackclient, curl and the real Glance, in one run on this machine, and writes
# the report to bench/RESULTS.md (and stdout). Flags go to the harness; see
# `go run ./bench -h`; bench/README.md describes the sections, their flags and their cost.
#
#   GLANCE_PEER_DIR=DIR   use the Keystone+Glance running in DIR (e.g. /tmp/peer);
#                         without it a quiet peer of our own is started with
#                         scripts/openstack-up.sh and stopped afterwards, since other
#                         users of a shared peer would skew the timings. A peer from
#                         another start script must, like ours, have Keystone's uwsgi
#                         send "Connection: close", or the Python clients fail now and
#                         then with "Connection reset by peer" (the report says so).
#   BENCH_PEER_DIR=DIR    where that peer of our own lives (default $TMPDIR/glance-bench-peer);
#                         BENCH_KEEP_PEER=1 leaves it running for the next run. A peer
#                         that was already up there is reused and left running.
#
# hyperfine and wrk (Debian packages) are installed when missing and we are root;
# without them the harness times commands and generates load itself.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "bench: $*" >&2; }

command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { say "no go on PATH"; exit 1; }

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  if ((EUID == 0)) && command -v apt-get >/dev/null; then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 install \
      --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      say "could not install ${missing[*]}; the harness falls back to its own timer and load generator"
  else
    say "${missing[*]} missing and not root: the harness uses its own timer and load generator"
  fi
fi

peer=${GLANCE_PEER_DIR:-${GLANCE_PEER_ENV:-}}
started=
if [[ -z $peer ]]; then
  peer=${BENCH_PEER_DIR:-${TMPDIR:-/tmp}/glance-bench-peer}
  up=1
  for name in keystone glance; do
    [[ -f $peer/$name.pid ]] && kill -0 "$(cat "$peer/$name.pid")" 2>/dev/null || up=0
  done
  ((up)) || say "starting a peer of our own in $peer (GLANCE_PEER_DIR=DIR uses a running one)"
  scripts/openstack-up.sh "$peer"
  ((up)) || [[ ${BENCH_KEEP_PEER:-0} == 1 ]] || started=$peer
fi
[[ -f $peer/env ]] || { say "$peer/env does not exist: not a peer's folder"; exit 1; }

bin=$(mktemp -d "${TMPDIR:-/tmp}/glance-bench-bin.XXXXXX")
cleanup() {
  rm -rf "$bin"
  if [[ -n $started ]]; then scripts/openstack-down.sh "$started"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$bin/bench" ./bench
"$bin/bench" -peer "$peer" -o bench/RESULTS.md "$@"
