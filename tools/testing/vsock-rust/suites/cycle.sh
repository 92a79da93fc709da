# SPDX-License-Identifier: GPL-2.0
# Load and unload one implementation (c or rust) N times (default 50).  Every
# fifth cycle runs echo connections over loopback and tries to unload while
# they are live, which must fail with the module in use; the unload after
# they close must succeed.  Leaks and splats are caught by vm.sh (dmesg) and
# by kmemleak on the debug kernel.
impl=${1:?usage: cycle.sh c|rust [N]}
n=${2:-50}
mods=()
case "$impl" in
c) mods=("${C_MODS[@]}") ;;
rust) mods=("${RUST_MODS[@]}") ;;
esac
transport_mod=$(basename "${mods[-1]}")

ok=0 bad=0
for i in $(seq "$n"); do
	load_impl "$impl"
	if [ $((i % 5)) = 0 ]; then
		socat VSOCK-LISTEN:5000,reuseaddr,fork EXEC:cat &
		srv=$!
		for _ in $(seq 50); do
			echo ping | timeout 5 socat - VSOCK-CONNECT:1:5000 >/dev/null 2>&1 && break
			sleep 0.1
		done
		clients=()
		for c in 1 2 3 4; do
			(for _ in $(seq 20); do echo "cycle $i client $c"; sleep 0.05; done) |
				timeout 60 socat -t 30 - VSOCK-CONNECT:1:5000 >"$OUT/cycle-$c.out" 2>&1 &
			clients+=($!)
		done
		# Wait until the 4 connections are up: each socket holds a reference
		# on the transport module (client and accepted side).
		for _ in $(seq 300); do
			[ "$(cat /sys/module/$transport_mod/refcnt)" -ge 8 ] && break
			sleep 0.05
		done
		# Live connections hold the transport: unloading must fail.
		if [ "$(cat /sys/module/$transport_mod/refcnt)" -lt 8 ]; then
			echo "cycle $i: connections not up, $transport_mod refcnt $(cat /sys/module/$transport_mod/refcnt)"
			bad=$((bad + 1))
		elif rmmod "$transport_mod" 2>/dev/null; then
			echo "cycle $i: $transport_mod unloaded under live connections"
			bad=$((bad + 1))
			load_mods "${mods[-1]}"
		fi
		wait "${clients[@]}" || true
		kill $srv 2>/dev/null
		wait $srv 2>/dev/null || true
		for c in 1 2 3 4; do
			if [ "$(grep -c "cycle $i client $c" "$OUT/cycle-$c.out")" != 20 ]; then
				echo "cycle $i: client $c got back: $(head -c 200 "$OUT/cycle-$c.out")"
				bad=$((bad + 1))
			fi
		done
	fi
	if unload_impl "$impl"; then
		ok=$((ok + 1))
	else
		echo "cycle $i: unload failed"
		bad=$((bad + 1))
		break
	fi
done
record "load/unload cycles ($impl)" $ok $bad
[ $bad = 0 ]
