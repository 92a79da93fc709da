# SPDX-License-Identifier: GPL-2.0
# The Rust suites for the debug kernel (KASAN, lockdep, kmemleak) in one VM,
# so that it boots once and kmemleak scans once, after all of them: kunit,
# upstream rust, sockmap rust, swap (devices replaced under traffic), cycle
# rust.  Arguments: the number of load/unload cycles (default 50).
cycles=${1:-50}
suites=$(dirname "${BASH_SOURCE[0]}")
rc=0
( set -e; . "$suites/kunit.sh" ) || rc=1
( set -e; . "$suites/upstream.sh" rust ) || rc=1
( set -e; . "$suites/sockmap.sh" rust ) || rc=1
( set -e; . "$suites/swap.sh" 5 16 ) || rc=1
( set -e; . "$suites/cycle.sh" rust "$cycles" ) || rc=1
[ $rc = 0 ]
