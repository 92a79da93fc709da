# SPDX-License-Identifier: GPL-2.0
# Load the Rust modules (common, loopback, guest driver): their
# #[kunit_tests] suites run at load time and
# print KTAP to the kernel log.  Count the test cases.
dmesg -c >/dev/null
load_impl rust
# The guest driver's suite (the receive path against a hostile device)
# needs no device: this VM has none, so it only registers.
load_mods net/vmw_vsock/vsock_rs_virtio
# KTAP lines, without printk timestamps.
dmesg | sed -E 's/^\[ *[0-9.]+\] //' >"$OUT/ktap.txt"
cat "$OUT/ktap.txt"
# Test-case results are indented one level below their suite.
passed=$(grep -cE '^ +ok [0-9]+ ' "$OUT/ktap.txt" || true)
failed=$(grep -cE '^ +not ok [0-9]+ ' "$OUT/ktap.txt" || true)
suites_failed=$(grep -cE '^not ok [0-9]+ ' "$OUT/ktap.txt" || true)
record "kunit (rust modules)" "$passed" "$failed"
unload_mods net/vmw_vsock/vsock_rs_virtio
unload_impl rust
[ "$passed" -gt 0 ] && [ "$failed" = 0 ] && [ "$suites_failed" = 0 ]
