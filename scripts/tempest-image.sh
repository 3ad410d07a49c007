#!/usr/bin/env bash
# tempest-image.sh REGION [REGEX] runs tempest's Image API v2 tests (Debian's tempest 33,
# regex default ^tempest\.api\.image\.v2, one at a time, about 6 minutes) against the
# image endpoint of REGION of the peer in GLANCE_PEER_DIR (default /tmp/peer), and prints
# tempest's totals and the failed tests. See tempest-lib.sh for the set-up.
#
#   scripts/tempest-image.sh RegionOne               # the real Glance
#   scripts/glanced-up.sh /tmp/peer && scripts/tempest-image.sh RegionExtra   # glanced
set -euo pipefail
NAME=tempest-image
# shellcheck source=scripts/tempest-lib.sh
source "$(dirname "$0")/tempest-lib.sh"
tempest_setup "${1:?usage: tempest-image.sh REGION [REGEX]}"
tempest_conf
tempest_run "${2:-^tempest\.api\.image\.v2}" 1200
