#!/usr/bin/env bash
# tempest-rbac.sh REGION [REGEX] runs glance-tempest-plugin's secure-RBAC tests (186,
# regex default ^glance_tempest_plugin\.tests\.rbac, one at a time, about 6 minutes) with
# Debian's tempest against the image endpoint of REGION of the peer in GLANCE_PEER_DIR
# (default /tmp/peer), and prints tempest's totals and the failed tests. The set-up is
# tempest-image.sh's (tempest-lib.sh) plus [enforce_scope] glance = true.
#
# The peer must run Keystone on PostgreSQL (on SQLite the tests' concurrent creation of
# users fails with "database is locked") and Glance with scope enforced:
#   KEYSTONE_DB=postgresql GLANCE_ENFORCE_SCOPE=true scripts/openstack-up.sh /tmp/peer-rbac
#   GLANCE_PEER_DIR=/tmp/peer-rbac scripts/tempest-rbac.sh RegionOne
#
# The plugin (openstack/glance-tempest-plugin, unmodified) is not part of this repository:
# GLANCE_TEMPEST_PLUGIN names its source, a .tar.gz holding gtp/ or an unpacked folder,
# default ../shared/peers/glance-tempest-plugin.tar.gz beside the repository's folder. A
# fresh clone needs it there or named. tempest finds it through its egg-info on PYTHONPATH.
set -euo pipefail
NAME=tempest-rbac
# shellcheck source=scripts/tempest-lib.sh
source "$(dirname "$0")/tempest-lib.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
plugin=${GLANCE_TEMPEST_PLUGIN:-$repo/../shared/peers/glance-tempest-plugin.tar.gz}
[[ -e $plugin ]] || die "no glance-tempest-plugin at $plugin: set GLANCE_TEMPEST_PLUGIN"

tempest_setup "${1:?usage: tempest-rbac.sh REGION [REGEX]}"
[[ ${PEER_KEYSTONE_DB:-sqlite} == postgresql ]] ||
  die "the peer in $DIR runs Keystone on ${PEER_KEYSTONE_DB:-sqlite}: start one with KEYSTONE_DB=postgresql"
[[ ${PEER_GLANCE_ENFORCE_SCOPE:-false} == true ]] ||
  die "the peer in $DIR runs Glance without enforce_scope: start one with GLANCE_ENFORCE_SCOPE=true"
if [[ -d $plugin ]]; then
  export PYTHONPATH=$plugin
else
  tar -xzf "$plugin" -C "$WS" || die "unpacking $plugin"
  export PYTHONPATH=$WS/gtp
fi
[[ -d $PYTHONPATH/glance_tempest_plugin.egg-info ]] || die "$plugin has no glance_tempest_plugin.egg-info"
tempest_conf "[enforce_scope]
glance = true"
tempest_run "${2:-^glance_tempest_plugin\.tests\.rbac}" 1500
