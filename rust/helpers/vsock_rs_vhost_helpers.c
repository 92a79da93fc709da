// SPDX-License-Identifier: GPL-2.0
/*
 * C shims of the host backend (see include/net/vsock_rs_vhost.h): the
 * vhost core's static inlines and macros, the per-open device structure
 * with its callbacks into Rust, and the CID table.  The sequences that
 * take the device mutex (start, stop, features, the generic ioctls) are
 * upstream's drivers/vhost/vsock.c, line for line.
 */
#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/virtio_vsock.h>
#include <linux/vmalloc.h>
#include <net/af_vsock.h>
#include <net/sock.h>
#include "vhost.h"
#include <net/vsock_rs_vhost.h>

struct vsock_rs_vhost {
	struct vhost_dev dev;
	struct vhost_virtqueue vqs[2];
	struct vhost_work work;
	struct net *net;
	netns_tracker ns_tracker;
	/* Link to the CID table; writes under vsock_rs_vh_mutex. */
	struct hlist_node hash;
	u32 guest_cid;
	bool hashed;
	void *owner;
	vsock_rs_vh_kick_fn kick;
	vsock_rs_vh_work_fn run_work;
};

static DEFINE_MUTEX(vsock_rs_vh_mutex);
static DEFINE_READ_MOSTLY_HASHTABLE(vsock_rs_vh_hash, 8);

static const int vsock_rs_vh_bits[] = {
	VHOST_FEATURES,
	VIRTIO_F_ACCESS_PLATFORM,
	VIRTIO_VSOCK_F_SEQPACKET
};

#define VSOCK_RS_VH_FEATURES VHOST_FEATURES_U64(vsock_rs_vh_bits, 0)
#define VSOCK_RS_VH_BACKEND_FEATURES (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2)

u64 vsock_rs_vh_features(void)
{
	return VSOCK_RS_VH_FEATURES;
}

u64 vsock_rs_vh_backend_features(void)
{
	return VSOCK_RS_VH_BACKEND_FEATURES;
}

static void vsock_rs_vh_handle_kick(struct vhost_work *work)
{
	struct vhost_virtqueue *vq = container_of(work, struct vhost_virtqueue,
						  poll.work);
	struct vsock_rs_vhost *h = container_of(vq->dev, struct vsock_rs_vhost,
						dev);
	void *owner = READ_ONCE(h->owner);

	if (owner)
		h->kick(owner, vq - h->vqs);
}

static void vsock_rs_vh_run_work(struct vhost_work *work)
{
	struct vsock_rs_vhost *h = container_of(work, struct vsock_rs_vhost,
						work);
	void *owner = READ_ONCE(h->owner);

	if (owner)
		h->run_work(owner);
}

struct vsock_rs_vhost *vsock_rs_vh_new(vsock_rs_vh_kick_fn kick,
				       vsock_rs_vh_work_fn work,
				       int iov_limit, int weight,
				       int byte_weight)
{
	struct vhost_virtqueue **vqs;
	struct vsock_rs_vhost *h;
	unsigned int i;

	h = kvzalloc(sizeof(*h), GFP_KERNEL | __GFP_RETRY_MAYFAIL);
	if (!h)
		return NULL;
	vqs = kmalloc_array(ARRAY_SIZE(h->vqs), sizeof(*vqs), GFP_KERNEL);
	if (!vqs) {
		kvfree(h);
		return NULL;
	}
	h->net = get_net_track(current->nsproxy->net_ns, &h->ns_tracker,
			       GFP_KERNEL);
	h->kick = kick;
	h->run_work = work;
	for (i = 0; i < ARRAY_SIZE(h->vqs); i++) {
		vqs[i] = &h->vqs[i];
		h->vqs[i].handle_kick = vsock_rs_vh_handle_kick;
	}
	vhost_dev_init(&h->dev, vqs, ARRAY_SIZE(h->vqs), iov_limit, weight,
		       byte_weight, true, NULL);
	vhost_work_init(&h->work, vsock_rs_vh_run_work);
	return h;
}

