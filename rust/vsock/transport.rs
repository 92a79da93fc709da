// SPDX-License-Identifier: GPL-2.0

//! Transports and the common module's C ABI.
//!
//! Two sides meet here:
//!
//! - The common module implements [`CommonOps`] and invokes
//!   [`vsock_rs_common_exports!`], which generates the exported `vsock_rs_*`
//!   C functions (declared in `include/net/vsock_rs.h`).  Those are what the
//!   AF_VSOCK core calls through a transport's `struct vsock_transport`.
//! - A transport module implements [`TransportOps`] and declares its
//!   `struct virtio_transport` with [`vsock_rs_transport!`]; it registers it
//!   with a [`Registration`] and hands received packets to the common module
//!   with [`TransportDesc::recv_pkt`].

use super::bindings as b;
use super::net::{self, Net};
use super::skb::{Skb, SkbBox, SkbList, SkbListMut, SkbQueue};
use super::sock::{
    visit_connected, ConnectedVisitor, DestructSock, LockedSock, TableSock, VsockSock,
};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::types::Opaque;

/// A `struct virtio_transport` of some transport module, as the common
/// module sees it.
///
/// # Invariants
///
/// Wraps a registered `virtio_transport` whose module is loaded (sockets
/// using it hold a module reference).
#[repr(transparent)]
pub struct VirtioTransport(Opaque<b::virtio_transport>);

// SAFETY: a transport descriptor is immutable once registered.
unsafe impl Sync for VirtioTransport {}

impl VirtioTransport {
    /// Borrows a transport descriptor.
    ///
    /// # Safety
    ///
    /// `ptr` is a registered `virtio_transport` (see the invariants) that
    /// stays valid for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *const b::virtio_transport) -> &'a VirtioTransport {
        // SAFETY: transparent wrapper; validity from the caller.
        unsafe { &*ptr.cast::<VirtioTransport>() }
    }

    /// The state of type `T` that a vsock-rust transport installed in the
    /// socket, with that transport; `None` for sockets of other transports
    /// (vmci, hyperv, upstream's C ones) and sockets without one.
    ///
    /// The state lives exactly while its transport is assigned (the
    /// transport's `init` creates it and its `destruct` frees it, before
    /// the core drops the transport's module reference), so the transport
    /// is borrowed for as long as the state.
    pub fn of<T: Send + Sync + 'static>(vsk: &VsockSock) -> Option<(&T, &VirtioTransport)> {
        // Some only if the socket's transport is a vsock-rust one, whose
        // `init` is the common module's and which embeds its
        // `vsock_transport` first in a `virtio_transport`.
        let state = vsk.trans::<T>()?;
        let t = vsk.transport_ptr();
        // SAFETY: a vsock-rust `virtio_transport` (see above), not
        // re-assigned while `state` is borrowed, so alive as long.
        Some((state, unsafe { VirtioTransport::from_raw(t.cast()) }))
    }

    /// The embedded `vsock_transport`.
    pub fn vsock_transport(&self) -> *const b::vsock_transport {
        self.0.get().cast()
    }

    /// `get_local_cid()`.
    pub fn local_cid(&self) -> u32 {
        // SAFETY: registered transport (invariant): its callbacks are set.
        match unsafe { (*self.0.get()).transport.get_local_cid } {
            // SAFETY: a transport callback without arguments.
            Some(f) => unsafe { f() },
            None => b::VRS_VMADDR_CID_ANY,
        }
    }

    /// `send_pkt()`: hands the packet to the device; returns the payload
    /// bytes queued.
    pub fn send_pkt(&self, skb: SkbBox, net: Option<&Net>) -> Result<u32> {
        // SAFETY: registered transport (invariant).
        let Some(f) = (unsafe { (*self.0.get()).send_pkt }) else {
            return Err(ENODEV);
        };
        // SAFETY: `send_pkt` takes ownership of the skb; `net` is NULL or
        // live for the call.
        let r = unsafe { f(skb.into_raw(), net::raw(net)) };
        if r < 0 {
            Err(Error::from_errno(r))
        } else {
            Ok(r as u32)
        }
    }

    /// `can_msgzerocopy(bufs)`; `None` when the transport has no limit.
    pub fn can_msgzerocopy(&self, bufs: i32) -> Option<bool> {
        // SAFETY: registered transport (invariant).
        unsafe { (*self.0.get()).can_msgzerocopy }.map(|f| {
            // SAFETY: plain callback.
            unsafe { f(bufs) }
        })
    }
}

/// A `skb_read_actor_t` of sockmap (`read_skb`).
///
/// # Invariants
///
/// NULL or the actor the core passed to the current `read_skb` call.
#[derive(Clone, Copy)]
pub struct ReadActor(b::skb_read_actor_t);

impl ReadActor {
    /// Wraps the actor the core passed to `read_skb`.
    ///
    /// # Safety
    ///
    /// `actor` is NULL or a valid `skb_read_actor_t` for the call.
    pub unsafe fn from_raw(actor: b::skb_read_actor_t) -> Self {
        ReadActor(actor)
    }

    /// Hands the packet to the actor, which takes ownership of it.
    pub fn call(self, vsk: &VsockSock, skb: SkbBox) -> i32 {
        match self.0 {
            // SAFETY: the actor consumes the skb, as in `read_skb` callers.
            Some(f) => unsafe { f(vsk.sk_ptr(), skb.into_raw()) },
            None => 0,
        }
    }
}

