/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock-rust: the C ABI of the Rust common module (vsock_rs_common.ko).
 *
 * The vsock_rs_* functions are the Rust counterparts of upstream's
 * virtio_transport_* functions (include/linux/virtio_vsock.h), with the same
 * signatures and semantics.  Transports embed a struct virtio_transport,
 * exactly as upstream transports do, and fill its vsock_transport callbacks
 * with these functions.
 *
 * The vsock_rs_h_* functions are C shims for the static inlines and macros
 * the Rust code needs (the Rust side cannot call those directly).
 */
#ifndef _NET_VSOCK_RS_H
#define _NET_VSOCK_RS_H

#include <linux/virtio_vsock.h>
#include <linux/workqueue.h>

/* --- transport callbacks (Rust, exported by vsock_rs_common) --- */
int vsock_rs_do_socket_init(struct vsock_sock *vsk, struct vsock_sock *psk);
void vsock_rs_destruct(struct vsock_sock *vsk);
void vsock_rs_release(struct vsock_sock *vsk);
int vsock_rs_connect(struct vsock_sock *vsk);
int vsock_rs_shutdown(struct vsock_sock *vsk, int mode);
int vsock_rs_dgram_bind(struct vsock_sock *vsk, struct sockaddr_vm *addr);
int vsock_rs_dgram_dequeue(struct vsock_sock *vsk, struct msghdr *msg,
			   size_t len, int flags);
int vsock_rs_dgram_enqueue(struct vsock_sock *vsk,
			   struct sockaddr_vm *remote_addr,
			   struct msghdr *msg, size_t len);
bool vsock_rs_dgram_allow(struct vsock_sock *vsk, u32 cid, u32 port);
ssize_t vsock_rs_stream_dequeue(struct vsock_sock *vsk, struct msghdr *msg,
				size_t len, int flags);
ssize_t vsock_rs_stream_enqueue(struct vsock_sock *vsk, struct msghdr *msg,
				size_t len);
s64 vsock_rs_stream_has_data(struct vsock_sock *vsk);
s64 vsock_rs_stream_has_space(struct vsock_sock *vsk);
u64 vsock_rs_stream_rcvhiwat(struct vsock_sock *vsk);
bool vsock_rs_stream_is_active(struct vsock_sock *vsk);
ssize_t vsock_rs_seqpacket_dequeue(struct vsock_sock *vsk, struct msghdr *msg,
				   int flags);
int vsock_rs_seqpacket_enqueue(struct vsock_sock *vsk, struct msghdr *msg,
			       size_t len);
u32 vsock_rs_seqpacket_has_data(struct vsock_sock *vsk);
int vsock_rs_notify_poll_in(struct vsock_sock *vsk, size_t target,
			    bool *data_ready_now);
int vsock_rs_notify_poll_out(struct vsock_sock *vsk, size_t target,
			     bool *space_available_now);
int vsock_rs_notify_recv_init(struct vsock_sock *vsk, size_t target,
			      struct vsock_transport_recv_notify_data *data);
int vsock_rs_notify_recv_pre_block(struct vsock_sock *vsk, size_t target,
				   struct vsock_transport_recv_notify_data *data);
int vsock_rs_notify_recv_pre_dequeue(struct vsock_sock *vsk, size_t target,
				     struct vsock_transport_recv_notify_data *data);
int vsock_rs_notify_recv_post_dequeue(struct vsock_sock *vsk, size_t target,
				      ssize_t copied, bool data_read,
				      struct vsock_transport_recv_notify_data *data);
int vsock_rs_notify_send_init(struct vsock_sock *vsk,
			      struct vsock_transport_send_notify_data *data);
int vsock_rs_notify_send_pre_block(struct vsock_sock *vsk,
				   struct vsock_transport_send_notify_data *data);
int vsock_rs_notify_send_pre_enqueue(struct vsock_sock *vsk,
				     struct vsock_transport_send_notify_data *data);
int vsock_rs_notify_send_post_enqueue(struct vsock_sock *vsk, ssize_t written,
				      struct vsock_transport_send_notify_data *data);
void vsock_rs_notify_buffer_size(struct vsock_sock *vsk, u64 *val);
int vsock_rs_notify_set_rcvlowat(struct vsock_sock *vsk, int val);
ssize_t vsock_rs_unsent_bytes(struct vsock_sock *vsk);
int vsock_rs_read_skb(struct vsock_sock *vsk, skb_read_actor_t read_actor);

/* --- the transport-facing API (Rust, exported by vsock_rs_common) --- */
void vsock_rs_recv_pkt(struct virtio_transport *t, struct sk_buff *skb,
		       struct net *net);
