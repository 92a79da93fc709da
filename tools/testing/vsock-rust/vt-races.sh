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
#  - "double bind connect: RST after the control message": test 21's
#    client closes and, as soon as the server has seen the SHUTDOWN and
#    said "LISTENING" over TCP, binds its port again.  The port is free
#    only once the server's RST has reached the client's kernel: sent
#    before the server wakes, but over another path (virtqueue and vhost
#    worker) than the control message (virtio-net and QEMU's user
#    network).  When the RST loses, bind fails with EADDRINUSE (client)
#    and the server's accept times out.  Seen in make check with a Rust
#    end (pair: Rust host with C guest in A, C host with Rust guest in B);
#    suite rebind measured the RST's close-to-rebind times over 200 rounds
#    per direction and pairing, the same for C and Rust at either end
#    (medians 1.6-1.8 ms guest to host, 2.8-3.9 ms host to guest; maxima
#    10-75 ms), so it is the race, not a slower RST.
vt_known_race() {
	for _log in "$@"; do
		case "$(tail -n 1 "$_log" 2>/dev/null)" in
		*"SOCK_STREAM ioctl(SIOCINQ) functionality...connect: Connection reset by peer"* | \
		*"SOCK_STREAM ioctl(SIOCINQ) functionality...send: Broken pipe"*)
			echo "SIOCINQ after transport change"
			return 0 ;;
		*"SOCK_STREAM double bind connect...bind: Address already in use"* | \
		*"SOCK_STREAM double bind connect...accept timed out"*)
			echo "double bind connect: RST after the control message"
			return 0 ;;
		esac
	done
	return 1
}
