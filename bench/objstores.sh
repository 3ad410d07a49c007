#!/usr/bin/env bash
# objstores.sh CLUSTERDIR [MIB] compares, with one image of MIB MiB (default 1024):
#   - curl straight to Swift (tempauth token) and to S3 (s3api; URLs presigned with botocore),
#     and a plain signed PUT and GET to S3 from Go;
#   - the Swift and S3 blob stores (blobtest.Bench: known and unknown size, peak heap);
#   - glanced with its Swift store and with its S3 store (one node of the cluster, curl -T /
#     curl -o; X-Image-Meta-Store picks the store).
# CLUSTERDIR is a folder of scripts/cluster-up.sh (noauth, or keystone with CLUSTER_PEER).
# Each figure is one run: the machine is shared; repeat for a median.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(cd "${1:?usage: objstores.sh CLUSTERDIR [MIB]}" && pwd)
mib=${2:-1024}
source "$DIR/swift/env"
work=$(mktemp -d "${TMPDIR:-/tmp}/objbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
truncate -s "${mib}M" "$work/img"
rate() { awk -v b=$((mib << 20)) -v t="$1" 'BEGIN { printf "%.1f MiB/s", b / t / 1048576 }'; }
timed() { curl -sS -f -o "${OUT:-/dev/null}" -w '%{time_total}' "$@"; }

token=$(curl -sS -f -D - -o /dev/null -H "X-Auth-User: $SWIFT_USER" -H "X-Auth-Key: $SWIFT_KEY" "$SWIFT_AUTH_URL" |
  tr -d '\r' | awk -F': ' 'tolower($1) == "x-auth-token" { print $2 }')
storage=$(curl -sS -f -D - -o /dev/null -H "X-Auth-User: $SWIFT_USER" -H "X-Auth-Key: $SWIFT_KEY" "$SWIFT_AUTH_URL" |
  tr -d '\r' | awk -F': ' 'tolower($1) == "x-storage-url" { print $2 }')
curl -sS -f -X PUT -H "X-Auth-Token: $token" "$storage/objbench" >/dev/null
echo "| $mib MiB | upload | download |"
echo "| --- | ---: | ---: |"
up=$(timed -T "$work/img" -H "X-Auth-Token: $token" "$storage/objbench/img")
down=$(timed -H "X-Auth-Token: $token" "$storage/objbench/img")
curl -sS -f -X DELETE -H "X-Auth-Token: $token" "$storage/objbench/img" >/dev/null
echo "| curl, Swift | $(rate "$up") | $(rate "$down") |"

# S3: curl --aws-sigv4 cannot sign for tempauth's access key (ACCOUNT:USER, whose ':' ends
# --user's name): botocore (Debian's python3-boto3) presigns the URLs curl then uses. Without it
# the plain baseline is BenchmarkPlainHTTP below: one signed, streamed PUT.
if python3 -c 'import boto3' 2>/dev/null; then
  mapfile -t s3url < <(S3_ENDPOINT=$S3_ENDPOINT S3_ACCESS_KEY=$S3_ACCESS_KEY S3_SECRET_KEY=$S3_SECRET_KEY python3 -c '
import os, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], aws_access_key_id=os.environ["S3_ACCESS_KEY"],
                  aws_secret_access_key=os.environ["S3_SECRET_KEY"], region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
try:
    s3.create_bucket(Bucket="objbench")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
for op, p in [("put_object", {"Key": "img"}), ("get_object", {"Key": "img"}), ("delete_object", {"Key": "img"}), ("delete_bucket", {})]:
    print(s3.generate_presigned_url(op, Params={"Bucket": "objbench", **p}, ExpiresIn=3600))')
  up=$(timed -T "$work/img" "${s3url[0]}")
  down=$(timed "${s3url[1]}")
  curl -sS -f -X DELETE "${s3url[2]}" >/dev/null && curl -sS -f -X DELETE "${s3url[3]}" >/dev/null
  echo "| curl, S3 (presigned URLs) | $(rate "$up") | $(rate "$down") |"
fi

# glanced on Swift and on S3: one node (node1) directly, without nginx.
node=$(awk 'NR == 1 { print $1 }' "$DIR/nodes")
auth=()
if grep -q '^CLUSTER_AUTH=keystone' "$DIR/env"; then
  peer=$(awk -F= '$1 == "CLUSTER_PEER" { print $2 }' "$DIR/env")
  kurl=$(awk -F= '$1 == "PEER_KEYSTONE_URL" { print $2 }' "$peer/peer.env")
  body='{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alpha-user",
    "domain": {"name": "Default"}, "password": "alpha-secret"}}}, "scope": {"project": {"name": "alpha",
    "domain": {"name": "Default"}}}}}'
  auth=(-H "X-Auth-Token: $(curl -sS -f -D - -o /dev/null -H 'Content-Type: application/json' -d "$body" "$kurl/auth/tokens" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-subject-token" { print $2 }')")
fi
# glanced_row STORE: one image up (curl -T, to that store) and down (curl -o) through the node.
glanced_row() {
  local id
  id=$(curl -sS -f "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"name": "objbench", "disk_format": "raw", "container_format": "bare"}' "$node/v2/images" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  up=$(timed -T "$work/img" "${auth[@]}" -H 'Content-Type: application/octet-stream' -H "X-Image-Meta-Store: $1" \
    "$node/v2/images/$id/file")
  down=$(timed "${auth[@]}" "$node/v2/images/$id/file")
  curl -sS -f -X DELETE "${auth[@]}" "$node/v2/images/$id" >/dev/null
  echo "| glanced ($1 store), curl | $(rate "$up") | $(rate "$down") |"
}
glanced_row swift
glanced_row s3

echo
cd "$here"
GLANCE_SWIFT_ENV=$DIR/swift GLANCE_BENCH_MIB=$mib go test -run '^$' -bench 'Transfer|PlainHTTP' -benchtime 1x \
  ./internal/blob/swiftblob ./internal/blob/s3blob | grep -E '^(Benchmark|ok|pkg)'