void vsock_rs_recv_pkts(struct virtio_transport *t, struct sk_buff_head *pkts,
			struct net *net, bool loopback);
int vsock_rs_purge_skbs(void *vsk, struct sk_buff_head *list);
void vsock_rs_consume_skb_sent(struct sk_buff *skb, bool consume);
void vsock_rs_deliver_tap_pkt(struct sk_buff *skb);
void vsock_rs_inc_tx_pkt(struct vsock_sock *vsk, struct sk_buff *skb);
int vsock_rs_steer_cpu(const struct sk_buff *skb);

/* --- C shims (rust/helpers/vsock_rs_helpers.c, in vsock_rs_common) --- */
struct sk_buff *vsock_rs_h_alloc_skb(unsigned int size, bool linear);
bool vsock_rs_h_skb_set_owner_sk_safe(struct sk_buff *skb, struct sock *sk);
struct sk_buff *vsock_rs_h_alloc_plain_skb(unsigned int size);

void vsock_rs_h_skbq_init(struct sk_buff_head *q);
void vsock_rs_h_skbq_tail(struct sk_buff_head *q, struct sk_buff *skb);
struct sk_buff *vsock_rs_h_skbq_dequeue(struct sk_buff_head *q);
void vsock_rs_h_skbq_unlink(struct sk_buff *skb, struct sk_buff_head *q);
void vsock_rs_h_skbq_purge(struct sk_buff_head *q);
void vsock_rs_h_skbq_splice_head_init(struct sk_buff_head *from,
				      struct sk_buff_head *to);
void vsock_rs_h_skbq_splice_tail_init(struct sk_buff_head *from,
				      struct sk_buff_head *to);
void vsock_rs_h_skbq_tail_locked(struct sk_buff_head *q, struct sk_buff *skb);
void vsock_rs_h_skbq_head_locked(struct sk_buff_head *q, struct sk_buff *skb);
struct sk_buff *vsock_rs_h_skbq_dequeue_locked(struct sk_buff_head *q);
void vsock_rs_h_skbq_lock(struct sk_buff_head *q);
void vsock_rs_h_skbq_unlock(struct sk_buff_head *q);

void vsock_rs_h_lock_sock(struct sock *sk, int subclass);
void vsock_rs_h_sock_hold(struct sock *sk);
bool vsock_rs_h_sock_hold_not_zero(struct sock *sk);
void vsock_rs_h_sock_put(struct sock *sk);
void vsock_rs_h_sock_set_flag(struct sock *sk, int flag);
void vsock_rs_h_sk_state_change(struct sock *sk);
void vsock_rs_h_sk_write_space(struct sock *sk);
void vsock_rs_h_sk_data_ready(struct sock *sk);
int vsock_rs_h_sock_rcvlowat(const struct sock *sk);
bool vsock_rs_h_sk_acceptq_is_full(const struct sock *sk);
struct net *vsock_rs_h_sock_net(const struct sock *sk);
bool vsock_rs_h_net_mode_global(struct vsock_sock *vsk);
bool vsock_rs_h_current_exiting(void);
int vsock_rs_h_sock_error(struct sock *sk);
bool vsock_rs_h_maybe_get_net(struct net *net);
void vsock_rs_h_put_net(struct net *net);
bool vsock_rs_h_in_connected_table(struct vsock_sock *vsk);
void vsock_rs_h_set_socket_connected(struct sock *sk);
void vsock_rs_h_schedule_close_work(struct vsock_sock *vsk,
				    void (*fn)(struct work_struct *),
				    unsigned long delay);
bool vsock_rs_h_cancel_close_work(struct vsock_sock *vsk);
struct vsock_sock *vsock_rs_h_close_work_vsk(struct work_struct *work);

int vsock_rs_h_zc_prepare(struct vsock_sock *vsk, struct msghdr *msg,
			  u32 pkt_len, bool can_zcopy,
			  struct ubuf_info **uargp, bool *have_uref);
bool vsock_rs_h_zc_iter_fits(struct msghdr *msg, u32 pkt_len, int *npages);
void vsock_rs_h_zc_set(struct sk_buff *skb, struct ubuf_info *uarg);
void vsock_rs_h_zc_put(struct ubuf_info *uarg, bool abort);
int vsock_rs_h_zc_fill(struct sk_buff *skb, struct msghdr *msg, u32 len);
int vsock_rs_h_msg_flags(const struct msghdr *msg);
void vsock_rs_h_msg_set_flags(struct msghdr *msg, int flags);

#include <net/vsock_rs_transport.h>
#include <net/vsock_rs_virtio.h>

#endif /* _NET_VSOCK_RS_H */
