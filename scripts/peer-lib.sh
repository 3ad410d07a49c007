# peer-lib.sh: shell functions of the scripts that start services for the tests
# (openstack-up.sh, glanced-up.sh). Sourced; the caller sets DIR and defines say.

# busy PORT: something listens on 127.0.0.1:PORT.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# alive NAME: the process in DIR/NAME.pid runs.
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
