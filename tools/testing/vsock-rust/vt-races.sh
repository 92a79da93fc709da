# SPDX-License-Identifier: GPL-2.0
# Races of upstream's vsock_test itself, seen with C on both ends, after
# which a run is repeated instead of counted (POSIX sh: sourced by
# guest-lib.sh and, in the nested guest, by l2-pair.sh).
#
# vt_known_race LOG...: prints the name of the race that ended one of these
# vsock_test logs (its last line), if any; fails otherwise.
#  - "SIOCINQ after transport change": test 33's interrupted connects leave
#    connection requests in flight; when they reach the peer after test
#    34's server has listened (backlog 1), one is accepted in place of the
#    client's (whose end is gone: the server's send gets EPIPE) or they
#    fill the accept queue (the client's connect is reset).  Seen in make
#    check: nsvm with C host and C guest, pair with Rust host and guest.
vt_known_race() {
	for _log in "$@"; do
		case "$(tail -n 1 "$_log" 2>/dev/null)" in
		*"SOCK_STREAM ioctl(SIOCINQ) functionality...connect: Connection reset by peer"* | \
		*"SOCK_STREAM ioctl(SIOCINQ) functionality...send: Broken pipe"*)
			echo "SIOCINQ after transport change"
			return 0 ;;
		esac
	done
	return 1
}
