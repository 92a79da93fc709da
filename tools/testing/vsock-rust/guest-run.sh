#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: prepare the guest, run suites/$SUITE.sh, save dmesg.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
guest_setup
status=0
( set -e; . "$here/suites/$SUITE.sh" "$@" ) || status=$?
guest_teardown
dmesg >"$OUT/dmesg.txt"
echo "$status" >"$OUT/status"