void vsock_rs_vh_set_owner(struct vsock_rs_vhost *h, void *owner)
{
	WRITE_ONCE(h->owner, owner);
}

void vsock_rs_vh_unhash(struct vsock_rs_vhost *h)
{
	bool was;

	mutex_lock(&vsock_rs_vh_mutex);
	was = h->hashed;
	if (was)
		hash_del_rcu(&h->hash);
	h->hashed = false;
	mutex_unlock(&vsock_rs_vh_mutex);
	/* Wait for other CPUs to finish using the device. */
	if (was)
		synchronize_rcu();
}

/* Every virtqueue's backend withdrawn (upstream's vhost_vsock_stop without
 * the owner check), whatever the driver did before.
 */
static void vsock_rs_vh_withdraw(struct vsock_rs_vhost *h)
{
	size_t i;

	mutex_lock(&h->dev.mutex);
	for (i = 0; i < ARRAY_SIZE(h->vqs); i++) {
		mutex_lock(&h->vqs[i].mutex);
		vhost_vq_set_backend(&h->vqs[i], NULL);
		mutex_unlock(&h->vqs[i].mutex);
	}
	mutex_unlock(&h->dev.mutex);
}

/* Everything upstream's release does after the sockets are reset, minus
 * the send queue (Rust's): stop, flush, stop the device, clean up, free.
 */
void vsock_rs_vh_free(struct vsock_rs_vhost *h)
{
	vsock_rs_vh_unhash(h);
	vsock_rs_vh_withdraw(h);
	vhost_dev_flush(&h->dev);
	vhost_dev_stop(&h->dev);
	vhost_dev_cleanup(&h->dev);
	put_net_track(h->net, &h->ns_tracker);
	kfree(h->dev.vqs);
	kvfree(h);
}

void vsock_rs_vh_dev_lock(struct vsock_rs_vhost *h)
{
	mutex_lock(&h->dev.mutex);
}

void vsock_rs_vh_dev_unlock(struct vsock_rs_vhost *h)
{
	mutex_unlock(&h->dev.mutex);
}

long vsock_rs_vh_dev_check_owner(struct vsock_rs_vhost *h)
{
	return vhost_dev_check_owner(&h->dev);
}

bool vsock_rs_vh_log_access_ok(struct vsock_rs_vhost *h)
{
	return vhost_log_access_ok(&h->dev);
}

int vsock_rs_vh_init_device_iotlb(struct vsock_rs_vhost *h)
{
	return vhost_init_device_iotlb(&h->dev);
}

void vsock_rs_vh_clear_device_iotlb(struct vsock_rs_vhost *h)
{
	vhost_clear_device_iotlb(&h->dev);
}

bool vsock_rs_vh_vq_access_ok(struct vsock_rs_vhost *h, unsigned int vq)
{
	return vhost_vq_access_ok(&h->vqs[vq]);
}

/* The backend is only a "running" flag: the device itself, or NULL. */
void vsock_rs_vh_vq_set_running(struct vsock_rs_vhost *h, unsigned int vq,
				bool on)
{
	vhost_vq_set_backend(&h->vqs[vq], on ? h : NULL);
}

int vsock_rs_vh_vq_init_access(struct vsock_rs_vhost *h, unsigned int vq)
{
	return vhost_vq_init_access(&h->vqs[vq]);
}

void vsock_rs_vh_vq_set_acked_features(struct vsock_rs_vhost *h,
				       unsigned int vq, u64 features)
{
	h->vqs[vq].acked_features = features;
}

void vsock_rs_vh_flush(struct vsock_rs_vhost *h)
{
	vhost_dev_flush(&h->dev);
}

void vsock_rs_vh_dev_stop(struct vsock_rs_vhost *h)
{
	vhost_dev_stop(&h->dev);
}

