// SPDX-License-Identifier: GPL-2.0
/*
 * C shims of the guest driver (see include/net/vsock_rs_virtio.h).  Not
 * built on its own: net/vmw_vsock/vsock_rs_virtio_shims.c includes it.
 */
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_vsock.h>
#include <net/vsock_rs_virtio.h>

int vsock_rs_v_register_driver(struct virtio_driver *drv)
{
	return register_virtio_driver(drv);
}

int vsock_rs_v_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[])
{
	return virtio_find_vqs(vdev, nvqs, vqs, vqs_info, NULL);
}

void vsock_rs_v_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

void vsock_rs_v_device_ready(struct virtio_device *vdev)
{
	virtio_device_ready(vdev);
}

/*
 * virtio_has_feature() BUG()s on a device feature bit the driver did not
 * list: answer false for those instead.
 */
bool vsock_rs_v_has_feature(const struct virtio_device *vdev,
			    unsigned int fbit)
{
	const struct virtio_driver *drv;
	unsigned int i;

	if (fbit >= VIRTIO_FEATURES_BITS)
		return false;
	if (fbit < VIRTIO_TRANSPORT_F_START && vdev->dev.driver) {
		drv = drv_to_virtio(vdev->dev.driver);
		for (i = 0; i < drv->feature_table_size; i++)
			if (drv->feature_table[i] == fbit)
				break;
		if (i == drv->feature_table_size)
			return false;
	}
	return virtio_has_feature(vdev, fbit);
}

u32 vsock_rs_v_device_id(const struct virtio_device *vdev)
{
	return vdev->id.device;
}

/* One config access of @len bytes, as upstream's drivers read fields. */
void vsock_rs_v_config_get(struct virtio_device *vdev, unsigned int offset,
			   void *buf, unsigned int len)
{
	vdev->config->get(vdev, offset, buf, len);
}

struct virtio_driver *vsock_rs_v_vdev_driver(struct virtio_device *vdev)
{
	return vdev->dev.driver ? drv_to_virtio(vdev->dev.driver) : NULL;
}

void vsock_rs_v_set_vdev_priv(struct virtio_device *vdev, void *priv)
{
	WRITE_ONCE(vdev->priv, priv);
}

unsigned int vsock_rs_v_vq_num_max(const struct virtqueue *vq)
{
	return vq->num_max;
}

int vsock_rs_v_skb_out_sgs(struct sk_buff *skb, struct scatterlist *sgs,
			   unsigned int max)
{
	struct skb_shared_info *si;
	unsigned int n, i;

	if (!max)
		return -EMSGSIZE;
	/* Upstream's sg_init_one() per entry (its zeroing is inlined there,
	 * with a constant size), the entries then chained as one list: the
	 * common linear packet costs what upstream's two lists cost.
	 */
	sg_init_one(&sgs[0], virtio_vsock_hdr(skb),
		    sizeof(*virtio_vsock_hdr(skb)));
	if (!skb_is_nonlinear(skb)) {
		if (!skb->len)
			return 1;
		if (max < 2)
			return -EMSGSIZE;
		sg_unmark_end(&sgs[0]);
		sg_init_one(&sgs[1], skb->data, skb->len);
		return 2;
	}

	/* A nonlinear (zerocopy) skb holds only the header in its buffer;
	 * the payload is in its frags.
	 */
	WARN_ON_ONCE(skb_headroom(skb) != sizeof(*virtio_vsock_hdr(skb)));
	si = skb_shinfo(skb);
	n = si->nr_frags;
	if (!n)
		return 1;
	if (n > max - 1)
		return -EMSGSIZE;
	sg_unmark_end(&sgs[0]);
	sg_init_table(&sgs[1], n);
	for (i = 0; i < n; i++) {
		skb_frag_t *frag = &si->frags[i];

		sg_set_page(&sgs[1 + i], skb_frag_page(frag),
			    skb_frag_size(frag), skb_frag_off(frag));
	}
	return 1 + n;
}

void vsock_rs_v_skb_in_sg(struct sk_buff *skb, struct scatterlist *sg,
			  unsigned int len)
{
	sg_init_one(sg, virtio_vsock_hdr(skb), len);
}

void vsock_rs_v_sg_one(struct scatterlist *sg, void *buf, unsigned int len)
{
	sg_init_one(sg, buf, len);
}
