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
VSOCK_RS_OFFSETOF(struct sock, sk_data_ready, SOCK_SK_DATA_READY);
VSOCK_RS_OFFSETOF(struct sock, sk_write_space, SOCK_SK_WRITE_SPACE);
VSOCK_RS_OFFSETOF(struct sock, sk_state_change, SOCK_SK_STATE_CHANGE);
VSOCK_RS_OFFSETOF(struct sock, sk_net, SOCK_SK_NET);
VSOCK_RS_OFFSETOF(struct msghdr, msg_flags, MSGHDR_MSG_FLAGS);
VSOCK_RS_OFFSETOF(struct iov_iter, count, IOV_ITER_COUNT);
VSOCK_RS_OFFSETOF(struct sock, sk_flags, SOCK_SK_FLAGS);
VSOCK_RS_OFFSETOF(struct sk_buff, data_len, SK_BUFF_DATA_LEN);
VSOCK_RS_OFFSETOF(struct sk_buff, tail, SK_BUFF_TAIL);
VSOCK_RS_OFFSETOF(struct sk_buff, end, SK_BUFF_END);
VSOCK_RS_OFFSETOF(struct sk_buff, head, SK_BUFF_HEAD);
VSOCK_RS_OFFSETOF(struct sk_buff_head, qlen, SK_BUFF_HEAD_QLEN);
VSOCK_RS_OFFSETOF(struct virtio_vsock_hdr, len, VIRTIO_VSOCK_HDR_LEN);
VSOCK_RS_OFFSETOF(struct virtio_vsock_hdr, flags, VIRTIO_VSOCK_HDR_FLAGS);
VSOCK_RS_OFFSETOF(struct virtio_vsock_hdr, buf_alloc, VIRTIO_VSOCK_HDR_BUF_ALLOC);
VSOCK_RS_OFFSETOF(struct virtio_vsock_hdr, fwd_cnt, VIRTIO_VSOCK_HDR_FWD_CNT);
/* sk_buff.next/prev and sk_buff_head.next/prev must coincide. */
VSOCK_RS_OFFSETOF(struct sk_buff, next, SK_BUFF_NEXT);
VSOCK_RS_OFFSETOF(struct sk_buff, prev, SK_BUFF_PREV);
VSOCK_RS_OFFSETOF(struct sk_buff_head, next, SK_BUFF_HEAD_NEXT);
VSOCK_RS_OFFSETOF(struct sk_buff_head, prev, SK_BUFF_HEAD_PREV);
VSOCK_RS_OFFSETOF(struct vsock_transport, module, VSOCK_TRANSPORT_MODULE);
VSOCK_RS_OFFSETOF(struct vsock_transport, init, VSOCK_TRANSPORT_INIT);
VSOCK_RS_OFFSETOF(struct vsock_transport, get_local_cid, VSOCK_TRANSPORT_GET_LOCAL_CID);
VSOCK_RS_OFFSETOF(struct vsock_transport, read_skb, VSOCK_TRANSPORT_READ_SKB);
VSOCK_RS_OFFSETOF(struct vhost_virtqueue, private_data, VHOST_VIRTQUEUE_PRIVATE_DATA);

/* Constants from enums and macros bindgen does not see (or not by name). */
#include <net/tcp_states.h>
#include <uapi/linux/vsockmon.h>
#include <net/vsock_rs.h>
#define VSOCK_RS_CONST(T, N) const T RUST_CONST_HELPER_VRS_##N = N
VSOCK_RS_CONST(int, TCP_ESTABLISHED);
VSOCK_RS_CONST(int, TCP_SYN_SENT);
VSOCK_RS_CONST(int, TCP_CLOSE);
VSOCK_RS_CONST(int, TCP_LISTEN);
VSOCK_RS_CONST(int, TCP_CLOSING);
VSOCK_RS_CONST(u8, SS_UNCONNECTED);
VSOCK_RS_CONST(int, SOCK_STREAM);
VSOCK_RS_CONST(int, SOCK_SEQPACKET);
VSOCK_RS_CONST(int, SOCK_DONE);
VSOCK_RS_CONST(int, SOCK_ZEROCOPY);
VSOCK_RS_CONST(int, SINGLE_DEPTH_NESTING);
VSOCK_RS_CONST(int, MSG_PEEK);
VSOCK_RS_CONST(int, MSG_EOR);
VSOCK_RS_CONST(int, MSG_ZEROCOPY);
VSOCK_RS_CONST(u32, RCV_SHUTDOWN);
VSOCK_RS_CONST(u32, SEND_SHUTDOWN);
VSOCK_RS_CONST(u32, SHUTDOWN_MASK);
VSOCK_RS_CONST(u32, VMADDR_CID_ANY);
VSOCK_RS_CONST(u32, VMADDR_CID_LOCAL);
VSOCK_RS_CONST(u32, VSOCK_TRANSPORT_F_LOCAL);
VSOCK_RS_CONST(u32, VSOCK_TRANSPORT_F_G2H);
VSOCK_RS_CONST(u32, VSOCK_TRANSPORT_F_H2G);
VSOCK_RS_CONST(u32, MAX_SKB_FRAGS);
VSOCK_RS_CONST(unsigned long, PAGE_SIZE);
VSOCK_RS_CONST(unsigned long, HZ);
VSOCK_RS_CONST(u32, PAGE_ALLOC_COSTLY_ORDER);
const u32 RUST_CONST_HELPER_VRS_SKB_TRUESIZE0 = SKB_TRUESIZE(0);
const u32 RUST_CONST_HELPER_VRS_MAX_COLLAPSE_LEN =
	SKB_MAX_ORDER(VIRTIO_VSOCK_SKB_HEADROOM, PAGE_ALLOC_COSTLY_ORDER);
