# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Host and guest implementations paired across a real virtio-vsock device.
# This VM (L1) is the vsock host: it loads a vhost backend, and QEMU in it
# boots a minimal L2 guest (the same kernel, a busybox initramfs,
# -device vhost-vsock-pci, guest CID 3) that loads a virtio transport.
#
#   pair.sh HOST GUEST...
#
# HOST: c (vhost_vsock) or rust (vhost_vsock_rs); each GUEST: c
# (vmw_vsock_virtio_transport) or rust (vsock_rs_virtio).  One L1 boot serves
# every guest; each guest gets one L2 boot, in which l2-pair.sh runs
# upstream's vsock_test three times: A (L2 client, L1 server), B (L2 server,
# L1 client) and L (loopback inside L2).  Per guest it records
#
#   pair host=H guest=G: N passed, N failed
#     the vsock_test cases of A and B, a case passing when both sides
#     printed "ok" for it (2 x 41 on 7.2); a case never reached counts as
#     failed.  An Oops, WARNING, BUG or KASAN report in L2's kernel log, or
#     an L2 that does not finish, fails every case of the pairing;
#   vmtest host=H guest=G: N passed, N failed
#     the shared-VM cases of upstream's tools/testing/selftests/vsock/
#     vmtest.sh judged as that script does: vm_server_host_client (B),
#     vm_client_host_server (A) and vm_loopback (L) pass when the client
#     exits 0 and neither kernel log gained a line containing "Oops" or a
#     warning-level line mentioning vsock during the run.  vmtest.sh itself
#     cannot run here: its guest is a virtme-ng VM driven over ssh (no sshd
#     on this machine), on a 9p root, and it lets modprobe pick the guest's
#     modules; this suite does what those three cases check, with our L2.
#
# and, with kmemleak (the debug kernel), once for all guests
#
#   pair host=H kmemleak: N passed, N failed
#     kmemleak's report after the backend's unload is empty (a report is
#     printed, and its "unreferenced object" lines fail the VM run too);
#
# and a line per run for diagnosis (not counted by check.sh).  Logs: OUT/
# pair-G-*.log, L2's console in OUT/l2-G-console.log.
#
# Fatal errors exit: guest-run.sh sources suites in a subshell on the left of
# "||", where bash ignores set -e.
host_impl=${1:?usage: pair.sh HOST GUEST...}
shift
[ $# -gt 0 ] || set -- c rust

vt=$KDIR/vsock-tools/vsock_test
vt_static=$KDIR/vsock-tools-static/vsock_test
[ -x "$vt_static" ] || { echo "no $vt_static (make modules builds it: scripts/build-static-tools.sh)" >&2; exit 1; }
total=$("$vt" --list | grep -cE '^[0-9]+\s')
# Control ports: A's server in L1, B's server in L2 (forwarded), L's in L2.
port_a=15100 port_b=15200 port_l=15300
# Upper bounds, in seconds of this VM's clock (instruction-counted under
# PAIR_CLOCK=icount): one L2 boot and its three runs take 1.5-2.5 minutes
# of it (icount) or 2.5-6 minutes (wall clock, depending on the load), one
# vsock_test run 15-90 s.
l2_limit=${PAIR_L2_TIMEOUT:-1200}
# PAIR_L2_KDIR: another kernel build for L2 (its bzImage and, for GUEST=c,
# its C modules), e.g. the default kernel under a debug L1, whose own
# KASAN L2 does not boot within the limits under nested TCG.  With it,
# PAIR_L2_KO is a directory with our guest modules built for that kernel
# (vsock_rs_common, vsock_rs_virtio, vsock_rs_loopback: make pair
# VARIANT=debug builds them); without PAIR_L2_KO they come from this
# tree, built for L1's kernel, so that only GUEST=c works.
l2_kdir=${PAIR_L2_KDIR:-$KDIR}
l2_ko=${PAIR_L2_KDIR:+${PAIR_L2_KO:-}}
# l2_path MODULE: a guest module for L2's kernel.
l2_path() {
	if [ -n "$l2_ko" ]; then l2_mod_path "$1"; else KDIR=$l2_kdir mod_path "$1"; fi
}
run_limit=300

list=$(vhost_mods "$host_impl") ||
	{ echo "pair: unknown host implementation '$host_impl' (c or rust)" >&2; exit 1; }
read -r -a host_mods <<<"$list"

# guest_mods G: the modules L2 loads at boot, in order, then its loopback
# transport (loaded for run L only).
guest_mods() {
	local v
	v=$(virtio_mods "$1") || return 1
	case "$1" in
	c) echo "$v" net/vmw_vsock/vsock_loopback ;;
	rust) echo "$v" net/vmw_vsock/vsock_rs_loopback ;;
	esac
}

