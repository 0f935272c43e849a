#!/bin/sh
# Start VPP as end $VPP_END (west or east) of the demo: fill the memif socket
# into deploy/vpp/$VPP_END.cli and run VPP with startup.conf.
set -eu
: "${VPP_END:?set VPP_END to west or east}"
: "${MEMIF_SOCKET:=/run/memif/memif.sock}"
export MEMIF_SOCKET
mkdir -p /run/vpp "$(dirname "$MEMIF_SOCKET")"
# only this variable is replaced: the list is envsubst's, in single quotes on purpose
# shellcheck disable=SC2016
envsubst '${MEMIF_SOCKET}' < "/etc/vpp/demo/${VPP_END}.cli" > /run/vpp/setup.cli
exec vpp -c /etc/vpp/demo/startup.conf
