// SPDX-License-Identifier: GPL-2.0

//! Compile-time checks that bindgen's view of every C structure we touch has
//! the size and field offsets the C compiler gives it.
//!
//! The expected values come from `sizeof`/`offsetof` evaluated by libclang on
//! `bindings_helper.h` with the kernel's flags.  A mismatch (an opaque or
//! partially bound type, a config-dependent field) stops the build here
//! instead of corrupting memory at run time.

use super::bindings as b;
use core::mem::{offset_of, size_of};

macro_rules! assert_size {
    ($($t:ident == $c:ident;)*) => {
        $(const _: () = assert!(size_of::<b::$t>() == b::$c, concat!("size of ", stringify!($t)));)*
    };
}

macro_rules! assert_offset {
    ($($t:ident . $f:ident == $c:ident;)*) => {
        $(const _: () = assert!(
            offset_of!(b::$t, $f) == b::$c,
            concat!("offset of ", stringify!($t), ".", stringify!($f))
        );)*
    };
}

// The list pointers that `SkbList` follows: an skb's `next`/`prev` and the
// queue head's sit at the same offsets (0 and 8), as `skb_peek` assumes.
const _: () = assert!(b::OFFSETOF_SK_BUFF_NEXT == 0 && b::OFFSETOF_SK_BUFF_HEAD_NEXT == 0);
const _: () = assert!(b::OFFSETOF_SK_BUFF_PREV == b::OFFSETOF_SK_BUFF_HEAD_PREV);
// `sk_net` is `__sk_common.skc_net`, a bare pointer with CONFIG_NET_NS.
const _: () = assert!(
    offset_of!(b::sock, __sk_common) + offset_of!(b::sock_common, skc_net)
        == b::OFFSETOF_SOCK_SK_NET
);
const _: () = assert!(size_of::<b::possible_net_t>() == size_of::<*mut b::net>());
// `sk_flags` is `__sk_common.skc_flags`, an `unsigned long` of bits in an
// anonymous union (`VsockSock::flag`).
const _: () = assert!(
    offset_of!(b::sock, __sk_common) + offset_of!(b::sock_common, __bindgen_anon_5)
        == b::OFFSETOF_SOCK_SK_FLAGS
);
// An iterator's `count` sits in the anonymous struct of its first anonymous
// union (`MsgHdr::data_left`).
const _: () = assert!(
    offset_of!(b::iov_iter, __bindgen_anon_1)
        + offset_of!(b::iov_iter__bindgen_ty_1__bindgen_ty_1, count)
        == b::OFFSETOF_IOV_ITER_COUNT
);
// `virtio_vsock_skb_cb` lives in `skb->cb`.
const _: () = assert!(b::SIZEOF_VIRTIO_VSOCK_SKB_CB <= 48);

assert_size! {
    virtio_vsock_hdr == SIZEOF_VIRTIO_VSOCK_HDR;
    vsock_sock == SIZEOF_VSOCK_SOCK;
    vsock_transport == SIZEOF_VSOCK_TRANSPORT;
    sock == SIZEOF_SOCK;
    sk_buff == SIZEOF_SK_BUFF;
    sk_buff_head == SIZEOF_SK_BUFF_HEAD;
    sockaddr_vm == SIZEOF_SOCKADDR_VM;
    virtio_vsock_skb_cb == SIZEOF_VIRTIO_VSOCK_SKB_CB;
    virtio_device == SIZEOF_VIRTIO_DEVICE;
    vhost_dev == SIZEOF_VHOST_DEV;
    vhost_virtqueue == SIZEOF_VHOST_VIRTQUEUE;
    virtqueue == SIZEOF_VIRTQUEUE;
    virtio_driver == SIZEOF_VIRTIO_DRIVER;
    virtio_device_id == SIZEOF_VIRTIO_DEVICE_ID;
    virtqueue_info == SIZEOF_VIRTQUEUE_INFO;
    scatterlist == SIZEOF_SCATTERLIST;
    virtio_vsock_event == SIZEOF_VIRTIO_VSOCK_EVENT;
    virtio_vsock_config == SIZEOF_VIRTIO_VSOCK_CONFIG;
}