const u16 RUST_CONST_HELPER_VRS_AF_VSOCK_TRANSPORT_VIRTIO = AF_VSOCK_TRANSPORT_VIRTIO;
const size_t RUST_CONST_HELPER_SIZEOF_AF_VSOCKMON_HDR = sizeof(struct af_vsockmon_hdr);

/* The guest driver (rust/virtio). */
#include <linux/mod_devicetable.h>
#include <linux/scatterlist.h>
#include <uapi/linux/virtio_ids.h>
VSOCK_RS_CONST(u32, VIRTIO_ID_VSOCK);
VSOCK_RS_CONST(u32, VIRTIO_DEV_ANY_ID);
VSOCK_RS_CONST(u32, VIRTIO_VSOCK_F_SEQPACKET);
VSOCK_RS_CONST(u32, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
VSOCK_RS_CONST(u32, VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
const u32 RUST_CONST_HELPER_VRS_SKB_SHINFO_OVERHEAD =
	SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
VSOCK_RS_SIZEOF(struct virtio_vsock_event, VIRTIO_VSOCK_EVENT);
VSOCK_RS_SIZEOF(struct virtio_vsock_config, VIRTIO_VSOCK_CONFIG);
VSOCK_RS_SIZEOF(struct virtio_driver, VIRTIO_DRIVER);
VSOCK_RS_SIZEOF(struct virtio_device_id, VIRTIO_DEVICE_ID);
VSOCK_RS_SIZEOF(struct virtqueue_info, VIRTQUEUE_INFO);
VSOCK_RS_SIZEOF(struct scatterlist, SCATTERLIST);
VSOCK_RS_OFFSETOF(struct virtio_driver, probe, VIRTIO_DRIVER_PROBE);
VSOCK_RS_OFFSETOF(struct virtio_driver, restore, VIRTIO_DRIVER_RESTORE);
VSOCK_RS_OFFSETOF(struct virtqueue_info, callback, VIRTQUEUE_INFO_CALLBACK);
VSOCK_RS_SIZEOF(struct virtqueue, VIRTQUEUE);
VSOCK_RS_OFFSETOF(struct virtqueue, vdev, VIRTQUEUE_VDEV);
VSOCK_RS_OFFSETOF(struct virtqueue, index, VIRTQUEUE_INDEX);
VSOCK_RS_OFFSETOF(struct virtqueue, num_free, VIRTQUEUE_NUM_FREE);
VSOCK_RS_OFFSETOF(struct virtio_device, priv, VIRTIO_DEVICE_PRIV);

/* The host backend (rust/vhost). */
#include <linux/miscdevice.h>
#include <uapi/linux/vhost.h>
#include <net/vsock_rs_vhost.h>
VSOCK_RS_CONST(u32, VHOST_VSOCK_MINOR);
VSOCK_RS_CONST(u32, VHOST_VSOCK_SET_GUEST_CID);
VSOCK_RS_CONST(u32, VHOST_VSOCK_SET_RUNNING);
VSOCK_RS_CONST(u32, VHOST_GET_FEATURES);
VSOCK_RS_CONST(u32, VHOST_SET_FEATURES);
VSOCK_RS_CONST(u32, VHOST_GET_BACKEND_FEATURES);
VSOCK_RS_CONST(u32, VHOST_SET_BACKEND_FEATURES);
VSOCK_RS_CONST(u32, VHOST_F_LOG_ALL);
VSOCK_RS_CONST(u32, VIRTIO_F_ACCESS_PLATFORM);
