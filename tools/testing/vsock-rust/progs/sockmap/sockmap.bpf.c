// SPDX-License-Identifier: GPL-2.0
/*
 * sk_skb verdict program of the vsock sockmap test (vsock_sockmap.c): every
 * skb received on a socket of sock_map is redirected to the socket in slot 1,
 * to its ingress or egress as config[0] says (BPF_F_INGRESS or 0).
 *
 * The verdict runs from sk_psock_verdict_data_ready(), which asks the
 * transport for one skb (read_skb) per sk_data_ready() call: a transport
 * that queues several packets per wake-up leaves the others unredirected.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sock_map SEC(".maps");

/* config[0]: flags of the redirect (BPF_F_INGRESS: to the target's receive
 * queue; 0: out of the target, to its peer).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");

/* Counters read by the loader; see enum counter in vsock_sockmap.c. */
enum { CNT_RUNS, CNT_BYTES, CNT_PASS, CNT_DROP, CNT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 key, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &key);

	if (c)
		__sync_fetch_and_add(c, n);
}

SEC("sk_skb/verdict")
int redirect_all(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *flags = bpf_map_lookup_elem(&config, &key);
	long verdict;

	verdict = bpf_sk_redirect_map(skb, &sock_map, 1, flags ? *flags : 0);
	count(CNT_RUNS, 1);
	count(CNT_BYTES, skb->len);
	count(verdict == SK_PASS ? CNT_PASS : CNT_DROP, 1);
	return verdict;
}

char _license[] SEC("license") = "GPL";