/// Where received packets come from.
#[derive(Clone, Copy)]
pub enum Origin<'a> {
    /// The loopback: each packet is still owned by the socket that sent
    /// it, in the sender's namespace.  Just before it is delivered, its
    /// payload is accounted as sent (`consume_skb_sent`) and it goes to the
    /// taps, packet by packet as upstream's loopback worker does.
    Loopback,
    /// A device, in namespace `net` (`None`: any namespace, as the guest
    /// driver delivers).  Each packet goes to the taps just before it is
    /// delivered, as upstream's rx worker taps each before handling it.
    Device(Option<&'a Net>),
}

/// The socket callbacks of the common module, in safe Rust.  Errors are
/// returned as the errno upstream returns.
///
/// The callbacks the AF_VSOCK core calls with the socket locked get a
/// [`LockedSock`]; `destruct` a [`DestructSock`].
pub trait CommonOps {
    /// The per-socket state installed by `socket_init` (`vsk->trans`),
    /// freed after `destruct`.
    type Trans: Send + Sync + 'static;
    /// `init`: set up the per-socket state (child of `psk` if any).
    fn socket_init(vsk: &LockedSock, psk: Option<&VsockSock>) -> Result;
    /// `destruct`; the per-socket state is freed after it returns.
    fn destruct(vsk: &DestructSock);
    /// `release`.
    fn release(vsk: &LockedSock);
    /// `connect`.
    fn connect(vsk: &LockedSock) -> Result<u32>;
    /// `shutdown`.
    fn shutdown(vsk: &LockedSock, mode: i32) -> Result<u32>;
    /// `stream_dequeue` (MSG_PEEK in `flags` peeks).
    fn stream_dequeue(
        vsk: &LockedSock,
        msg: &mut super::msg::MsgHdr,
        len: usize,
        flags: i32,
    ) -> Result<usize>;
    /// `stream_enqueue`.
    fn stream_enqueue(vsk: &LockedSock, msg: &mut super::msg::MsgHdr, len: usize) -> Result<usize>;
    /// `stream_has_data`.
    fn stream_has_data(vsk: &VsockSock) -> i64;
    /// `stream_has_space`.
    fn stream_has_space(vsk: &VsockSock) -> i64;
    /// `seqpacket_dequeue`.
    fn seqpacket_dequeue(
        vsk: &LockedSock,
        msg: &mut super::msg::MsgHdr,
        flags: i32,
    ) -> Result<usize>;
    /// `seqpacket_enqueue`.
    fn seqpacket_enqueue(
        vsk: &LockedSock,
        msg: &mut super::msg::MsgHdr,
        len: usize,
    ) -> Result<usize>;
    /// `seqpacket_has_data`.
    fn seqpacket_has_data(vsk: &VsockSock) -> u32;
    /// `notify_buffer_size`: returns the size the socket keeps.
    fn notify_buffer_size(vsk: &LockedSock, val: u64) -> u64;
    /// `notify_set_rcvlowat`.
    fn notify_set_rcvlowat(vsk: &LockedSock, val: i32) -> Result;
    /// `unsent_bytes`.
    fn unsent_bytes(vsk: &VsockSock) -> usize;
    /// `read_skb`.
    fn read_skb(vsk: &VsockSock, actor: ReadActor) -> Result<i32>;
    /// A packet received by transport `t` in namespace `net`.
    fn recv_pkt(t: &VirtioTransport, skb: SkbBox, net: Option<&Net>);
    /// Packets received by transport `t`, in order; `pkts` is empty on
    /// return.
    fn recv_pkts(t: &VirtioTransport, pkts: SkbListMut<'_>, origin: Origin<'_>);
    /// Frees the packets of `queue` sent by the socket at address `vsk`;
    /// returns how many were replies.
    fn purge_skbs(vsk: *const core::ffi::c_void, queue: &SkbQueue) -> u32;
    /// The device took a sent packet (`consume_skb_sent`).
    fn consume_skb_sent(skb: &mut Skb);
    /// Delivers a packet to vsockmon taps, once.
    fn deliver_tap_pkt(skb: &mut Skb);
    /// Stamps our credit into an outgoing packet of `vsk`.
    fn inc_tx_pkt(vsk: &VsockSock, skb: &mut Skb);
    /// The CPU where the reader of `skb`'s flow last read (receive
    /// steering, see `proto::steer`).
    fn steer_cpu(skb: &Skb) -> Option<u32>;
}

