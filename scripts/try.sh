#!/usr/bin/env bash
# try.sh shows go-glance at work in one command, with nothing but Go installed:
# it builds glance and glanced, starts glanced (noauth) on a free port with a
# temporary data folder, makes a small disk image and walks it through its life
# with the glance command, printing each command and its output, then stops
# glanced and removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin

work=$(mktemp -d "${TMPDIR:-/tmp}/glance-try.XXXXXX")
pid=
finish() {
  local rc=$?
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    echo
    echo "# glanced stopped"
  fi
  if ((rc != 0)) && [[ -f $work/glanced.log ]]; then
    echo "# try.sh failed (exit $rc); glanced's log ends:" >&2
    tail -n 20 "$work/glanced.log" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# run prints a command, then runs it.
run() {
  printf '\n$ %s\n' "$*"
  "$@"
}

echo "# building glance and glanced"
go build -o "$work/bin/" ./cmd/glance ./cmd/glanced
export PATH=$work/bin:$PATH

# glanced picks a free port itself and says which in its log.
glanced --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/glanced.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  addr=$(sed -n 's/.*msg="glanced serving" addr=\([^ ]*\).*/\1/p' "$work/glanced.log")
  [[ -n $addr ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "glanced did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -n $addr ]] || { echo "glanced did not start within 10 s" >&2; exit 1; }
echo "# glanced $(glanced --version) is serving on $addr (noauth), data in $work/data"

# Only these settings: none of the caller's OS_* or clouds.yaml.
unset "${!OS_@}"
export OS_IMAGE_URL=http://$addr OS_AUTH_TOKEN=noauth OS_TOKEN_CACHE=false
echo "# OS_IMAGE_URL=$OS_IMAGE_URL OS_AUTH_TOKEN=$OS_AUTH_TOKEN (project admin; noauth:PROJECT acts in another project)"

# A small disk image: qcow2 when qemu-img is here, else raw.
if command -v qemu-img >/dev/null; then
  run qemu-img create -q -f qcow2 "$work/disk.qcow2" 64M
  img=$work/disk.qcow2 fmt=qcow2
else
  run dd if=/dev/urandom of="$work/disk.raw" bs=1M count=4 status=none
  img=$work/disk.raw fmt=raw
fi

run glance image-create --name try-image --disk-format "$fmt" --container-format bare --file "$img"
run glance image-list
run glance image-update --name try-image-2 --property os_distro=cirros --min-disk 1 try-image
run glance image-tag-update try-image-2 demo
id=$(glance image-show try-image-2 -f value -c id)

# Share it with project beta, which accepts it and then sees it.
run glance member-create "$id" beta
run env OS_AUTH_TOKEN=noauth:beta glance member-update "$id" beta accepted
run env OS_AUTH_TOKEN=noauth:beta glance image-list
run glance member-list --image-id "$id"
run glance image-show try-image-2

# The download is verified against the image's hash by glance; compare too.
run glance image-download --file "$work/copy.$fmt" try-image-2
run cmp "$img" "$work/copy.$fmt"
echo "# the downloaded copy is identical to $(basename "$img")"

run glance image-delete try-image-2
run glance image-list
