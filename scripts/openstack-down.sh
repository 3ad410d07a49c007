#!/usr/bin/env bash
# openstack-down.sh [DIR] stops the Keystone, Glance and nginx that openstack-up.sh
# started in DIR (default ${TMPDIR:-/tmp}/glance-peer). The data in DIR stays.
set -uo pipefail
DIR=$(realpath -m "${1:-${TMPDIR:-/tmp}/glance-peer}")

# ours PID: the process is this peer's, whose command line names DIR; a stale pid
# file may by now name some other process.
ours() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$DIR/"; }
# signal SIG NAME PID: Keystone and Glance lead their own process group (setsid) with
# their workers; nginx's master stops its workers itself.
signal() { if [[ $2 == nginx ]]; then kill "-$1" "$3"; else kill "-$1" -- "-$3"; fi 2>/dev/null; }

declare -A running=()
for name in nginx glance keystone; do
  f=$DIR/$name.pid
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  if ours "$pid"; then
    signal TERM "$name" "$pid"
    running[$name]=$pid
  fi
  rm -f "$f"
done
for ((i = 0; i < 60 && ${#running[@]}; i++)); do
  sleep 0.25
  for name in "${!running[@]}"; do kill -0 "${running[$name]}" 2>/dev/null || unset "running[$name]"; done
done
for name in "${!running[@]}"; do
  echo "openstack-down: $name (${running[$name]}) ignored TERM for 15 s; killing it" >&2
  signal KILL "$name" "${running[$name]}"
done
exit 0