# note LINE: a diagnostic line, printed and kept in the summary.  Its form
# ("..: N ok, ...") is not the "N passed, N failed" that check.sh counts.
note() {
	echo "$*" | tee -a "$OUT/summary"
}

# record_fail NAME: every case of a pairing failed (nothing ran).
record_fail() {
	record "pair host=$host_impl guest=$1" 0 $((2 * total))
	record "vmtest host=$host_impl guest=$1" 0 3
}

# l1_threads [PID]: "tid comm ticks" (user + system, USER_HZ) of every
# thread in L1, or of PID's.  One cat and one awk, so that taking it costs
# L1 little.
l1_threads() {
	local files=(/proc/[0-9]*/task/[0-9]*/stat)
	[ -z "${1:-}" ] || files=(/proc/"$1"/task/[0-9]*/stat)
	cat "${files[@]}" 2>/dev/null | awk '{
		o = index($0, "("); c = 0
		for (i = length($0); i > o; i--) if (substr($0, i, 1) == ")") { c = i; break }
		comm = substr($0, o + 1, c - o - 1); gsub(/ /, "_", comm)
		split(substr($0, c + 2), f, " ")
		print $1, comm, f[12] + f[13] }'
}

# l1_cpu: "busy idle" ticks of all of L1's CPUs (/proc/stat).
l1_cpu() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $5 + $6; exit }' /proc/stat; }

# l1_load_diff START_THREADS START_CPU END_THREADS QEMU_SAMPLES: what L1 ran
# between the two snapshots: its busy and idle ticks, and the threads that
# took the most (QEMU's from their last sample, as they are gone by the
# end, so that their last 2 s are missing), "comm ticks".
l1_load_diff() {
	local b0 i0 b1 i1
	read -r b0 i0 <"$2"
	read -r b1 i1 < <(l1_cpu)
	printf 'busy %s idle %s ticks; ' $((b1 - b0)) $((i1 - i0))
	cat "$3" "$4" | awk -v start="$1" '
		BEGIN { while ((getline l < start) > 0) { split(l, f, " "); t0[f[1]] = f[3] } }
		{ last[$1] = $3; name[$1] = $2 }
		END { for (t in last) if (t in t0 && last[t] > t0[t]) print last[t] - t0[t], name[t] }' |
		sort -rn | head -n 8 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 } END { print "" }'
}

# The kernel log's counts in L1, as vmtest.sh takes them on its host.
l1_oops() { dmesg | grep -ci oops || true; }
l1_warn() { dmesg --level=warn | grep -ci vsock || true; }

# results LOG: "ID ok|skipped|fail" for every case vsock_test started.  A
# case's output runs from its "ID - name..." to the next case; it passed
# when it ends in "ok" (some cases print notes between name and "ok").
results() {
	awk '
	function flush() {
		if (id == "") return
		if (buf ~ /ok$/) print id, "ok"
		else if (buf ~ /skipped$/) print id, "skipped"
		else print id, "fail"
		id = ""
	}
	/^[0-9]+ - / { flush(); id = $1; buf = $0; next }
	/^All tests have been executed/ { flush(); next }
	id != "" { buf = buf "\n" $0 }
	END { flush() }' "$1"
}

