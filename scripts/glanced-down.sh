#!/usr/bin/env bash
# glanced-down.sh DIR stops the glanced that glanced-up.sh started for the peer in DIR.
# Its data stays in DIR/glanced.
exec "$(dirname "$0")/openstack-down.sh" "${1:?usage: glanced-down.sh DIR}" glanced
