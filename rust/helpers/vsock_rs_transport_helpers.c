// SPDX-License-Identifier: GPL-2.0
/*
 * C shims shared by the vsock-rust transport modules (see
 * include/net/vsock_rs_transport.h).  Not built on its own: each transport
 * module's shim object includes this file, so every transport has its own
 * private copy and nothing is exported.
 */
#include <linux/cpumask.h>
#include <linux/workqueue.h>
#include <net/vsock_rs_transport.h>

/* --- the packet worker (rust/vsock/pktq.rs) --- */

struct workqueue_struct *vsock_rs_t_alloc_wq(const char *name)
{
	return alloc_workqueue("%s", WQ_PERCPU, 0, name);
}

void vsock_rs_t_init_work(struct work_struct *work,
			  void (*fn)(struct work_struct *))
{
	INIT_WORK(work, fn);
}

/* queue_work_on() @cpu if it is online, else queue_work(). */
bool vsock_rs_t_queue_work_on(int cpu, struct workqueue_struct *wq,
			      struct work_struct *work)
{
	if (cpu >= 0 && cpu < nr_cpu_ids && cpu_online(cpu))
		return queue_work_on(cpu, wq, work);
	return queue_work(wq, work);
}

/* --- periodic work (rust/vsock/periodic.rs) --- */

void vsock_rs_t_init_delayed_work(struct delayed_work *dw,
				  void (*fn)(struct work_struct *))
{
	INIT_DELAYED_WORK(dw, fn);
}

bool vsock_rs_t_schedule_delayed(struct delayed_work *dw,
				 unsigned long delay)
{
	return queue_delayed_work(system_long_wq, dw, delay);
}

bool vsock_rs_t_cancel_delayed_sync(struct delayed_work *dw)
{
	return cancel_delayed_work_sync(dw);
}

struct delayed_work *vsock_rs_t_to_delayed_work(struct work_struct *work)
{
	return to_delayed_work(work);
}
