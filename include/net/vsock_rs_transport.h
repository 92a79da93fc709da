/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock-rust: C shims of the transport modules.
 *
 * Unlike the vsock_rs_h_* shims of the common module, these are compiled
 * into each transport module that uses them (rust/helpers/
 * vsock_rs_transport_helpers.c, included by the module's own shim object,
 * e.g. net/vmw_vsock/vsock_rs_loopback_shims.c) and are not exported: the
 * common module never depends on a transport's kernel subsystems (virtio,
 * vhost, ...).  A transport adds its own shims to its own shim object.
 */
#ifndef _NET_VSOCK_RS_TRANSPORT_H
#define _NET_VSOCK_RS_TRANSPORT_H

#include <linux/workqueue.h>

/* The packet worker of rust/vsock/pktq.rs. */
struct workqueue_struct *vsock_rs_t_alloc_wq(const char *name);
void vsock_rs_t_init_work(struct work_struct *work,
			  void (*fn)(struct work_struct *));
bool vsock_rs_t_queue_work_on(int cpu, struct workqueue_struct *wq,
			      struct work_struct *work);

/* Periodic work of rust/vsock/periodic.rs, on system_long_wq. */
void vsock_rs_t_init_delayed_work(struct delayed_work *dw,
				  void (*fn)(struct work_struct *));
bool vsock_rs_t_schedule_delayed(struct delayed_work *dw,
				 unsigned long delay);
bool vsock_rs_t_cancel_delayed_sync(struct delayed_work *dw);
struct delayed_work *vsock_rs_t_to_delayed_work(struct work_struct *work);

#endif /* _NET_VSOCK_RS_TRANSPORT_H */
