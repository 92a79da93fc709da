// SPDX-License-Identifier: GPL-2.0
/*
 * C shims for the static inline functions and macros vsock-rust calls.
 * Each one is a plain wrapper: no logic of its own.  They are part of
 * vsock_rs_common.ko and exported for the transport modules.
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/virtio_vsock.h>
#include <net/af_vsock.h>
#include <net/sock.h>
#include <net/vsock_rs.h>

#define VSOCK_RS_H_EXPORT(f) EXPORT_SYMBOL_GPL(f)

struct sk_buff *vsock_rs_h_alloc_skb(unsigned int size, bool linear)
{
	if (linear)
		return virtio_vsock_alloc_linear_skb(size, GFP_KERNEL);
	return virtio_vsock_alloc_skb(size, GFP_KERNEL);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_alloc_skb);

bool vsock_rs_h_skb_set_owner_sk_safe(struct sk_buff *skb, struct sock *sk)
{
	return skb_set_owner_sk_safe(skb, sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skb_set_owner_sk_safe);

/* --- sk_buff_head --- */

void vsock_rs_h_skbq_init(struct sk_buff_head *q)
{
	skb_queue_head_init(q);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_init);

void vsock_rs_h_skbq_tail(struct sk_buff_head *q, struct sk_buff *skb)
{
	__skb_queue_tail(q, skb);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_tail);

struct sk_buff *vsock_rs_h_skbq_dequeue(struct sk_buff_head *q)
{
	return __skb_dequeue(q);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_dequeue);

void vsock_rs_h_skbq_unlink(struct sk_buff *skb, struct sk_buff_head *q)
{
	__skb_unlink(skb, q);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_unlink);

void vsock_rs_h_skbq_purge(struct sk_buff_head *q)
{
	__skb_queue_purge(q);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_purge);

void vsock_rs_h_skbq_splice_tail_init(struct sk_buff_head *from,
				      struct sk_buff_head *to)
{
	/* skb_queue_splice_tail_init(), but @from's head is re-initialised
	 * with WRITE_ONCE: a shared queue's head may be read locklessly
	 * meanwhile (skb_queue_empty_lockless(), SkbQueue::is_empty_lockless),
	 * and __skb_queue_head_init() stores plainly.
	 */
	if (!skb_queue_empty(from)) {
		__skb_queue_splice(from, to->prev, (struct sk_buff *)to);
		to->qlen += from->qlen;
		WRITE_ONCE(from->next, (struct sk_buff *)from);
		WRITE_ONCE(from->prev, (struct sk_buff *)from);
		WRITE_ONCE(from->qlen, 0);
	}
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_splice_tail_init);

/* A shared queue's per-packet operations, each under its lock in one call
 * (upstream's own inlines): three calls where a separate lock, operation
 * and unlock made five.
 */
void vsock_rs_h_skbq_tail_locked(struct sk_buff_head *q, struct sk_buff *skb)
{
	virtio_vsock_skb_queue_tail(q, skb);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_tail_locked);

void vsock_rs_h_skbq_head_locked(struct sk_buff_head *q, struct sk_buff *skb)
{
	virtio_vsock_skb_queue_head(q, skb);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_head_locked);

struct sk_buff *vsock_rs_h_skbq_dequeue_locked(struct sk_buff_head *q)
{
	return virtio_vsock_skb_dequeue(q);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_dequeue_locked);

void vsock_rs_h_skbq_lock(struct sk_buff_head *q)
{
	spin_lock_bh(&q->lock);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_lock);

void vsock_rs_h_skbq_unlock(struct sk_buff_head *q)
{
	spin_unlock_bh(&q->lock);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_unlock);

/* --- sockets --- */

void vsock_rs_h_lock_sock(struct sock *sk, int subclass)
{
	lock_sock_nested(sk, subclass);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_lock_sock);

