# SPDX-License-Identifier: GPL-2.0
# Races of upstream's vsock_test itself, after which a run is repeated
# instead of counted (POSIX sh: sourced by guest-lib.sh and, in the nested
# guest, by l2-pair.sh).  A deterministic failure that looks like one still
# fails: the repeated run counts.
#
# vt_known_race CLIENT_LOG [SERVER_LOG]: prints the name of the race that
# ended this run of vsock_test (judged from the logs' last lines), if any;
# fails otherwise.  CLIENT_LOG may be "" when only the server's log is at
# hand (l2-pair.sh's run B; suites/pair.sh then checks the client's).
#  - "SIOCINQ after transport change": test 33's interrupted connects leave
#    connection requests in flight; when they reach the peer after test
#    34's server has listened (backlog 1), one is accepted in place of the
#    client's (whose end is gone: the server's send gets EPIPE) or they
#    fill the accept queue (the client's connect is reset).  Seen in make
#    check: nsvm with C host and C guest, pair with Rust host and guest.
#    Either log may show it.
#  - "double bind connect: RST after the control message": test 21's
#    client closes and, as soon as the server has seen the SHUTDOWN and
#    said "LISTENING" over TCP, binds its port again.  The port is free
#    only once the server's RST has reached the client's kernel: sent
#    before the server wakes, but over another path (virtqueue and vhost
#    worker) than the control message (virtio-net and QEMU's user
#    network).  When the RST loses, the client's bind fails with
#    EADDRINUSE and the server's accept times out: the client's line must
#    be that bind and, when the server's log is given, the server's that
#    accept (a server whose own bind fails is not this race).  Seen in
#    make check with a Rust end (pair: Rust host with C guest in A, C host
#    with Rust guest in B), and with C on both ends on a debug L1
#    (Documentation/testing.rst); suite rebind measured the RST's
#    close-to-rebind times over 200 rounds per direction and pairing, the
#    same for C and Rust at either end (medians 1.6-1.8 ms guest to host,
#    2.8-3.9 ms host to guest; maxima 10-75 ms), and fails any RST slower
#    than 1 s.
vt_known_race() {
	_c=$(tail -n 1 "$1" 2>/dev/null)
	_s=
	[ $# -lt 2 ] || _s=$(tail -n 1 "$2" 2>/dev/null)
	for _l in "$_c" "$_s"; do
		case "$_l" in
		*"SOCK_STREAM ioctl(SIOCINQ) functionality...connect: Connection reset by peer"* | \
		*"SOCK_STREAM ioctl(SIOCINQ) functionality...send: Broken pipe"*)
			echo "SIOCINQ after transport change"
			return 0 ;;
		esac
	done
	_t21="SOCK_STREAM double bind connect..."
	case "$_c" in
	"")
		case "$_s" in *"${_t21}accept timed out")
			echo "double bind connect: RST after the control message"
			return 0 ;;
		esac ;;
	*"${_t21}bind: Address already in use")
		# The server's accept timed out, or still waits (its log taken
		# before its timeout, as suites/nsvm.sh does).
		case "$_s" in "" | *"${_t21}accept timed out" | *"${_t21}")
			echo "double bind connect: RST after the control message"
			return 0 ;;
		esac ;;
	esac
	return 1
}
