/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock-rust: C shims of the guest driver (vsock_rs_virtio) for the static
 * inlines and macros of the virtio core that Rust cannot call (see
 * rust/virtio/).  Compiled into that module only (rust/helpers/
 * vsock_rs_virtio_helpers.c, included by net/vmw_vsock/
 * vsock_rs_virtio_shims.c), never exported.
 */
#ifndef _NET_VSOCK_RS_VIRTIO_H
#define _NET_VSOCK_RS_VIRTIO_H

#include <linux/types.h>

struct virtio_device;
struct virtio_driver;
struct virtqueue;
struct virtqueue_info;
struct scatterlist;
struct sk_buff;

/* register_virtio_driver(), with this module as the owner. */
int vsock_rs_v_register_driver(struct virtio_driver *drv);
int vsock_rs_v_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[]);
void vsock_rs_v_del_vqs(struct virtio_device *vdev);
void vsock_rs_v_device_ready(struct virtio_device *vdev);
bool vsock_rs_v_has_feature(const struct virtio_device *vdev,
			    unsigned int fbit);
u32 vsock_rs_v_device_id(const struct virtio_device *vdev);
void vsock_rs_v_config_get(struct virtio_device *vdev, unsigned int offset,
			   void *buf, unsigned int len);
struct virtio_driver *vsock_rs_v_vdev_driver(struct virtio_device *vdev);
void vsock_rs_v_set_vdev_priv(struct virtio_device *vdev, void *priv);
unsigned int vsock_rs_v_vq_num_max(const struct virtqueue *vq);

/*
 * The scatter-gather list of a vsock packet: the header, then the linear
 * payload or the pages of a zerocopy skb, as upstream's
 * virtio_transport_send_skb().  Returns the number of entries (at most
 * @max), or -EMSGSIZE.
 */
int vsock_rs_v_skb_out_sgs(struct sk_buff *skb, struct scatterlist *sgs,
			   unsigned int max);
/* One entry: the receive buffer of @skb, header included, @len bytes. */
void vsock_rs_v_skb_in_sg(struct sk_buff *skb, struct scatterlist *sg,
			  unsigned int len);
/* One entry over @len bytes at @buf. */
void vsock_rs_v_sg_one(struct scatterlist *sg, void *buf, unsigned int len);

#endif /* _NET_VSOCK_RS_VIRTIO_H */