# count L1_LOG L2_LOG L1_RC L2_RC: "PASSED SKIPPED FAILED" of one run of
# vsock_test.  A case passed when both sides report "ok"; cases never
# started failed.  When every case passed but a side still failed (the
# final barrier), the last case counts as failed.
count() {
	local passed skipped
	passed=$(join <(results "$1" | awk '$2 == "ok" { print $1 }' | sort) \
		<(results "$2" | awk '$2 == "ok" { print $1 }' | sort) | wc -l)
	skipped=$(results "$2" | awk '$2 == "skipped"' | wc -l)
	if [ "$3" != 0 ] || [ "$4" != 0 ]; then
		[ $((passed + skipped)) -lt "$total" ] || passed=$((passed - 1))
	fi
	echo "$passed $skipped $((total - passed - skipped))"
}

# l2_log TAG: L2's log of one run, from its console.
l2_log() {
	sed -n "s/^L2|$1| //p" "$console" | tr -d '\r'
}

# l2_result RUN FIELD: a field (client, server, oops, warn, t) of L2's
# "L2-RESULT RUN ..." line; "missing" when L2 never printed it.
l2_result() {
	local v
	v=$(tr -d '\r' <"$console" | sed -nE "s/^L2-RESULT $1 .*\\b$2=([-0-9.]+).*/\\1/p" | head -n 1)
	echo "${v:-missing}"
}

