/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock-rust: C shims of the host backend (vhost_vsock_rs) for the static
 * inlines, macros and private structures of the vhost core that Rust
 * cannot use directly (see rust/vhost/).  Compiled into that module only
 * (rust/helpers/vsock_rs_vhost_helpers.c, included by
 * drivers/vhost/vhost_vsock_rs_shims.c), never exported.
 *
 * A struct vsock_rs_vhost is one open of /dev/vhost-vsock: the vhost
 * device, its two virtqueues (VSOCK_VQ_TX, VSOCK_VQ_RX), one work item,
 * the guest CID and namespace, and the link in the module's CID table
 * (upstream's vhost_vsock_hash).  Its callbacks reach the Rust owner.
 */
#ifndef _NET_VSOCK_RS_VHOST_H
#define _NET_VSOCK_RS_VHOST_H

#include <linux/types.h>

struct vsock_rs_vhost;
struct iov_iter;
struct file;
struct poll_table_struct;
struct vsock_transport;
struct net;

typedef void (*vsock_rs_vh_kick_fn)(void *owner, unsigned int vq);
typedef void (*vsock_rs_vh_work_fn)(void *owner);

struct vsock_rs_vhost *vsock_rs_vh_new(vsock_rs_vh_kick_fn kick,
				       vsock_rs_vh_work_fn work,
				       int iov_limit, int weight,
				       int byte_weight);
void vsock_rs_vh_set_owner(struct vsock_rs_vhost *h, void *owner);
void vsock_rs_vh_free(struct vsock_rs_vhost *h);

/* The device's lifecycle, as upstream's vhost_vsock_start/stop. */
void vsock_rs_vh_dev_lock(struct vsock_rs_vhost *h);
void vsock_rs_vh_dev_unlock(struct vsock_rs_vhost *h);
long vsock_rs_vh_dev_check_owner(struct vsock_rs_vhost *h);
bool vsock_rs_vh_log_access_ok(struct vsock_rs_vhost *h);
int vsock_rs_vh_init_device_iotlb(struct vsock_rs_vhost *h);
void vsock_rs_vh_clear_device_iotlb(struct vsock_rs_vhost *h);
bool vsock_rs_vh_vq_access_ok(struct vsock_rs_vhost *h, unsigned int vq);
void vsock_rs_vh_vq_set_running(struct vsock_rs_vhost *h, unsigned int vq,
				bool on);
int vsock_rs_vh_vq_init_access(struct vsock_rs_vhost *h, unsigned int vq);
void vsock_rs_vh_vq_set_acked_features(struct vsock_rs_vhost *h,
				       unsigned int vq, u64 features);
void vsock_rs_vh_flush(struct vsock_rs_vhost *h);
void vsock_rs_vh_dev_stop(struct vsock_rs_vhost *h);
u64 vsock_rs_vh_features(void);
u64 vsock_rs_vh_backend_features(void);
void vsock_rs_vh_set_backend_features(struct vsock_rs_vhost *h, u64 f);
long vsock_rs_vh_dev_ioctl(struct vsock_rs_vhost *h, unsigned int cmd,
			   unsigned long arg);
ssize_t vsock_rs_vh_chr_read(struct vsock_rs_vhost *h, struct iov_iter *to,
			     bool nonblock);
ssize_t vsock_rs_vh_chr_write(struct vsock_rs_vhost *h,
			      struct iov_iter *from);
unsigned int vsock_rs_vh_chr_poll(struct vsock_rs_vhost *h, struct file *f,
				  struct poll_table_struct *wait);

/* Virtqueue operations: callers hold the vq mutex (vq_lock). */
void vsock_rs_vh_vq_lock(struct vsock_rs_vhost *h, unsigned int vq);
void vsock_rs_vh_vq_unlock(struct vsock_rs_vhost *h, unsigned int vq);
bool vsock_rs_vh_vq_has_backend(struct vsock_rs_vhost *h, unsigned int vq);
bool vsock_rs_vh_vq_meta_prefetch(struct vsock_rs_vhost *h, unsigned int vq);
void vsock_rs_vh_disable_notify(struct vsock_rs_vhost *h, unsigned int vq);
bool vsock_rs_vh_enable_notify(struct vsock_rs_vhost *h, unsigned int vq);
int vsock_rs_vh_get_desc(struct vsock_rs_vhost *h, unsigned int vq,
			 unsigned int *out, unsigned int *in);
size_t vsock_rs_vh_iov_length(struct vsock_rs_vhost *h, unsigned int vq,
			      unsigned int start, unsigned int count);
void vsock_rs_vh_iter_init(struct iov_iter *it, struct vsock_rs_vhost *h,
			   unsigned int vq, bool dest, unsigned int start,
			   unsigned int count, size_t len);
void vsock_rs_vh_add_used(struct vsock_rs_vhost *h, unsigned int vq,
			  unsigned int head, unsigned int len);
void vsock_rs_vh_signal(struct vsock_rs_vhost *h, unsigned int vq);
bool vsock_rs_vh_exceeds_weight(struct vsock_rs_vhost *h, unsigned int vq,
				int pkts, int total_len);
void vsock_rs_vh_vq_err(struct vsock_rs_vhost *h, unsigned int vq);

/* Without the vq mutex. */
unsigned int vsock_rs_vh_vq_num(struct vsock_rs_vhost *h, unsigned int vq);
bool vsock_rs_vh_vq_has_backend_racy(struct vsock_rs_vhost *h,
				     unsigned int vq);
void vsock_rs_vh_poll_queue(struct vsock_rs_vhost *h, unsigned int vq);
void vsock_rs_vh_work_queue(struct vsock_rs_vhost *h, unsigned int vq);

/* The CID table (upstream's vhost_vsock_hash and vhost_vsock_mutex). */
int vsock_rs_vh_set_cid(struct vsock_rs_vhost *h, u64 guest_cid);
/* Unhashes @h and waits for a grace period; idempotent. */
void vsock_rs_vh_unhash(struct vsock_rs_vhost *h);
/* Under rcu_read_lock(): the device of @cid seen from @net, or NULL. */
struct vsock_rs_vhost *vsock_rs_vh_lookup(u32 cid, struct net *net);
void *vsock_rs_vh_owner(struct vsock_rs_vhost *h);
u32 vsock_rs_vh_guest_cid(struct vsock_rs_vhost *h);
struct net *vsock_rs_vh_net(struct vsock_rs_vhost *h);

#endif /* _NET_VSOCK_RS_VHOST_H */