void vsock_rs_h_sock_hold(struct sock *sk)
{
	sock_hold(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_hold);

bool vsock_rs_h_sock_hold_not_zero(struct sock *sk)
{
	return refcount_inc_not_zero(&sk->sk_refcnt);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_hold_not_zero);

void vsock_rs_h_sock_put(struct sock *sk)
{
	sock_put(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_put);

void vsock_rs_h_sock_set_flag(struct sock *sk, int flag)
{
	sock_set_flag(sk, flag);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_set_flag);

void vsock_rs_h_sk_state_change(struct sock *sk)
{
	sk->sk_state_change(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sk_state_change);

void vsock_rs_h_sk_write_space(struct sock *sk)
{
	sk->sk_write_space(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sk_write_space);

void vsock_rs_h_sk_data_ready(struct sock *sk)
{
	sk->sk_data_ready(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sk_data_ready);

int vsock_rs_h_sock_rcvlowat(const struct sock *sk)
{
	return sock_rcvlowat(sk, 0, INT_MAX);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_rcvlowat);

bool vsock_rs_h_sk_acceptq_is_full(const struct sock *sk)
{
	return sk_acceptq_is_full(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sk_acceptq_is_full);

struct net *vsock_rs_h_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_net);

bool vsock_rs_h_net_mode_global(struct vsock_sock *vsk)
{
	return vsock_net_mode_global(vsk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_net_mode_global);

int vsock_rs_h_sock_error(struct sock *sk)
{
	return sock_error(sk);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_sock_error);

bool vsock_rs_h_maybe_get_net(struct net *net)
{
	return maybe_get_net(net) != NULL;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_maybe_get_net);

void vsock_rs_h_put_net(struct net *net)
{
	put_net(net);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_put_net);

bool vsock_rs_h_in_connected_table(struct vsock_sock *vsk)
{
	return !list_empty(&vsk->connected_table);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_in_connected_table);

bool vsock_rs_h_current_exiting(void)
{
	return current->flags & PF_EXITING;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_current_exiting);

void vsock_rs_h_set_socket_connected(struct sock *sk)
{
	if (sk->sk_socket)
		sk->sk_socket->state = SS_CONNECTED;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_set_socket_connected);

void vsock_rs_h_schedule_close_work(struct vsock_sock *vsk,
				    void (*fn)(struct work_struct *),
				    unsigned long delay)
{
	INIT_DELAYED_WORK(&vsk->close_work, fn);
	schedule_delayed_work(&vsk->close_work, delay);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_schedule_close_work);

bool vsock_rs_h_cancel_close_work(struct vsock_sock *vsk)
{
	return cancel_delayed_work(&vsk->close_work);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_cancel_close_work);

struct vsock_sock *vsock_rs_h_close_work_vsk(struct work_struct *work)
{
	return container_of(work, struct vsock_sock, close_work.work);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_close_work_vsk);

/* --- MSG_ZEROCOPY --- */

int vsock_rs_h_zc_prepare(struct vsock_sock *vsk, struct msghdr *msg,
			  u32 pkt_len, bool can_zcopy,
			  struct ubuf_info **uargp, bool *have_uref)
{
	struct ubuf_info *uarg = msg->msg_ubuf;

	*have_uref = false;
	if (!uarg) {
		uarg = msg_zerocopy_realloc(sk_vsock(vsk), pkt_len, NULL, false);
		if (!uarg)
			return -ENOMEM;
		if (!can_zcopy)
			uarg_to_msgzc(uarg)->zerocopy = 0;
		*have_uref = true;
	}
	*uargp = uarg;
	return 0;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_zc_prepare);

bool vsock_rs_h_zc_iter_fits(struct msghdr *msg, u32 pkt_len, int *npages)
{
	struct iov_iter *iter = &msg->msg_iter;

	if (iter->iov_offset || iter->count > pkt_len)
		return false;
	*npages = iov_iter_npages(iter, MAX_SKB_FRAGS);
	return true;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_zc_iter_fits);

void vsock_rs_h_zc_set(struct sk_buff *skb, struct ubuf_info *uarg)
{
	skb_zcopy_set(skb, uarg, NULL);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_zc_set);

void vsock_rs_h_zc_put(struct ubuf_info *uarg, bool abort)
{
	if (abort)
		net_zcopy_put_abort(uarg, true);
	else
		net_zcopy_put(uarg);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_zc_put);

int vsock_rs_h_zc_fill(struct sk_buff *skb, struct msghdr *msg, u32 len)
{
	return __zerocopy_sg_from_iter(msg, NULL, skb, &msg->msg_iter, len,
				       NULL);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_zc_fill);

int vsock_rs_h_msg_flags(const struct msghdr *msg)
{
	return msg->msg_flags;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_msg_flags);

void vsock_rs_h_msg_set_flags(struct msghdr *msg, int flags)
{
	msg->msg_flags = flags;
}
VSOCK_RS_H_EXPORT(vsock_rs_h_msg_set_flags);

void vsock_rs_h_skbq_splice_head_init(struct sk_buff_head *from,
				      struct sk_buff_head *to)
{
	skb_queue_splice_init(from, to);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_skbq_splice_head_init);

struct sk_buff *vsock_rs_h_alloc_plain_skb(unsigned int size)
{
	return alloc_skb(size, GFP_ATOMIC);
}
VSOCK_RS_H_EXPORT(vsock_rs_h_alloc_plain_skb);
