#!/bin/sh
# A script written for python-glanceclient's v2 command line: create from a
# file, update, tag, share between two projects, download, delete. It must
# run unchanged with either client ($GLANCE).
set -eux
GLANCE=${GLANCE:-glance}

# G runs the client. With RETRY_RESETS=1 a command that failed because the
# single-process test Keystone reset or dropped the connection is run again; this is
# set for python-glanceclient, whose pooled connections meet it often.
G() {
	n=0
	while :; do
		if "$GLANCE" "$@" > "$WORK/out" 2> "$WORK/err"; then
			cat "$WORK/out"; cat "$WORK/err" >&2
			return 0
		fi
		n=$((n + 1))
		if [ "${RETRY_RESETS:-}" = 1 ] && [ $n -lt 5 ] && grep -Eq 'Connection reset by peer|Remote end closed connection' "$WORK/err"; then
			sleep 1
			continue
		fi
		cat "$WORK/out"; cat "$WORK/err" >&2
		return 1
	done
}
NAME="acceptance-$RUN"

# field KEY: the Value of KEY in a Property/Value table on stdin.
field() {
	awk -F'|' -v k="$1" '{ p = $2; gsub(/ /, "", p) } p == k { v = $3; gsub(/^ +| +$/, "", v); print v; exit }'
}
login() { OS_USERNAME=$1; OS_PASSWORD=$2; OS_PROJECT_NAME=$3; export OS_USERNAME OS_PASSWORD OS_PROJECT_NAME; }

login alpha-user alpha-secret alpha
printf 'acceptance test data\n' > "$WORK/data.img"

ID=$(G image-create --name "$NAME" --disk-format raw --container-format bare \
	--visibility shared --property purpose=acceptance --file "$WORK/data.img" | field id)
test -n "$ID"
G image-show "$ID" | field status | grep -qx active
G image-update "$ID" --min-ram 16 --property build=42 --remove-property purpose > "$WORK/updated.txt"
field build < "$WORK/updated.txt" | grep -qx 42
field min_ram < "$WORK/updated.txt" | grep -qx 16
! grep -q purpose "$WORK/updated.txt"
G image-tag-update "$ID" release > /dev/null
G image-show "$ID" | field tags | grep -q release
G image-list --tag release | grep -q "$ID"

G member-create "$ID" "$BETA_PROJECT" | grep -q pending
login beta-user beta-secret beta
G member-update "$ID" "$BETA_PROJECT" accepted | grep -q accepted
G image-list | grep -q "$ID"
G image-download "$ID" --file "$WORK/got.img"
cmp "$WORK/data.img" "$WORK/got.img"
G image-download "$ID" > "$WORK/stdout.img"
cmp "$WORK/data.img" "$WORK/stdout.img"

login alpha-user alpha-secret alpha
G member-list --image-id "$ID" | grep "$BETA_PROJECT" | grep -q accepted
G image-tag-delete "$ID" release
G image-delete "$ID"
if G image-show "$ID" > /dev/null 2>&1; then
	echo "image $ID still exists after image-delete" >&2
	exit 1
fi
echo "acceptance script passed"
