# SPDX-License-Identifier: GPL-2.0
# Buffer-size matrix over the loopback transport (CID 1): vsock_bufmatrix
# runs every combination of receive and send buffer size
# (SO_VM_SOCKETS_BUFFER_SIZE, 128 B to 2 MiB), receiver SO_RCVLOWAT,
# SOCK_STREAM/SOCK_SEQPACKET and blocking/non-blocking writer, and checks
# every byte, message boundary and end of stream; a case that stalls fails.
# Arguments: the implementations to run, in order, in this one VM (c, rust,
# rust-nosteer or alt; default "c rust"): load one, run the matrix, unload.
# BUFMATRIX_ARGS (via VM_ENV): extra options for vsock_bufmatrix, e.g.
# "-t stream -r 262144" to run part of the matrix.
impls=("$@")
[ ${#impls[@]} -gt 0 ] || impls=(c rust)
prog=$ROOT/tools/testing/vsock-rust/progs/bufmatrix/vsock_bufmatrix
[ -x "$prog" ] || { echo "$prog not built: run 'make modules'" >&2; exit 1; }

rc=0
port=40000
for impl in "${impls[@]}"; do
	echo "=== bufmatrix/$impl"
	load_impl "$impl"
	echo "bufmatrix/$impl: registered transports: $(transports)"
	log=$OUT/bufmatrix-$impl.log
	start=$(date +%s)
	# Each implementation gets its own ports: nothing of the previous run
	# can be left bound to them.
	"$prog" -p $port ${BUFMATRIX_ARGS:-} >"$log" 2>&1 || true
	echo "bufmatrix/$impl: $(( $(date +%s) - start )) s"
	cat "$log"
	counts=$(sed -nE 's/^bufmatrix: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -n 1)
	if [ -n "$counts" ]; then
		set -- $counts
		passed=$1 failed=$2
	else
		echo "bufmatrix/$impl: vsock_bufmatrix did not finish" >&2
		passed=0 failed=1
	fi
	record "buffer matrix ($impl)" "$passed" "$failed"
	[ "$failed" = 0 ] || rc=1
	unload_impl "$impl"
	port=$((port + 1000))
done
[ $rc = 0 ]
