# SPDX-License-Identifier: GPL-2.0
# The device life cycle under traffic: the Rust loopback with swap_ms=N
# replaces its device (worker) by a new one every N ms, through the same
# RCU publication the guest and host transports use for removal, freeze and
# restore.  Upstream vsock_test and a checksummed transfer each way
# (one each way) must pass while devices are swapped, and swaps must have
# happened.
# Arguments: the period in ms (default 5) and the transfer size in MiB
# (default 64).
period=${1:-5}
mib=${2:-64}

load_mods "${RUST_MODS[0]}"
insmod "$(mod_path "${RUST_MODS[1]}")" swap_ms="$period"
echo "swap/$period ms: registered transports: $(transports)"

rc=0
run_upstream "$TOOLS/vsock_test" "vsock_test loopback, device swapped every $period ms (rust)" "" "" || rc=1

# Bulk transfers, byte for byte: client to server, then server to client.
ok=0 bad=0
head -c "${mib}M" /dev/urandom >"$OUT/swap-src"
listening() {
	for _ in $(seq 100); do
		ss -H --vsock -l 2>/dev/null | grep -q ":7000" && return 0
		sleep 0.1
	done
}
for dir in up down; do
	rm -f "$OUT/swap-dst"
	if [ $dir = up ]; then
		socat -u VSOCK-LISTEN:7000 OPEN:"$OUT/swap-dst",creat,trunc &
		srv=$!
		listening
		timeout 300 socat -u OPEN:"$OUT/swap-src" VSOCK-CONNECT:1:7000 || echo "transfer $dir: client failed"
	else
		socat -u OPEN:"$OUT/swap-src" VSOCK-LISTEN:7000 &
		srv=$!
		listening
		timeout 300 socat -u VSOCK-CONNECT:1:7000 OPEN:"$OUT/swap-dst",creat,trunc || echo "transfer $dir: client failed"
	fi
	wait $srv
	if cmp -s "$OUT/swap-src" "$OUT/swap-dst"; then
		ok=$((ok + 1))
	else
		echo "transfer $dir: data differs ($(stat -c %s "$OUT/swap-dst" 2>/dev/null) bytes received)"
		bad=$((bad + 1))
	fi
done
rm -f "$OUT/swap-src" "$OUT/swap-dst"

dmesg -c >/dev/null
unload_impl rust
swaps=$(dmesg | sed -nE 's/.*vsock_rs_loopback: ([0-9]+) device swaps.*/\1/p' | tail -n 1)
echo "device swaps: ${swaps:-none}"
if [ "${swaps:-0}" -gt 0 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
record "$mib MiB transfers and swaps, device swapped every $period ms (rust)" $ok $bad
[ $bad = 0 ] && [ $rc = 0 ]
