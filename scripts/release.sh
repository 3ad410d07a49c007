#!/usr/bin/env bash
# release.sh [DIR] builds a release of glance and glanced into DIR (default dist/):
#
#   glance-OS-ARCH[.exe], glanced-OS-ARCH[.exe]   static (CGO_ENABLED=0), -trimpath builds for
#                                                 linux, darwin and windows on amd64 and arm64
#   man/man1/*.1                                   manual pages of glance (one per command) and glanced
#   completion/                                    bash, zsh and fish completion scripts of both
#   glanced.service                                an example systemd unit (packaging/)
#   SHA256SUMS                                     checksums of every file above (sha256sum -c)
#
# It builds from a clean clone of the committed HEAD, so that the binaries record the
# module version and commit (`glance --version`) and nothing uncommitted slips in; tag
# the commit vX.Y.Z first for a release version. RELEASE_TARGETS="linux/amd64 ..."
# builds only those targets (default all six).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "release: $*" >&2; }
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin

out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
targets=${RELEASE_TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}

if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
  say "warning: uncommitted changes are not part of the release (it builds the committed HEAD)"
fi
src=$(mktemp -d "${TMPDIR:-/tmp}/glance-release.XXXXXX")
trap 'rm -rf "$src"' EXIT
git clone --quiet --no-hardlinks . "$src/repo"
git -C "$src/repo" checkout --quiet --detach "$(git rev-parse HEAD)"
say "building $(git -C "$src/repo" describe --tags --always --dirty) into $out"

# The module's VCS data must be recorded, whatever GOFLAGS says.
export GOFLAGS="-buildvcs=true" CGO_ENABLED=0
for t in $targets; do
  os=${t%/*} arch=${t#*/}
  ext=
  [[ $os == windows ]] && ext=.exe
  for cmd in glance glanced; do
    (cd "$src/repo" && GOOS=$os GOARCH=$arch go build -trimpath -ldflags="-s -w" \
      -o "$out/$cmd-$os-$arch$ext" "./cmd/$cmd")
  done
  say "built $os/$arch"
done

rm -rf "$out/man" "$out/completion"
(cd "$src/repo" && go run ./internal/tools/gendocs -o "$out")
cp packaging/glanced.service "$out/"

# This machine's own build shows its version, which proves it runs.
host=$(go env GOOS)-$(go env GOARCH)
if [[ -x $out/glance-$host ]]; then
  say "glance --version: $("$out/glance-$host" --version)"
  say "glanced --version: $("$out/glanced-$host" --version)"
fi

(cd "$out" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
say "done: $(wc -l <"$out/SHA256SUMS") files in $out, checksums in SHA256SUMS"
