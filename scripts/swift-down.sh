#!/usr/bin/env bash
# swift-down.sh DIR stops the Swift all-in-one that swift-up.sh started in DIR. The data in
# DIR stays.
set -uo pipefail
DIR=$(realpath -m "$1")
# ours PID: the process is this one's, whose command line names DIR; a stale pid file may
# by now name some other process.
ours() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$DIR/"; }
pids=()
for name in proxy object container account memcached; do
  f=$DIR/$name.pid
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  # Each leads its own process group (setsid), with any workers it forked.
  if ours "$pid"; then kill -TERM -- "-$pid" 2>/dev/null && pids+=("$pid"); fi
  rm -f "$f"
done
for ((i = 0; i < 60; i++)); do
  left=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  ((${#left[@]})) || exit 0
  pids=("${left[@]}")
  sleep 0.25
done
echo "swift-down: ${pids[*]} ignored TERM for 15 s; killing them" >&2
for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
exit 0