void vsock_rs_vh_set_backend_features(struct vsock_rs_vhost *h, u64 f)
{
	vhost_set_backend_features(&h->dev, f);
}

long vsock_rs_vh_dev_ioctl(struct vsock_rs_vhost *h, unsigned int cmd,
			   unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	long r;

	mutex_lock(&h->dev.mutex);
	r = vhost_dev_ioctl(&h->dev, cmd, argp);
	if (r == -ENOIOCTLCMD)
		r = vhost_vring_ioctl(&h->dev, cmd, argp);
	else
		vhost_dev_flush(&h->dev);
	mutex_unlock(&h->dev.mutex);
	return r;
}

ssize_t vsock_rs_vh_chr_read(struct vsock_rs_vhost *h, struct iov_iter *to,
			     bool nonblock)
{
	return vhost_chr_read_iter(&h->dev, to, nonblock);
}

ssize_t vsock_rs_vh_chr_write(struct vsock_rs_vhost *h, struct iov_iter *from)
{
	return vhost_chr_write_iter(&h->dev, from);
}

unsigned int vsock_rs_vh_chr_poll(struct vsock_rs_vhost *h, struct file *f,
				  struct poll_table_struct *wait)
{
	return (__force unsigned int)vhost_chr_poll(f, &h->dev, wait);
}

/* --- virtqueues --- */

void vsock_rs_vh_vq_lock(struct vsock_rs_vhost *h, unsigned int vq)
{
	mutex_lock(&h->vqs[vq].mutex);
}

void vsock_rs_vh_vq_unlock(struct vsock_rs_vhost *h, unsigned int vq)
{
	mutex_unlock(&h->vqs[vq].mutex);
}

bool vsock_rs_vh_vq_has_backend(struct vsock_rs_vhost *h, unsigned int vq)
{
	return vhost_vq_get_backend(&h->vqs[vq]);
}

bool vsock_rs_vh_vq_has_backend_racy(struct vsock_rs_vhost *h,
				     unsigned int vq)
{
	return data_race(vhost_vq_get_backend(&h->vqs[vq]));
}

bool vsock_rs_vh_vq_meta_prefetch(struct vsock_rs_vhost *h, unsigned int vq)
{
	return vq_meta_prefetch(&h->vqs[vq]);
}

void vsock_rs_vh_disable_notify(struct vsock_rs_vhost *h, unsigned int vq)
{
	vhost_disable_notify(&h->dev, &h->vqs[vq]);
}

bool vsock_rs_vh_enable_notify(struct vsock_rs_vhost *h, unsigned int vq)
{
	return vhost_enable_notify(&h->dev, &h->vqs[vq]);
}

int vsock_rs_vh_get_desc(struct vsock_rs_vhost *h, unsigned int vq,
			 unsigned int *out, unsigned int *in)
{
	struct vhost_virtqueue *v = &h->vqs[vq];
	int head;

	head = vhost_get_vq_desc(v, v->iov, ARRAY_SIZE(v->iov), out, in,
				 NULL, NULL);
	/* The ring is empty: report it as upstream's callers see it. */
	if (head >= 0 && (unsigned int)head == v->num)
		return -ENOSPC;
	return head;
}

size_t vsock_rs_vh_iov_length(struct vsock_rs_vhost *h, unsigned int vq,
			      unsigned int start, unsigned int count)
{
	return iov_length(&h->vqs[vq].iov[start], count);
}

void vsock_rs_vh_iter_init(struct iov_iter *it, struct vsock_rs_vhost *h,
			   unsigned int vq, bool dest, unsigned int start,
			   unsigned int count, size_t len)
{
	iov_iter_init(it, dest ? ITER_DEST : ITER_SOURCE,
		      &h->vqs[vq].iov[start], count, len);
}