assert_offset! {
    vsock_sock.sk == OFFSETOF_VSOCK_SOCK_SK;
    vsock_sock.transport == OFFSETOF_VSOCK_SOCK_TRANSPORT;
    vsock_sock.local_addr == OFFSETOF_VSOCK_SOCK_LOCAL_ADDR;
    vsock_sock.remote_addr == OFFSETOF_VSOCK_SOCK_REMOTE_ADDR;
    vsock_sock.peer_shutdown == OFFSETOF_VSOCK_SOCK_PEER_SHUTDOWN;
    vsock_sock.trans == OFFSETOF_VSOCK_SOCK_TRANS;
    vsock_sock.buffer_size == OFFSETOF_VSOCK_SOCK_BUFFER_SIZE;
    sock.sk_err == OFFSETOF_SOCK_SK_ERR;
    sock.sk_receive_queue == OFFSETOF_SOCK_SK_RECEIVE_QUEUE;
    sock.sk_rcvlowat == OFFSETOF_SOCK_SK_RCVLOWAT;
    sock.sk_socket == OFFSETOF_SOCK_SK_SOCKET;
    sock.sk_data_ready == OFFSETOF_SOCK_SK_DATA_READY;
    sock.sk_write_space == OFFSETOF_SOCK_SK_WRITE_SPACE;
    sock.sk_state_change == OFFSETOF_SOCK_SK_STATE_CHANGE;
    msghdr.msg_flags == OFFSETOF_MSGHDR_MSG_FLAGS;
    sk_buff.len == OFFSETOF_SK_BUFF_LEN;
    sk_buff.data == OFFSETOF_SK_BUFF_DATA;
    sk_buff.cb == OFFSETOF_SK_BUFF_CB;
    sk_buff.sk == OFFSETOF_SK_BUFF_SK;
    sk_buff.data_len == OFFSETOF_SK_BUFF_DATA_LEN;
    sk_buff.tail == OFFSETOF_SK_BUFF_TAIL;
    sk_buff.end == OFFSETOF_SK_BUFF_END;
    sk_buff.head == OFFSETOF_SK_BUFF_HEAD;
    sk_buff_head.qlen == OFFSETOF_SK_BUFF_HEAD_QLEN;
    virtio_vsock_hdr.len == OFFSETOF_VIRTIO_VSOCK_HDR_LEN;
    virtio_vsock_hdr.flags == OFFSETOF_VIRTIO_VSOCK_HDR_FLAGS;
    virtio_vsock_hdr.buf_alloc == OFFSETOF_VIRTIO_VSOCK_HDR_BUF_ALLOC;
    virtio_vsock_hdr.fwd_cnt == OFFSETOF_VIRTIO_VSOCK_HDR_FWD_CNT;
    vsock_transport.module == OFFSETOF_VSOCK_TRANSPORT_MODULE;
    vsock_transport.init == OFFSETOF_VSOCK_TRANSPORT_INIT;
    vsock_transport.get_local_cid == OFFSETOF_VSOCK_TRANSPORT_GET_LOCAL_CID;
    vsock_transport.read_skb == OFFSETOF_VSOCK_TRANSPORT_READ_SKB;
    vhost_virtqueue.private_data == OFFSETOF_VHOST_VIRTQUEUE_PRIVATE_DATA;
    virtqueue.vdev == OFFSETOF_VIRTQUEUE_VDEV;
    virtqueue.index == OFFSETOF_VIRTQUEUE_INDEX;
    virtqueue.num_free == OFFSETOF_VIRTQUEUE_NUM_FREE;
    virtio_device.priv_ == OFFSETOF_VIRTIO_DEVICE_PRIV;
    virtio_driver.probe == OFFSETOF_VIRTIO_DRIVER_PROBE;
    virtio_driver.restore == OFFSETOF_VIRTIO_DRIVER_RESTORE;
    virtqueue_info.callback == OFFSETOF_VIRTQUEUE_INFO_CALLBACK;
}

// `tail` and `end` are offsets from `head` (`sk_buff_data_t` is an
// `unsigned int` with NET_SKBUFF_DATA_USES_OFFSET, i.e. on 64-bit kernels),
// which `Skb::tailroom` and `Skb::capacity` rely on; on a 32-bit kernel they
// would be pointers and this stops the build.
const _: fn(&b::sk_buff) -> (u32, u32) = |s| (s.tail, s.end);
