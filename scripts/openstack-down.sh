#!/usr/bin/env bash
# openstack-down.sh [DIR [NAME...]] stops what openstack-up.sh (Keystone, Glance,
# nginx, PostgreSQL) and glanced-up.sh (glanced) started in DIR (default
# ${TMPDIR:-/tmp}/glance-peer); with NAMEs, only those of: glanced nginx glance
# keystone postgresql. The data in DIR stays.
set -uo pipefail
DIR=$(realpath -m "${1:-${TMPDIR:-/tmp}/glance-peer}")
shift $(($# > 0 ? 1 : 0))
names=("$@")
((${#names[@]})) || names=(glanced nginx glance keystone postgresql) # clients before servers

# ours PID: the process is this peer's, whose command line names DIR; a stale pid
# file may by now name some other process.
ours() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$DIR/"; }
# signal SIG NAME PID: Keystone, Glance and glanced lead their own process group
# (setsid) with their workers; nginx's and PostgreSQL's masters stop their workers
# themselves, PostgreSQL on INT (fast shutdown: it does not wait for its clients).
signal() {
  case $2 in
  nginx) kill "-$1" "$3" ;;
  postgresql) kill "-$([[ $1 == TERM ]] && echo INT || echo "$1")" "$3" ;;
  *) kill "-$1" -- "-$3" ;;
  esac 2>/dev/null
}

declare -A running=()
for name in "${names[@]}"; do
  case $name in
  glanced | nginx | glance | keystone) f=$DIR/$name.pid ;;
  postgresql) f=$DIR/pg/postmaster.pid ;; # PostgreSQL removes it itself
  *) echo "openstack-down: unknown service $name" >&2; exit 2 ;;
  esac
  [[ -f $f ]] || continue
  pid=$(head -n 1 "$f")
  if ours "$pid"; then
    signal TERM "$name" "$pid"
    running[$name]=$pid
  fi
  [[ $name == postgresql ]] || rm -f "$f"
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