void vsock_rs_vh_add_used(struct vsock_rs_vhost *h, unsigned int vq,
			  unsigned int head, unsigned int len)
{
	vhost_add_used(&h->vqs[vq], head, len);
}

void vsock_rs_vh_signal(struct vsock_rs_vhost *h, unsigned int vq)
{
	vhost_signal(&h->dev, &h->vqs[vq]);
}

bool vsock_rs_vh_exceeds_weight(struct vsock_rs_vhost *h, unsigned int vq,
				int pkts, int total_len)
{
	return vhost_exceeds_weight(&h->vqs[vq], pkts, total_len);
}

void vsock_rs_vh_vq_err(struct vsock_rs_vhost *h, unsigned int vq)
{
	vq_err(&h->vqs[vq], "vhost_vsock_rs: bad packet on vq %u\n", vq);
}

unsigned int vsock_rs_vh_vq_num(struct vsock_rs_vhost *h, unsigned int vq)
{
	return data_race(h->vqs[vq].num);
}

void vsock_rs_vh_poll_queue(struct vsock_rs_vhost *h, unsigned int vq)
{
	vhost_poll_queue(&h->vqs[vq].poll);
}

void vsock_rs_vh_work_queue(struct vsock_rs_vhost *h, unsigned int vq)
{
	vhost_vq_work_queue(&h->vqs[vq], &h->work);
}

/* --- the CID table --- */

/* Callers must be in an RCU read section or hold vsock_rs_vh_mutex. */
struct vsock_rs_vhost *vsock_rs_vh_lookup(u32 guest_cid, struct net *net)
{
	struct vsock_rs_vhost *h;

	hash_for_each_possible_rcu(vsock_rs_vh_hash, h, hash, guest_cid,
				   lockdep_is_held(&vsock_rs_vh_mutex)) {
		u32 other_cid = READ_ONCE(h->guest_cid);

		/* Skip instances that have no CID yet */
		if (other_cid == 0)
			continue;

		/* A packet without a namespace (none of our senders
		 * passes one) reaches only global-mode devices.
		 */
		if (other_cid == guest_cid &&
		    (net ? vsock_net_check_mode(net, h->net) :
		     vsock_net_mode(h->net) == VSOCK_NET_MODE_GLOBAL))
			return h;
	}

	return NULL;
}

int vsock_rs_vh_set_cid(struct vsock_rs_vhost *h, u64 guest_cid)
{
	struct vsock_rs_vhost *other;

	/* Refuse reserved CIDs */
	if (guest_cid <= VMADDR_CID_HOST ||
	    guest_cid == U32_MAX)
		return -EINVAL;

	/* 64-bit CIDs are not yet supported */
	if (guest_cid > U32_MAX)
		return -EINVAL;

	/* Refuse if CID is assigned to the guest->host transport (i.e. nested
	 * VM), to make the loopback work.
	 */
	if (vsock_find_cid(guest_cid))
		return -EADDRINUSE;

	/* Refuse if CID is already in use */
	mutex_lock(&vsock_rs_vh_mutex);
	other = vsock_rs_vh_lookup(guest_cid, h->net);
	if (other && other != h) {
		mutex_unlock(&vsock_rs_vh_mutex);
		return -EADDRINUSE;
	}

	if (h->hashed)
		hash_del_rcu(&h->hash);

	WRITE_ONCE(h->guest_cid, guest_cid);
	hash_add_rcu(vsock_rs_vh_hash, &h->hash, h->guest_cid);
	h->hashed = true;
	mutex_unlock(&vsock_rs_vh_mutex);

	return 0;
}

void *vsock_rs_vh_owner(struct vsock_rs_vhost *h)
{
	return READ_ONCE(h->owner);
}

u32 vsock_rs_vh_guest_cid(struct vsock_rs_vhost *h)
{
	return READ_ONCE(h->guest_cid);
}

struct net *vsock_rs_vh_net(struct vsock_rs_vhost *h)
{
	return h->net;
}
