/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C API vsock-rust binds: vsock core, skbs, sockets, virtio and vhost.
 * bindgen reads this with the kernel's own c_flags (see the top-level Kbuild).
 *
 * RUST_CONST_HELPER_* constants give the Rust side C's own sizeof/offsetof,
 * so that rust/vsock/layout.rs can assert at compile time that bindgen's
 * layouts match what the C compiler uses.
 */
#include <linux/skbuff.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_vsock.h>
#include <net/sock.h>
#include <net/af_vsock.h>
#include <uapi/linux/vm_sockets.h>
#include <uapi/linux/virtio_vsock.h>
/* Private to drivers/vhost: found through -I$(srctree)/drivers/vhost. */
#include "vhost.h"

#define VSOCK_RS_SIZEOF(T, N) const size_t RUST_CONST_HELPER_SIZEOF_##N = sizeof(T)
#define VSOCK_RS_OFFSETOF(T, F, N) \
	const size_t RUST_CONST_HELPER_OFFSETOF_##N = offsetof(T, F)

VSOCK_RS_SIZEOF(struct virtio_vsock_hdr, VIRTIO_VSOCK_HDR);
VSOCK_RS_SIZEOF(struct vsock_sock, VSOCK_SOCK);
VSOCK_RS_SIZEOF(struct vsock_transport, VSOCK_TRANSPORT);
VSOCK_RS_SIZEOF(struct sock, SOCK);
VSOCK_RS_SIZEOF(struct sk_buff, SK_BUFF);
VSOCK_RS_SIZEOF(struct sk_buff_head, SK_BUFF_HEAD);
VSOCK_RS_SIZEOF(struct sockaddr_vm, SOCKADDR_VM);
VSOCK_RS_SIZEOF(struct virtio_vsock_skb_cb, VIRTIO_VSOCK_SKB_CB);
VSOCK_RS_SIZEOF(struct virtio_device, VIRTIO_DEVICE);
VSOCK_RS_SIZEOF(struct vhost_dev, VHOST_DEV);
VSOCK_RS_SIZEOF(struct vhost_virtqueue, VHOST_VIRTQUEUE);

VSOCK_RS_OFFSETOF(struct vsock_sock, sk, VSOCK_SOCK_SK);
VSOCK_RS_OFFSETOF(struct vsock_sock, transport, VSOCK_SOCK_TRANSPORT);
VSOCK_RS_OFFSETOF(struct vsock_sock, local_addr, VSOCK_SOCK_LOCAL_ADDR);
VSOCK_RS_OFFSETOF(struct vsock_sock, remote_addr, VSOCK_SOCK_REMOTE_ADDR);
VSOCK_RS_OFFSETOF(struct vsock_sock, peer_shutdown, VSOCK_SOCK_PEER_SHUTDOWN);
VSOCK_RS_OFFSETOF(struct vsock_sock, trans, VSOCK_SOCK_TRANS);
VSOCK_RS_OFFSETOF(struct vsock_sock, buffer_size, VSOCK_SOCK_BUFFER_SIZE);
VSOCK_RS_OFFSETOF(struct sock, sk_state, SOCK_SK_STATE);
VSOCK_RS_OFFSETOF(struct sock, sk_err, SOCK_SK_ERR);
VSOCK_RS_OFFSETOF(struct sock, sk_shutdown, SOCK_SK_SHUTDOWN);
VSOCK_RS_OFFSETOF(struct sock, sk_receive_queue, SOCK_SK_RECEIVE_QUEUE);
VSOCK_RS_OFFSETOF(struct sock, sk_rcvlowat, SOCK_SK_RCVLOWAT);
VSOCK_RS_OFFSETOF(struct sock, sk_socket, SOCK_SK_SOCKET);
VSOCK_RS_OFFSETOF(struct sk_buff, len, SK_BUFF_LEN);
VSOCK_RS_OFFSETOF(struct sk_buff, data, SK_BUFF_DATA);
VSOCK_RS_OFFSETOF(struct sk_buff, cb, SK_BUFF_CB);
VSOCK_RS_OFFSETOF(struct sk_buff, sk, SK_BUFF_SK);
VSOCK_RS_OFFSETOF(struct vsock_transport, module, VSOCK_TRANSPORT_MODULE);
VSOCK_RS_OFFSETOF(struct vsock_transport, init, VSOCK_TRANSPORT_INIT);
VSOCK_RS_OFFSETOF(struct vsock_transport, get_local_cid, VSOCK_TRANSPORT_GET_LOCAL_CID);
VSOCK_RS_OFFSETOF(struct vsock_transport, read_skb, VSOCK_TRANSPORT_READ_SKB);
VSOCK_RS_OFFSETOF(struct vhost_virtqueue, private_data, VHOST_VIRTQUEUE_PRIVATE_DATA);