# secs FROM TO: whole seconds between two uptimes, "?" when one is missing.
secs() {
	if [[ "$1" =~ ^[0-9.]+$ ]] && [[ "$2" =~ ^[0-9.]+$ ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%d\n", b - a }'
	else
		echo "?"
	fi
}

# vmtest_case NAME CLIENT_RC RUN L1_OOPS L1_WARN: one of vmtest.sh's cases:
# the client's exit status and no new Oops or vsock warning in either log.
vmtest_case() {
	local name=$1 rc=$2 run=$3 l2_oops l2_warn
	l2_oops=$(l2_result "$run" oops) l2_warn=$(l2_result "$run" warn)
	if [ "$rc" = 0 ] && [ "$l2_oops" = 0 ] && [ "$l2_warn" = 0 ] &&
		[ "$4" = 0 ] && [ "$5" = 0 ]; then
		note "  ok $name"
		vm_ok=$((vm_ok + 1))
	else
		# (Lower case: vm.sh fails any run whose console shows "Oops".)
		note "  not ok $name (client exit $rc; new oops/vsock warning lines: L2 $l2_oops/$l2_warn, L1 $4/$5)"
	fi
}

# pair_guest G: one L2 boot, runs A, B and L, their records.
pair_guest() {
	local g=$1 list mods=() m loopback
	local label="host=$host_impl guest=$g"
	list=$(guest_mods "$g") || {
		echo "pair: unknown guest implementation '$g' (c or rust)" >&2
		record_fail "$g"
		return 1
	}
	read -r -a mods <<<"$list"
	if m=$(missing_at l2_path "${mods[@]}"); then
		note "pair $label: module not built ($m)"
		record_fail "$g"
		return 1
	fi
	loopback=$(l2_path "${mods[2]}")
	local ko=()
	for m in "${mods[@]:0:2}"; do ko+=("$(l2_path "$m")"); done
	"$ROOT/tools/testing/vsock-rust/mkinitramfs.sh" "$OUT/l2-$g.cpio.gz" \
		"sh /bin/l2-pair.sh $port_a $port_b $port_l ${loopback##*/}" "${ko[@]}" -- \
		"$vt_static" "$ROOT/tools/testing/vsock-rust/l2-pair.sh" \
		"$ROOT/tools/testing/vsock-rust/vt-races.sh" "$loopback" || {
		note "pair $label: no initramfs"
		record_fail "$g"
		return 1
	}
	console=$OUT/l2-$g-console.log
	local log_a=$OUT/pair-$g-a-l1.log log_b=$OUT/pair-$g-b-l1.log

	# A: L1's server listens before L2 boots (vsock_test's client does not
	# retry its control connection).
	local oops0 warn0 a_oops a_warn b_oops b_warn l_oops l_warn
	oops0=$(l1_oops) warn0=$(l1_warn)
	local server_a
	# a_server: L1's server of A; fails when it does not listen in 10 s.
	a_server() {
		local _
		timeout "$l2_limit" "$vt" --mode=server --control-port=$port_a --peer-cid=3 \
			>"$log_a" 2>&1 &
		server_a=$!
		for _ in $(seq 100); do
			grep -q "Control socket listening" "$log_a" 2>/dev/null && return 0
			sleep 0.1
		done
		return 1
	}
	a_server

	local start end
	start=$(date +%s)
	timeout "$l2_limit" qemu-system-x86_64 -accel tcg -m 512M -smp 1 -nographic -no-reboot \
		-kernel "$l2_kdir/arch/x86/boot/bzImage" -initrd "$OUT/l2-$g.cpio.gz" \
		-append "console=ttyS0 quiet panic=-1 oops=panic" \
		-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port_b-10.0.2.15:$port_b,hostfwd=tcp:127.0.0.1:$((port_a + 1))-10.0.2.15:$((port_a + 1)) \
		-device virtio-net-pci,netdev=n0,romfile= \
		-device vhost-vsock-pci,guest-cid=3 </dev/null >"$console" 2>&1 &
	local qemu=$!
	# rerun_race RUN: once L2 has ended RUN (or stopped), the race for
	# which it runs RUN again ("L2-RERUN RUN RACE"), or nothing.
	rerun_race() {
		while kill -0 $qemu 2>/dev/null && ! grep -qaE "L2-(RERUN|RESULT) $1" "$console"; do
			sleep 1
		done
		tr -d '\r' <"$console" | sed -n "s/.*L2-RERUN $1 //p" | head -n 1
	}

	# A ends when L1's server does, or when L2 stops without having
	# connected to it.
	local rc_a=0 rc_b=0
	while kill -0 "$server_a" 2>/dev/null && kill -0 $qemu 2>/dev/null; do
		sleep 1
	done
	kill "$server_a" 2>/dev/null || true
	wait "$server_a" || rc_a=$?
	# When L2 runs A again (its client's log ended in a race of vsock_test
	# itself, see vt-races.sh), L1 serves it again: a new server, then a
	# connection to L2's forwarded PORT_A + 1, which L2 waits for (until
	# it says "L2-GO A2": the forwarding accepts before L2 listens).
	local a_race _
	a_race=$(rerun_race A)
	if [ -n "$a_race" ]; then
		mv "$log_a" "${log_a%.log}-race.log"
		if a_server; then
			# Until L2 took the signal, or QEMU or the server ended.
			while ! grep -qa "L2-GO A2" "$console" && kill -0 $qemu 2>/dev/null &&
				kill -0 "$server_a" 2>/dev/null; do
				timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((port_a + 1))" 2>/dev/null || true
				sleep 0.5
			done
		else
			note "pair $label: L1's second server of A did not listen"
		fi
		while kill -0 "$server_a" 2>/dev/null && kill -0 $qemu 2>/dev/null; do
			sleep 1
		done
		kill "$server_a" 2>/dev/null || true
		rc_a=0
		wait "$server_a" || rc_a=$?
	fi
	# B starts when L2's server listens.
	a_oops=$(($(l1_oops) - oops0)) a_warn=$(($(l1_warn) - warn0))
	oops0=$(l1_oops) warn0=$(l1_warn)
	while kill -0 $qemu 2>/dev/null && ! grep -qa "L2-.*LISTENING B" "$console"; do
		sleep 1
	done
	# b_client TAG: L1's client of B when L2 printed "L2-LISTENING TAG".
	b_client() {
		if grep -qa "L2-LISTENING $1\b" "$console"; then
			timeout $run_limit "$vt" --mode=client --control-host=127.0.0.1 \
				--control-port=$port_b --peer-cid=3 >"$log_b" 2>&1 || rc_b=$?
		else
			echo "L2 did not start B's server ($1)" >"$log_b"
			rc_b=1
		fi
	}
	b_client B
	# When L2 runs B again (its server's log ended in a race of vsock_test
	# itself, see vt-races.sh), so does L1.
	# (L2 decides from its server's log, whatever L1's client got.)
	local b_race
	b_race=$(rerun_race B)
	if [ -n "$b_race" ]; then
		mv "$log_b" "${log_b%.log}-race.log"
		while kill -0 $qemu 2>/dev/null && ! grep -qa "L2-.*LISTENING B2" "$console"; do
			sleep 1
		done
		rc_b=0
		b_client B2
	fi
	b_oops=$(($(l1_oops) - oops0)) b_warn=$(($(l1_warn) - warn0))
	oops0=$(l1_oops) warn0=$(l1_warn)
	# L1's load while L2 runs L (and shuts down): a snapshot now, QEMU's
	# threads (the child of timeout; the vhost worker is one of them)
	# every 2 s until it ends, and one at the end.
	l1_threads >"$OUT/pair-$g-l1-threads0"
	l1_cpu >"$OUT/pair-$g-l1-cpu0"
	: >"$OUT/pair-$g-l1-qemu"
	local qpid sampler=
	qpid=$(pgrep -P "$qemu" qemu-system | head -n 1) || true
	if [ -n "$qpid" ]; then
		(while kill -0 "$qpid" 2>/dev/null; do
			l1_threads "$qpid" >>"$OUT/pair-$g-l1-qemu"
			sleep 2
		done) &
		sampler=$!
	fi
	local rc_q=0
	wait $qemu || rc_q=$?
	end=$(date +%s)
	l_oops=$(($(l1_oops) - oops0)) l_warn=$(($(l1_warn) - warn0))
	if [ -n "$sampler" ]; then
		kill "$sampler" 2>/dev/null || true
		wait "$sampler" 2>/dev/null || true
	fi
	l1_threads >"$OUT/pair-$g-l1-threads1"
	local l_load
	l_load=$(l1_load_diff "$OUT/pair-$g-l1-threads0" "$OUT/pair-$g-l1-cpu0" \
		"$OUT/pair-$g-l1-threads1" "$OUT/pair-$g-l1-qemu")

	# L2's console without the runs' output and the firmware's terminal
	# escapes: boot, module loading, kernel messages (quiet: errors and
	# worse), splats.
	grep -av '^L2|' "$console" | tr -d '\r' | sed -E 's/\x1b(\[[0-9;?]*[a-zA-Z]|c)//g' |
		grep -av '^\s*$' || true
	local run
	for run in a:A ax:Ax b:B bx:Bx lc:Lc ls:Ls; do
		l2_log "${run#*:}" >"$OUT/pair-$g-${run%:*}-l2.log"
	done

	# Per-test counts of A and B.
	local ca cb ra rb
	ra=$(l2_result A client) rb=$(l2_result B server)
	read -r -a ca <<<"$(count "$log_a" "$OUT/pair-$g-a-l2.log" "$rc_a" "$ra")"
	read -r -a cb <<<"$(count "$log_b" "$OUT/pair-$g-b-l2.log" "$rc_b" "$rb")"
	# A repeated run stands only if both sides of the first one ended as
	# the race ends (L2 judged from its own log): otherwise the first run
	# counts one failed case.
	local unconfirmed=''
	if [ -n "$a_race" ] && ! vt_known_race "$OUT/pair-$g-ax-l2.log" "${log_a%.log}-race.log" >/dev/null; then
		ca[2]=$((ca[2] + 1)) unconfirmed+=" A"
	fi
	if [ -n "$b_race" ] && ! vt_known_race "${log_b%.log}-race.log" "$OUT/pair-$g-bx-l2.log" >/dev/null; then
		cb[2]=$((cb[2] + 1)) unconfirmed+=" B"
	fi
	# Seconds of each run, from L2's uptime at /init and at each run's end.
	local up ta tb tl
	up=$(tr -d '\r' <"$console" | sed -nE 's/.*L2-UP: ([0-9.]+).*/\1/p')
	ta=$(l2_result A t) tb=$(l2_result B t) tl=$(l2_result L t)
	note "pair $label: L2 at /init after ${up:-?} s, L2 run $((end - start)) s (qemu exit $rc_q)"
	local a_note=''
	[ -z "$a_race" ] || a_note="; run twice, the first ended in the race \"$a_race\" of vsock_test (logs pair-$g-ax-l2.log, pair-$g-a-l1-race.log)"
	note "  A (L2 client, L1 server): ${ca[0]}/$total ok, ${ca[2]} failed, ${ca[1]} skipped" \
		"(exit L2 $ra, L1 $rc_a; $(secs "$up" "$ta") s)$a_note"
	local b_note=''
	[ -z "$b_race" ] || b_note="; run twice, the first ended in the race \"$b_race\" of vsock_test (logs pair-$g-bx-l2.log, pair-$g-b-l1-race.log)"
	note "  B (L2 server, L1 client): ${cb[0]}/$total ok, ${cb[2]} failed, ${cb[1]} skipped" \
		"(exit L2 $rb, L1 $rc_b; $(secs "$ta" "$tb") s)$b_note"
	local failed=0
	[ -z "$unconfirmed" ] ||
		note "  first run of$unconfirmed: L1's log does not end as the race does; one more failed case"
	if grep -qa "L2-SPLAT" "$console" || ! grep -qa "L2-STATUS: 0" "$console"; then
		note "  L2 kernel reported a problem or did not finish: every case of the pairing fails"
		failed=1
	fi
	if [ $failed = 1 ]; then
		record "pair $label" 0 $((2 * total))
	else
		record "pair $label" $((ca[0] + cb[0])) $((ca[2] + cb[2]))
	fi
	[ "$((ca[2] + cb[2]))" = 0 ] || failed=1
	local r rcs
	for r in a b; do
		if [ "$r" = a ]; then rcs=("$rc_a" "$ra"); else rcs=("$rc_b" "$rb"); fi
		[ "${rcs[0]}" = 0 ] && [ "${rcs[1]}" = 0 ] && continue
		echo "--- run ${r^^}: L1's log, then L2's (last lines)"
		tail -n 15 "$OUT/pair-$g-$r-l1.log"
		tail -n 15 "$OUT/pair-$g-$r-l2.log"
	done

	# vmtest.sh's three shared-VM cases.
	vm_ok=0
	note "  vmtest.sh cases:"
	vmtest_case vm_server_host_client "$rc_b" B "$b_oops" "$b_warn"
	vmtest_case vm_client_host_server "$ra" A "$a_oops" "$a_warn"
	vmtest_case vm_loopback "$(l2_result L client)" L "$l_oops" "$l_warn"
	local cl
	read -r -a cl <<<"$(count "$OUT/pair-$g-lc-l2.log" "$OUT/pair-$g-ls-l2.log" \
		"$(l2_result L client)" "$(l2_result L server)")"
	note "  L (loopback in L2): ${cl[0]}/$total ok, ${cl[2]} failed, ${cl[1]} skipped" \
		"($(secs "$tb" "$tl") s)"
	note "  L1 from B's end to L2's exit (QEMU's threads to their last sample): $l_load"
	record "vmtest $label" $vm_ok $((3 - vm_ok))
	[ $vm_ok = 3 ] || failed=1
	return $failed
}

status=0
if m=$(missing "${host_mods[@]}"); then
	note "host=$host_impl: module not built ($m)"
	for g in "$@"; do record_fail "$g"; done
	exit 1
fi
load_mods "${host_mods[@]}" || exit 1
[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock" >&2; exit 1; }
echo "=== pair: host $host_impl ($(transports | xargs)), guests: $*"
# With kmemleak (the debug kernel): what was left before the pairings is
# not theirs.
leaks >/dev/null
suite_start=$(date +%s)
for g in "$@"; do
	pair_guest "$g" || status=1
done
note "pair host=$host_impl: $# guest(s) in $(($(date +%s) - suite_start)) s"
unload_mods "${host_mods[@]}" || status=1
if [ -w /sys/kernel/debug/kmemleak ]; then
	# After the backend's unload: whatever L1 still holds of the
	# pairings is a leak.
	leaks >"$OUT/pair-kmemleak.txt"
	if [ -s "$OUT/pair-kmemleak.txt" ]; then
		note "pair host=$host_impl: kmemleak: $(grep -c unreferenced "$OUT/pair-kmemleak.txt") objects"
		head -40 "$OUT/pair-kmemleak.txt"
		record "pair host=$host_impl kmemleak" 0 1
		status=1
	else
		record "pair host=$host_impl kmemleak" 1 0
	fi
fi
[ $status = 0 ]