/// Converts a result to the C return convention (negative errno).
pub fn ret_isize(r: Result<usize>) -> isize {
    match r {
        Ok(n) => isize::try_from(n).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

/// Converts a result to the C `int` return convention.
pub fn ret_int(r: Result<u32>) -> i32 {
    match r {
        Ok(n) => i32::try_from(n).unwrap_or(i32::MAX),
        Err(e) => e.to_errno(),
    }
}

/// Generates the exported `vsock_rs_*` functions of the common module from
/// its [`CommonOps`] implementation.  Invoke once, in the common module.
#[macro_export]
macro_rules! vsock_rs_common_exports {
    ($t:ty) => {
        #[allow(missing_docs)]
        mod vsock_rs_exports {
            use kernel::ffi::{c_int, c_void};
            use $crate::vsock::bindings as b;
            use $crate::vsock::msg::MsgHdr;
            use $crate::vsock::net::Net;
            use $crate::vsock::skb::{Skb, SkbBox, SkbListMut, SkbQueue};
            use $crate::vsock::sock::{DestructSock, LockedSock, VsockSock};
            use $crate::vsock::transport::{
                ret_int, ret_isize, CommonOps, Origin, ReadActor, VirtioTransport,
            };

            type T = $t;

            // Inside the functions, "see above" refers to their `# Safety`
            // sections.  The core calls `init`, `release`, `connect`,
            // `shutdown`, the enqueue and dequeue callbacks,
            // `notify_buffer_size`, `notify_set_rcvlowat` and, from
            // `vsock_poll`, `notify_poll_in`/`notify_poll_out` with the
            // socket locked (`lock_sock`, or `sockopt_lock_sock` for
            // options), so those get a `LockedSock`.

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_do_socket_init(
                vsk: *mut b::vsock_sock,
                psk: *mut b::vsock_sock,
            ) -> c_int {
                // SAFETY: see above; `psk` is NULL or the live listener.
                let (vsk, psk) = unsafe {
                    (
                        LockedSock::from_raw(vsk),
                        (!psk.is_null()).then(|| VsockSock::from_raw(psk)),
                    )
                };
                ret_int(T::socket_init(vsk, psk).map(|()| 0))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_destruct(vsk: *mut b::vsock_sock) {
                // SAFETY: see above; the core destructs with the socket
                // locked (re-assignment) or unreachable (its last
                // reference gone), with no other callback running.
                let vsk = unsafe { DestructSock::from_raw(vsk) };
                T::destruct(vsk);
                // SAFETY: this is the `destruct` callback (see above), and
                // `T::destruct` has returned.
                unsafe { vsk.drop_trans::<<T as CommonOps>::Trans>() };
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_release(vsk: *mut b::vsock_sock) {
                // SAFETY: see above.
                T::release(unsafe { LockedSock::from_raw(vsk) })
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_connect(vsk: *mut b::vsock_sock) -> c_int {
                // SAFETY: see above.
                ret_int(T::connect(unsafe { LockedSock::from_raw(vsk) }))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_shutdown(vsk: *mut b::vsock_sock, mode: c_int) -> c_int {
                // SAFETY: see above.
                ret_int(T::shutdown(unsafe { LockedSock::from_raw(vsk) }, mode))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_dgram_bind(
                _vsk: *mut b::vsock_sock,
                _addr: *mut b::sockaddr_vm,
            ) -> c_int {
                -$crate::vsock::proto::rules::EOPNOTSUPP
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_dgram_dequeue(
                _vsk: *mut b::vsock_sock,
                _msg: *mut b::msghdr,
                _len: usize,
                _flags: c_int,
            ) -> c_int {
                -$crate::vsock::proto::rules::EOPNOTSUPP
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_dgram_enqueue(
                _vsk: *mut b::vsock_sock,
                _addr: *mut b::sockaddr_vm,
                _msg: *mut b::msghdr,
                _len: usize,
            ) -> c_int {
                -$crate::vsock::proto::rules::EOPNOTSUPP
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_dgram_allow(
                _vsk: *mut b::vsock_sock,
                _cid: u32,
                _port: u32,
            ) -> bool {
                false
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_stream_dequeue(
                vsk: *mut b::vsock_sock,
                msg: *mut b::msghdr,
                len: usize,
                flags: c_int,
            ) -> isize {
                // SAFETY: see above.
                let (vsk, msg) = unsafe { (LockedSock::from_raw(vsk), MsgHdr::from_raw(msg)) };
                ret_isize(T::stream_dequeue(vsk, msg, len, flags))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_stream_enqueue(
                vsk: *mut b::vsock_sock,
                msg: *mut b::msghdr,
                len: usize,
            ) -> isize {
                // SAFETY: see above.
                let (vsk, msg) = unsafe { (LockedSock::from_raw(vsk), MsgHdr::from_raw(msg)) };
                ret_isize(T::stream_enqueue(vsk, msg, len))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_stream_has_data(vsk: *mut b::vsock_sock) -> i64 {
                // SAFETY: see above.
                T::stream_has_data(unsafe { VsockSock::from_raw(vsk) })
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_stream_has_space(vsk: *mut b::vsock_sock) -> i64 {
                // SAFETY: see above.
                T::stream_has_space(unsafe { VsockSock::from_raw(vsk) })
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_stream_rcvhiwat(vsk: *mut b::vsock_sock) -> u64 {
                // SAFETY: see above.
                unsafe { VsockSock::from_raw(vsk) }.buffer_size()
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_stream_is_active(_vsk: *mut b::vsock_sock) -> bool {
                true
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_seqpacket_dequeue(
                vsk: *mut b::vsock_sock,
                msg: *mut b::msghdr,
                flags: c_int,
            ) -> isize {
                // SAFETY: see above.
                let (vsk, msg) = unsafe { (LockedSock::from_raw(vsk), MsgHdr::from_raw(msg)) };
                ret_isize(T::seqpacket_dequeue(vsk, msg, flags))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_seqpacket_enqueue(
                vsk: *mut b::vsock_sock,
                msg: *mut b::msghdr,
                len: usize,
            ) -> c_int {
                // SAFETY: see above.
                let (vsk, msg) = unsafe { (LockedSock::from_raw(vsk), MsgHdr::from_raw(msg)) };
                ret_isize(T::seqpacket_enqueue(vsk, msg, len)) as c_int
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_seqpacket_has_data(vsk: *mut b::vsock_sock) -> u32 {
                // SAFETY: see above.
                T::seqpacket_has_data(unsafe { VsockSock::from_raw(vsk) })
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_poll_in(
                vsk: *mut b::vsock_sock,
                target: usize,
                data_ready_now: *mut bool,
            ) -> c_int {
                // SAFETY: see above; `data_ready_now` is the core's local.
                unsafe {
                    let has = LockedSock::from_raw(vsk).stream_has_data();
                    *data_ready_now = has >= 0 && has as u64 >= target as u64;
                }
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_poll_out(
                vsk: *mut b::vsock_sock,
                _target: usize,
                space_avail_now: *mut bool,
            ) -> c_int {
                // SAFETY: see above; `space_avail_now` is the core's local.
                unsafe {
                    let free = LockedSock::from_raw(vsk).stream_has_space();
                    if free > 0 {
                        *space_avail_now = true;
                    } else if free == 0 {
                        *space_avail_now = false;
                    }
                }
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_recv_init(
                _vsk: *mut b::vsock_sock,
                _target: usize,
                _data: *mut b::vsock_transport_recv_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_recv_pre_block(
                _vsk: *mut b::vsock_sock,
                _target: usize,
                _data: *mut b::vsock_transport_recv_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_recv_pre_dequeue(
                _vsk: *mut b::vsock_sock,
                _target: usize,
                _data: *mut b::vsock_transport_recv_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_recv_post_dequeue(
                _vsk: *mut b::vsock_sock,
                _target: usize,
                _copied: isize,
                _data_read: bool,
                _data: *mut b::vsock_transport_recv_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_send_init(
                _vsk: *mut b::vsock_sock,
                _data: *mut b::vsock_transport_send_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_send_pre_block(
                _vsk: *mut b::vsock_sock,
                _data: *mut b::vsock_transport_send_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_send_pre_enqueue(
                _vsk: *mut b::vsock_sock,
                _data: *mut b::vsock_transport_send_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_send_post_enqueue(
                _vsk: *mut b::vsock_sock,
                _written: isize,
                _data: *mut b::vsock_transport_send_notify_data,
            ) -> c_int {
                0
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_buffer_size(
                vsk: *mut b::vsock_sock,
                val: *mut u64,
            ) {
                // SAFETY: see above; `val` is the core's local.
                unsafe { *val = T::notify_buffer_size(LockedSock::from_raw(vsk), *val) };
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_notify_set_rcvlowat(
                vsk: *mut b::vsock_sock,
                val: c_int,
            ) -> c_int {
                // SAFETY: see above.
                let vsk = unsafe { LockedSock::from_raw(vsk) };
                ret_int(T::notify_set_rcvlowat(vsk, val).map(|()| 0))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_unsent_bytes(vsk: *mut b::vsock_sock) -> isize {
                // SAFETY: see above.
                ret_isize(Ok(T::unsent_bytes(unsafe { VsockSock::from_raw(vsk) })))
            }

            /// # Safety
            ///
            /// Called by the AF_VSOCK core through `struct vsock_transport`
            /// with a live socket and, for data calls, the live `msghdr` of
            /// the current syscall.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_read_skb(
                vsk: *mut b::vsock_sock,
                actor: b::skb_read_actor_t,
            ) -> c_int {
                // SAFETY: see above.
                let vsk = unsafe { VsockSock::from_raw(vsk) };
                // SAFETY: the core passes a valid actor (or NULL).
                let actor = unsafe { ReadActor::from_raw(actor) };
                match T::read_skb(vsk, actor) {
                    Ok(n) => n,
                    Err(e) => e.to_errno(),
                }
            }

            /// # Safety
            ///
            /// Transports call this with their registered descriptor,
            /// an skb they own (ownership passes) and the namespace (NULL
            /// or live for the call).
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_recv_pkt(
                t: *mut b::virtio_transport,
                skb: *mut b::sk_buff,
                net: *mut b::net,
            ) {
                // SAFETY: see above.
                let t = unsafe { VirtioTransport::from_raw(t) };
                // SAFETY: see above.
                let net = (!net.is_null()).then(|| unsafe { Net::from_raw(net) });
                // SAFETY: see above.
                if let Some(skb) = unsafe { SkbBox::from_raw(skb) } {
                    T::recv_pkt(t, skb, net);
                }
            }

            /// # Safety
            ///
            /// Transports call this with their registered descriptor and
            /// a list of skbs they own, which only this call touches
            /// meanwhile (the skbs' ownership passes); `loopback`, or
            /// `net` NULL or live for the call (see `Origin`).
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_recv_pkts(
                t: *mut b::virtio_transport,
                pkts: *mut b::sk_buff_head,
                net: *mut b::net,
                loopback: bool,
            ) {
                // SAFETY: see above.
                let t = unsafe { VirtioTransport::from_raw(t) };
                let origin = if loopback {
                    Origin::Loopback
                } else {
                    // SAFETY: see above.
                    Origin::Device((!net.is_null()).then(|| unsafe { Net::from_raw(net) }))
                };
                // SAFETY: see above.
                if let Some(list) = unsafe { SkbListMut::from_raw(pkts) } {
                    T::recv_pkts(t, list, origin);
                }
            }

            /// # Safety
            ///
            /// `queue` is a live queue whose lock protects it; `vsk`
            /// is only compared.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_purge_skbs(
                vsk: *mut c_void,
                queue: *mut b::sk_buff_head,
            ) -> c_int {
                // SAFETY: see above.
                let q = unsafe { SkbQueue::from_raw(queue) };
                T::purge_skbs(vsk.cast_const(), q) as c_int
            }

            /// # Safety
            ///
            /// The transport owns `skb`; it frees it here if `consume`.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_consume_skb_sent(skb: *mut b::sk_buff, consume: bool) {
                // SAFETY: see above.
                T::consume_skb_sent(unsafe { Skb::from_raw(skb) });
                if consume {
                    // SAFETY: see above.
                    if let Some(skb) = unsafe { SkbBox::from_raw(skb) } {
                        skb.consume();
                    }
                }
            }

            /// # Safety
            ///
            /// The caller owns `skb`.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_deliver_tap_pkt(skb: *mut b::sk_buff) {
                // SAFETY: see above.
                T::deliver_tap_pkt(unsafe { Skb::from_raw(skb) })
            }

            /// # Safety
            ///
            /// Live socket; the caller owns `skb`.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_inc_tx_pkt(
                vsk: *mut b::vsock_sock,
                skb: *mut b::sk_buff,
            ) {
                // SAFETY: see above.
                unsafe { T::inc_tx_pkt(VsockSock::from_raw(vsk), Skb::from_raw(skb)) }
            }

            /// # Safety
            ///
            /// Live skb with a vsock header, not written during the call.
            #[no_mangle]
            unsafe extern "C" fn vsock_rs_steer_cpu(skb: *const b::sk_buff) -> c_int {
                // SAFETY: see above; the skb is only read.
                T::steer_cpu(unsafe { Skb::from_raw_ref(skb) })
                    .and_then(|c| c_int::try_from(c).ok())
                    .unwrap_or(-1)
            }
        }
    };
}

/// A transport built on the common module.
///
/// Its device (`Dev`) is published under RCU with [`Published`]: it can
/// come and go (removal, freeze and restore, one of several vhost devices)
/// while the transport stays registered.  Every hook gets the device
/// published at the time, if any, under `rcu_read_lock()`: hooks must not
/// sleep.
pub trait TransportOps: Sized + 'static {
    /// The device state (`send_pkt` queue, worker, virtqueues, ...).
    type Dev: Send + Sync;
    /// `VSOCK_TRANSPORT_F_*` flags for `vsock_core_register`.
    const FEATURES: u32;
    /// Whether the transport answers `has_remote_cid` (the hook is NULL
    /// otherwise, as for upstream's loopback and guest driver).
    const HAS_REMOTE_CID: bool = false;
    /// Whether the transport limits MSG_ZEROCOPY sends (`can_msgzerocopy`;
    /// NULL otherwise).
    const CAN_MSGZEROCOPY: bool = false;
    /// The transport's descriptor (declared by [`vsock_rs_transport!`]).
    fn desc() -> &'static TransportDesc<Self>;
    /// `get_local_cid()`.
    fn local_cid(dev: Option<&Self::Dev>) -> u32;
    /// `send_pkt()`: queue the packet, sent from namespace `net`; returns
    /// its payload length.
    fn send_pkt(dev: Option<&Self::Dev>, skb: SkbBox, net: Option<&Net>) -> Result<u32>;
    /// `cancel_pkt()`: drop the packets still queued for `vsk`.
    fn cancel_pkt(dev: Option<&Self::Dev>, vsk: &VsockSock) -> Result;
    /// `stream_allow()`.
    fn stream_allow(dev: Option<&Self::Dev>, vsk: &VsockSock, cid: u32, port: u32) -> bool;
    /// `seqpacket_allow()`.
    fn seqpacket_allow(dev: Option<&Self::Dev>, vsk: &VsockSock, remote_cid: u32) -> bool;
    /// `msgzerocopy_allow()`.
    fn msgzerocopy_allow() -> bool;
    /// `has_remote_cid()` (with [`Self::HAS_REMOTE_CID`]): whether a peer
    /// with CID `cid` is reachable from `vsk`.
    fn has_remote_cid(_dev: Option<&Self::Dev>, _vsk: &VsockSock, _cid: u32) -> bool {
        true
    }
    /// `can_msgzerocopy()` (with [`Self::CAN_MSGZEROCOPY`]): whether a
    /// packet of `bufs` buffers can go out as zerocopy.
    fn can_msgzerocopy(_dev: Option<&Self::Dev>, _bufs: i32) -> bool {
        true
    }
}

/// A transport's `struct virtio_transport`, plus its published device.
///
/// # Invariants
///
/// `dev` is NULL or points to the `T::Dev` of the live [`Published`] of
/// `T`; once withdrawn, a device is freed only after an RCU grace period.
#[repr(C)]
pub struct TransportDesc<T: TransportOps> {
    vt: b::virtio_transport,
    dev: AtomicPtr<T::Dev>,
}

// SAFETY: the descriptor is immutable apart from the atomic `dev`.
unsafe impl<T: TransportOps> Sync for TransportDesc<T> {}

/// `get_local_cid` of transport `T`.
///
/// # Safety
///
/// Called by the AF_VSOCK core through the transport's descriptor.
unsafe extern "C" fn tr_local_cid<T: TransportOps>() -> u32 {
    T::desc().with_dev(T::local_cid)
}

/// `send_pkt` of transport `T`.
///
/// # Safety
///
/// Called by the common module with a virtio-vsock skb whose ownership
/// passes here.
unsafe extern "C" fn tr_send_pkt<T: TransportOps>(skb: *mut b::sk_buff, net: *mut b::net) -> i32 {
    // SAFETY: the common module passes ownership of a virtio-vsock skb.
    let Some(skb) = (unsafe { SkbBox::from_raw(skb) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the common module passes NULL or the live namespace of the
    // sending socket, which it holds for the call.
    let net = (!net.is_null()).then(|| unsafe { Net::from_raw(net) });
    T::desc().with_dev(|dev| ret_int(T::send_pkt(dev, skb, net)))
}

/// `cancel_pkt` of transport `T`.
///
/// # Safety
///
/// Called by the AF_VSOCK core with a live socket.
unsafe extern "C" fn tr_cancel_pkt<T: TransportOps>(vsk: *mut b::vsock_sock) -> i32 {
    // SAFETY: the core calls this with a live socket.
    let vsk = unsafe { VsockSock::from_raw(vsk) };
    T::desc().with_dev(|dev| ret_int(T::cancel_pkt(dev, vsk).map(|()| 0)))
}

/// `stream_allow` of transport `T`.
///
/// # Safety
///
/// Called by the AF_VSOCK core with a live socket.
unsafe extern "C" fn tr_stream_allow<T: TransportOps>(
    vsk: *mut b::vsock_sock,
    cid: u32,
    port: u32,
) -> bool {
    // SAFETY: the core calls this with a live socket.
    let vsk = unsafe { VsockSock::from_raw(vsk) };
    T::desc().with_dev(|dev| T::stream_allow(dev, vsk, cid, port))
}

/// `seqpacket_allow` of transport `T`.
///
/// # Safety
///
/// Called by the AF_VSOCK core with a live socket.
unsafe extern "C" fn tr_seqpacket_allow<T: TransportOps>(
    vsk: *mut b::vsock_sock,
    cid: u32,
) -> bool {
    // SAFETY: the core calls this with a live socket.
    let vsk = unsafe { VsockSock::from_raw(vsk) };
    T::desc().with_dev(|dev| T::seqpacket_allow(dev, vsk, cid))
}

/// `has_remote_cid` of transport `T`.
///
/// # Safety
///
/// Called by the AF_VSOCK core with a live socket.
unsafe extern "C" fn tr_has_remote_cid<T: TransportOps>(vsk: *mut b::vsock_sock, cid: u32) -> bool {
    // SAFETY: the core calls this with a live socket.
    let vsk = unsafe { VsockSock::from_raw(vsk) };
    T::desc().with_dev(|dev| T::has_remote_cid(dev, vsk, cid))
}

/// `can_msgzerocopy` of transport `T`.
///
/// # Safety
///
/// Called by the common module.
unsafe extern "C" fn tr_can_msgzerocopy<T: TransportOps>(bufs: i32) -> bool {
    T::desc().with_dev(|dev| T::can_msgzerocopy(dev, bufs))
}

/// `msgzerocopy_allow` of transport `T`.
///
/// # Safety
///
/// Called by the AF_VSOCK core.
unsafe extern "C" fn tr_msgzerocopy_allow<T: TransportOps>() -> bool {
    T::msgzerocopy_allow()
}

impl<T: TransportOps> TransportDesc<T> {
    /// The descriptor of transport `T` of module `module`, with the common
    /// module's callbacks.  Use [`vsock_rs_transport!`].
    ///
    /// # Safety
    ///
    /// `module` is the `struct module` of the module that defines the
    /// descriptor (the core takes references on it while sockets use the
    /// transport).
    pub const unsafe fn new(module: *mut b::module) -> Self {
        TransportDesc {
            vt: b::virtio_transport {
                transport: b::vsock_transport {
                    module,
                    init: Some(b::vsock_rs_do_socket_init),
                    destruct: Some(b::vsock_rs_destruct),
                    release: Some(b::vsock_rs_release),
                    cancel_pkt: Some(tr_cancel_pkt::<T>),
                    connect: Some(b::vsock_rs_connect),
                    dgram_bind: Some(b::vsock_rs_dgram_bind),
                    dgram_dequeue: Some(b::vsock_rs_dgram_dequeue),
                    dgram_enqueue: Some(b::vsock_rs_dgram_enqueue),
                    dgram_allow: Some(b::vsock_rs_dgram_allow),
                    stream_dequeue: Some(b::vsock_rs_stream_dequeue),
                    stream_enqueue: Some(b::vsock_rs_stream_enqueue),
                    stream_has_data: Some(b::vsock_rs_stream_has_data),
                    stream_has_space: Some(b::vsock_rs_stream_has_space),
                    stream_rcvhiwat: Some(b::vsock_rs_stream_rcvhiwat),
                    stream_is_active: Some(b::vsock_rs_stream_is_active),
                    stream_allow: Some(tr_stream_allow::<T>),
                    seqpacket_dequeue: Some(b::vsock_rs_seqpacket_dequeue),
                    seqpacket_enqueue: Some(b::vsock_rs_seqpacket_enqueue),
                    seqpacket_allow: Some(tr_seqpacket_allow::<T>),
                    seqpacket_has_data: Some(b::vsock_rs_seqpacket_has_data),
                    notify_poll_in: Some(b::vsock_rs_notify_poll_in),
                    notify_poll_out: Some(b::vsock_rs_notify_poll_out),
                    notify_recv_init: Some(b::vsock_rs_notify_recv_init),
                    notify_recv_pre_block: Some(b::vsock_rs_notify_recv_pre_block),
                    notify_recv_pre_dequeue: Some(b::vsock_rs_notify_recv_pre_dequeue),
                    notify_recv_post_dequeue: Some(b::vsock_rs_notify_recv_post_dequeue),
                    notify_send_init: Some(b::vsock_rs_notify_send_init),
                    notify_send_pre_block: Some(b::vsock_rs_notify_send_pre_block),
                    notify_send_pre_enqueue: Some(b::vsock_rs_notify_send_pre_enqueue),
                    notify_send_post_enqueue: Some(b::vsock_rs_notify_send_post_enqueue),
                    notify_buffer_size: Some(b::vsock_rs_notify_buffer_size),
                    notify_set_rcvlowat: Some(b::vsock_rs_notify_set_rcvlowat),
                    unsent_bytes: Some(b::vsock_rs_unsent_bytes),
                    shutdown: Some(b::vsock_rs_shutdown),
                    get_local_cid: Some(tr_local_cid::<T>),
                    has_remote_cid: if T::HAS_REMOTE_CID {
                        Some(tr_has_remote_cid::<T>)
                    } else {
                        None
                    },
                    read_skb: Some(b::vsock_rs_read_skb),
                    msgzerocopy_allow: Some(tr_msgzerocopy_allow::<T>),
                },
                send_pkt: Some(tr_send_pkt::<T>),
                can_msgzerocopy: if T::CAN_MSGZEROCOPY {
                    Some(tr_can_msgzerocopy::<T>)
                } else {
                    None
                },
            },
            dev: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Calls `f` with the device published now, if any, under
    /// `rcu_read_lock()` (`rcu_dereference`).
    pub fn with_dev<R>(&self, f: impl FnOnce(Option<&T::Dev>) -> R) -> R {
        let _rcu = rcu::read_lock();
        let p = self.dev.load(Ordering::Acquire);
        // SAFETY: a non-NULL `dev` points to a published device (invariant),
        // which is freed only after a grace period that cannot end while we
        // hold the read lock; the reference does not outlive `f`.
        f((!p.is_null()).then(|| unsafe { &*p }))
    }

    /// The embedded `struct vsock_transport`, as the AF_VSOCK core knows
    /// it (for iterations over its sockets).
    pub fn transport_ptr(&self) -> *mut b::vsock_transport {
        (&raw const self.vt.transport).cast_mut()
    }

    fn vt_ptr(&self) -> *mut b::virtio_transport {
        (&raw const self.vt).cast_mut()
    }

    /// Calls `V::visit` for every connected socket of this transport,
    /// under `vsock_table_lock` (`vsock_for_each_connected_socket()`).
    /// A visit must not call this again (it would deadlock on the lock).
    pub fn for_each_connected<V: ConnectedVisitor>(&self) {
        // SAFETY: the iteration only compares our transport's address with
        // each socket's; `visit_connected::<V>` is the callback it expects.
        unsafe {
            b::vsock_for_each_connected_socket(self.transport_ptr(), Some(visit_connected::<V>))
        };
    }

    /// Resets every connected socket of this transport (`ECONNRESET`), as
    /// upstream does when a device goes away or is reset
    /// (`virtio_vsock_reset_sock()`).
    pub fn reset_connected_sockets(&self) {
        struct Reset;
        impl ConnectedVisitor for Reset {
            fn visit(sk: &TableSock) {
                sk.reset_closed();
            }
        }
        self.for_each_connected::<Reset>();
    }

    /// Hands a received packet to the common module.
    pub fn recv_pkt(&self, skb: SkbBox, net: Option<&Net>) {
        // SAFETY: our descriptor is registered; the skb's ownership passes;
        // `net` is NULL or live for the call.
        unsafe { b::vsock_rs_recv_pkt(self.vt_ptr(), skb.into_raw(), net::raw(net)) };
    }

    /// Hands received packets to the common module, which may process
    /// consecutive packets of one connection under one socket lock.
    pub fn recv_pkts(&self, pkts: &mut SkbList, origin: Origin<'_>) {
        let (net, loopback) = match origin {
            Origin::Loopback => (core::ptr::null_mut(), true),
            Origin::Device(net) => (net::raw(net), false),
        };
        // SAFETY: our descriptor is registered; the list is exclusively
        // borrowed for the call and its skbs pass to the common module;
        // `net` is NULL or live for the call.
        unsafe { b::vsock_rs_recv_pkts(self.vt_ptr(), pkts.raw(), net, loopback) };
    }
}

/// Helpers of the common module that transports call.
pub mod common {
    use super::*;

    /// The device took `skb`: its payload is no longer unsent.
    pub fn consume_skb_sent(skb: &mut Skb) {
        // SAFETY: live skb, not freed (`consume == false`).
        unsafe { b::vsock_rs_consume_skb_sent(skb.as_ptr(), false) };
    }

    /// Delivers `skb` to vsockmon taps (once).
    pub fn deliver_tap_pkt(skb: &mut Skb) {
        // SAFETY: live skb owned by the caller.
        unsafe { b::vsock_rs_deliver_tap_pkt(skb.as_ptr()) };
    }

    /// The CPU where the reader of `skb`'s flow last read, if known.
    pub fn steer_cpu(skb: &Skb) -> Option<u32> {
        // SAFETY: live skb with a vsock header (type invariant), only read
        // while we hold `&Skb`.
        u32::try_from(unsafe { b::vsock_rs_steer_cpu(skb.as_ptr()) }).ok()
    }

    /// Frees the packets of `queue` sent by `vsk`; returns the replies.
    pub fn purge_skbs(vsk: &VsockSock, queue: &SkbQueue) -> u32 {
        // SAFETY: live socket and queue.
        let n = unsafe { b::vsock_rs_purge_skbs(vsk.as_ptr().cast(), queue.as_ptr()) };
        u32::try_from(n).unwrap_or(0)
    }
}

/// A registered transport (`vsock_core_register` ... `vsock_core_unregister`).
///
/// # Invariants
///
/// `T::desc()` is registered with the AF_VSOCK core while this exists.
pub struct Registration<T: TransportOps> {
    _t: PhantomData<T>,
}

impl<T: TransportOps> Registration<T> {
    /// Registers the transport.  Its hooks see the device published with
    /// [`Published`], if any (sends fail with `ENODEV` while there is none).
    pub fn new() -> Result<Self> {
        let desc = T::desc();
        // SAFETY: the descriptor is a static that outlives the registration.
        let r = unsafe { b::vsock_core_register(&raw const desc.vt.transport, T::FEATURES as i32) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(Registration { _t: PhantomData })
    }
}

impl<T: TransportOps> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.
        unsafe { b::vsock_core_unregister(&raw const T::desc().vt.transport) };
    }
}

/// The device of transport `T`, published to its hooks
/// (`rcu_assign_pointer`) until this is dropped; then withdrawn, and freed
/// after a grace period (`synchronize_rcu`).
///
/// # Invariants
///
/// `T::desc().dev` points to `*self.dev`; there is one `Published<T>` at a
/// time.
pub struct Published<T: TransportOps> {
    dev: Pin<KBox<T::Dev>>,
}

impl<T: TransportOps> Published<T> {
    /// Allocates the device and publishes it.  Fails with `EBUSY` if
    /// transport `T` has a device already.
    pub fn new(dev: impl PinInit<T::Dev, Error>) -> Result<Self> {
        Self::new_boxed(KBox::pin_init(dev, GFP_KERNEL)?)
    }

    /// Publishes `dev` (see [`Published::new`]).
    pub fn new_value(dev: T::Dev) -> Result<Self> {
        Self::new_boxed(KBox::pin(dev, GFP_KERNEL)?)
    }

    fn new_boxed(dev: Pin<KBox<T::Dev>>) -> Result<Self> {
        let p = (&raw const *dev).cast_mut();
        T::desc()
            .dev
            .compare_exchange(
                core::ptr::null_mut(),
                p,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map_err(|_| EBUSY)?;
        // INVARIANT: published just above, and no other device was.
        Ok(Published { dev })
    }

    /// The device.
    pub fn dev(&self) -> &T::Dev {
        &self.dev
    }

    /// Publishes `new` in place of the device: each hook sees one or the
    /// other, and once this returns (after a grace period) only `new`.  The
    /// old device, which no hook can reach any more, is returned.
    pub fn replace(&mut self, new: Pin<KBox<T::Dev>>) -> Pin<KBox<T::Dev>> {
        T::desc()
            .dev
            .store((&raw const *new).cast_mut(), Ordering::Release);
        // SAFETY: plain call; we may sleep (`&mut self` is not held under a
        // spinlock by any hook: hooks only see the device through RCU).
        unsafe { kernel::bindings::synchronize_rcu() };
        // INVARIANT: `new` is the published device from here on.
        core::mem::replace(&mut self.dev, new)
    }
}

impl<T: TransportOps> Drop for Published<T> {
    fn drop(&mut self) {
        T::desc()
            .dev
            .store(core::ptr::null_mut(), Ordering::Release);
        // Readers that saw the device finish before it is freed.
        // SAFETY: plain call; dropping may sleep.
        unsafe { kernel::bindings::synchronize_rcu() };
    }
}

/// Declares the `struct virtio_transport` of transport `$ops` as the
/// exported-to-kallsyms static `$name` (vsock_test looks transports up by
/// these names: `loopback_transport`, `virtio_transport`, ...).
#[macro_export]
macro_rules! vsock_rs_transport {
    ($name:ident, $ops:ty) => {
        // The abstraction's `unsafe`, allowed in crates that deny it.
        #[allow(unsafe_code)]
        #[no_mangle]
        #[allow(non_upper_case_globals)]
        static $name: $crate::vsock::transport::TransportDesc<$ops> = {
            #[allow(improper_ctypes)]
            extern "C" {
                static __this_module: kernel::types::Opaque<kernel::bindings::module>;
            }
            // SAFETY: `__this_module` is this module's `struct module`,
            // defined by modpost, and the descriptor is this module's; only
            // its address is taken.
            unsafe { $crate::vsock::transport::TransportDesc::new(__this_module.get().cast()) }
        };
    };
}
