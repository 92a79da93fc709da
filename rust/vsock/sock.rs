// SPDX-License-Identifier: GPL-2.0

//! AF_VSOCK sockets as the transports see them.
//!
//! [`VsockSock`] borrows a `struct vsock_sock` that the AF_VSOCK core owns;
//! [`SockRef`] holds a reference (`sock_hold`); [`SockGuard`] holds the
//! socket lock (`lock_sock`).

use super::bindings as b;
use super::net::Net;
use super::proto::rules::ECONNRESET;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::types::Opaque;

/// Socket states (`sk->sk_state`, `include/net/tcp_states.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// `TCP_ESTABLISHED`.
    Established,
    /// `TCP_SYN_SENT`.
    SynSent,
    /// `TCP_CLOSE`.
    Close,
    /// `TCP_LISTEN`.
    Listen,
    /// `TCP_CLOSING`.
    Closing,
    /// Any other value.
    Other(u8),
}

impl State {
    fn from_raw(v: u8) -> State {
        match i32::from(v) {
            b::VRS_TCP_ESTABLISHED => State::Established,
            b::VRS_TCP_SYN_SENT => State::SynSent,
            b::VRS_TCP_CLOSE => State::Close,
            b::VRS_TCP_LISTEN => State::Listen,
            b::VRS_TCP_CLOSING => State::Closing,
            _ => State::Other(v),
        }
    }

    fn to_raw(self) -> u8 {
        let v = match self {
            State::Established => b::VRS_TCP_ESTABLISHED,
            State::SynSent => b::VRS_TCP_SYN_SENT,
            State::Close => b::VRS_TCP_CLOSE,
            State::Listen => b::VRS_TCP_LISTEN,
            State::Closing => b::VRS_TCP_CLOSING,
            State::Other(v) => return v,
        };
        // TCP states fit a byte.
        v as u8
    }
}

/// What a vsock-rust module keeps in `vsock_sock.trans`: the data, tagged
/// with its type so that [`VsockSock::trans`] can check it.
///
/// # Invariants
///
/// `tag` is `TypeId::of::<T>()`; the layout (`repr(C)`) puts it first for
/// every `T`.
#[repr(C)]
#[pin_data]
struct Tagged<T> {
    tag: core::any::TypeId,
    #[pin]
    data: T,
}

/// An AF_VSOCK socket.
///
/// # Invariants
///
/// Wraps a live `struct vsock_sock`: the caller that produced the reference
/// holds a reference on the socket (or is one of its callbacks) for the
/// reference's lifetime.  Its `trans` is NULL or a `Tagged<T>` installed by
/// [`VsockSock::set_trans`]: the functions of this crate that read `trans`
/// run only for sockets of vsock-rust transports (whose `init` callback is
/// the common module's), listeners (NULL) or packets such sockets own.
#[repr(transparent)]
pub struct VsockSock(Opaque<b::vsock_sock>);

// SAFETY: sockets are shared between threads; their fields are protected by
// the socket lock or their own locks, as used below.
unsafe impl Sync for VsockSock {}
// SAFETY: as above.
unsafe impl Send for VsockSock {}

impl VsockSock {
    /// Borrows a socket.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `vsock_sock` that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::vsock_sock) -> &'a VsockSock {
        // SAFETY: transparent wrapper; liveness from the caller.
        unsafe { &*ptr.cast::<VsockSock>() }
    }

    /// The raw `vsock_sock`.
    pub fn as_ptr(&self) -> *mut b::vsock_sock {
        self.0.get()
    }

    /// The raw `struct sock` (the first member).
    pub fn sk_ptr(&self) -> *mut b::sock {
        self.0.get().cast()
    }

    fn sk(&self) -> *mut b::sock {
        self.sk_ptr()
    }

    /// `SOCK_STREAM` or `SOCK_SEQPACKET`.
    pub fn is_stream(&self) -> bool {
        // SAFETY: live socket (invariant); the type never changes.
        i32::from(unsafe { (*self.sk()).sk_type }) == b::VRS_SOCK_STREAM
    }

    /// Whether the socket is connection oriented (stream or seqpacket).
    pub fn is_connectible(&self) -> bool {
        // SAFETY: live socket (invariant); the type never changes.
        let t = i32::from(unsafe { (*self.sk()).sk_type });
        t == b::VRS_SOCK_STREAM || t == b::VRS_SOCK_SEQPACKET
    }

    /// The connection state.
    pub fn state(&self) -> State {
        // SAFETY: live socket; a byte read (READ_ONCE semantics suffice).
        State::from_raw(unsafe {
            core::ptr::read_volatile(&raw const (*self.sk()).__sk_common.skc_state)
        })
    }

    /// `sk->sk_shutdown`.
    pub fn shutdown_flags(&self) -> u32 {
        // SAFETY: live socket; byte read.
        u32::from(unsafe { core::ptr::read_volatile(&raw const (*self.sk()).sk_shutdown) })
    }

    /// `vsk->peer_shutdown`.
    pub fn peer_shutdown(&self) -> u32 {
        // SAFETY: live socket; READ_ONCE.
        unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).peer_shutdown) }
    }

    /// `sock_error()`: takes the pending socket error and clears it;
    /// returns it as a negative errno, or 0.
    pub fn take_error(&self) -> i32 {
        // SAFETY: live socket; `sock_error` exchanges `sk_err` atomically.
        unsafe { b::vsock_rs_h_sock_error(self.sk()) }
    }

    /// `sk->sk_state_change(sk)`.
    pub fn state_change(&self) {
        let sk = self.sk();
        // SAFETY: live socket; the core sets its callbacks at creation.
        if let Some(f) = unsafe { (*sk).sk_state_change } {
            // SAFETY: the socket's own callback, called as the core does.
            unsafe { f(sk) };
        }
    }

    /// `sk->sk_write_space(sk)`.
    pub fn write_space(&self) {
        let sk = self.sk();
        // SAFETY: live socket; the core sets its callbacks at creation.
        if let Some(f) = unsafe { (*sk).sk_write_space } {
            // SAFETY: the socket's own callback, called as the core does.
            unsafe { f(sk) };
        }
    }

    /// `sk->sk_data_ready(sk)`.
    pub fn data_ready_raw(&self) {
        let sk = self.sk();
        // SAFETY: live socket; the core sets its callbacks at creation.
        if let Some(f) = unsafe { (*sk).sk_data_ready } {
            // SAFETY: the socket's own callback, called as the core does.
            unsafe { f(sk) };
        }
    }

    /// `sock_flag(sk, bit)`: whether flag `bit` of `sk_flags` is set.
    fn flag(&self, bit: i32) -> bool {
        // SAFETY: live socket (invariant); `sk_flags` is an aligned
        // `unsigned long` (its offset is checked in `layout.rs`), which the
        // kernel changes only with bit operations.  The read is volatile,
        // as `test_bit`'s.
        let flags = unsafe {
            core::ptr::read_volatile(&raw const (*self.sk()).__sk_common.__bindgen_anon_5.skc_flags)
        };
        u32::try_from(bit)
            .ok()
            .and_then(|bit| flags.checked_shr(bit))
            .is_some_and(|f| f & 1 != 0)
    }

    /// Whether `SOCK_DONE` is set.
    pub fn is_done(&self) -> bool {
        self.flag(b::VRS_SOCK_DONE)
    }

    /// Whether `SO_ZEROCOPY` is enabled.
    pub fn zerocopy_enabled(&self) -> bool {
        self.flag(b::VRS_SOCK_ZEROCOPY)
    }

    /// `sock_rcvlowat(sk, 0, INT_MAX)`.
    pub fn rcvlowat(&self) -> u32 {
        // SAFETY: live socket.
        let v = unsafe { b::vsock_rs_h_sock_rcvlowat(self.sk()) };
        u32::try_from(v).unwrap_or(1)
    }

    /// Whether the accept queue is full.
    pub fn acceptq_is_full(&self) -> bool {
        // SAFETY: live socket.
        unsafe { b::vsock_rs_h_sk_acceptq_is_full(self.sk()) }
    }

    /// The socket's network namespace.
    pub fn net(&self) -> &Net {
        // `sock_net()`: `read_pnet(&sk->sk_net)`, a plain pointer with
        // CONFIG_NET_NS (required by the kernel config), set at creation.
        // SAFETY: live socket, which holds a reference on its namespace
        // for as long as it lives, so for the borrow of `self`.
        unsafe { Net::from_raw((*self.sk()).__sk_common.skc_net.net) }
    }

    /// Whether the socket's netns is in global vsock mode.
    pub fn net_mode_global(&self) -> bool {
        // SAFETY: live socket.
        unsafe { b::vsock_rs_h_net_mode_global(self.as_ptr()) }
    }

    /// `(cid, port)` of the local address.
    pub fn local_addr(&self) -> (u32, u32) {
        // SAFETY: live socket; addresses are stable under the socket lock.
        unsafe {
            let a = &(*self.as_ptr()).local_addr;
            (a.svm_cid, a.svm_port)
        }
    }

    /// `(cid, port)` of the remote address.
    pub fn remote_addr(&self) -> (u32, u32) {
        // SAFETY: live socket; addresses are stable under the socket lock.
        unsafe {
            let a = &(*self.as_ptr()).remote_addr;
            (a.svm_cid, a.svm_port)
        }
    }

    /// `vsk->buffer_size`.
    pub fn buffer_size(&self) -> u64 {
        // SAFETY: live socket; socket lock held (or init).
        unsafe { (*self.as_ptr()).buffer_size }
    }

    /// The socket's transport (`vsk->transport`), as a raw pointer.
    pub fn transport_ptr(&self) -> *const b::vsock_transport {
        // SAFETY: live socket.
        unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).transport) }
    }

    /// Takes a reference, unless the socket is being freed (its count is
    /// zero: a packet's owner may be in that state).
    pub fn try_get_ref(&self) -> Option<SockRef> {
        // SAFETY: live socket memory (invariant).
        unsafe { try_hold(self.as_ptr()) }
    }

    /// Locks the socket (`lock_sock`).
    pub fn lock(&self) -> SockGuard<'_> {
        // SAFETY: live socket.
        unsafe { b::lock_sock_nested(self.sk(), 0) };
        // INVARIANT: locked just above.
        SockGuard {
            sock: self,
            _not_send: PhantomData,
        }
    }

    /// The transport's private state (`vsk->trans`), if one of type `T`
    /// is installed by a vsock-rust transport.
    pub fn trans<T: Send + Sync + 'static>(&self) -> Option<&T> {
        // SAFETY: live socket (invariant); the state lives as long as the
        // borrow (see `trans_of`).
        unsafe { trans_of(self.as_ptr()) }
    }
}

/// The state of type `T` a vsock-rust transport installed in `vsk->trans`,
/// if the socket's transport is a vsock-rust one (its `init` is the common
/// module's) and the state's tag says `T`; other transports' state is never
/// read.
///
/// # Safety
///
/// `vsk` is a `vsock_sock` whose memory is valid for `'a`, and its
/// transport is not re-assigned (which frees the state) during `'a`: the
/// caller holds the socket lock, is a callback of the socket (the core does
/// not re-assign meanwhile), or owns a packet of a connected socket (only
/// sockets that never connected are re-assigned).
unsafe fn trans_of<'a, T: Send + Sync + 'static>(vsk: *mut b::vsock_sock) -> Option<&'a T> {
    // SAFETY: valid socket memory (see above).
    let (t, p) = unsafe { ((*vsk).transport, (*vsk).trans) };
    if t.is_null() || p.is_null() {
        return None;
    }
    // SAFETY: a non-NULL transport is registered and pinned by the
    // socket's module reference; its `init` field can be read whatever the
    // transport is.
    let init = unsafe { (*t).init };
    let ours: unsafe extern "C" fn(_, _) -> _ = b::vsock_rs_do_socket_init;
    if !init.is_some_and(|f| core::ptr::fn_addr_eq(f, ours)) {
        return None;
    }
    let p = p.cast::<Tagged<T>>();
    // SAFETY: the transport is a vsock-rust one, whose `init` installs a
    // `Tagged<_>` (`LockedSock::set_trans`) with its `tag` first for every
    // type (`repr(C)`); it lives for `'a` (see above).
    let tag = unsafe { (*p).tag };
    // SAFETY: as above; the tag says the data is a `T`.
    (tag == core::any::TypeId::of::<T>()).then(|| unsafe { &(*p).data })
}

/// A reference on `vsk`, unless its count is zero (`refcount_inc_not_zero`).
///
/// # Safety
///
/// `vsk` points to valid `vsock_sock` memory (its count may be zero).
unsafe fn try_hold(vsk: *mut b::vsock_sock) -> Option<SockRef> {
    // SAFETY: valid socket memory (see above); only a non-zero count is
    // incremented.
    if unsafe { b::vsock_rs_h_sock_hold_not_zero(vsk.cast()) } {
        // INVARIANT: we took a reference just above.
        NonNull::new(vsk.cast::<VsockSock>()).map(SockRef)
    } else {
        None
    }
}

/// The socket that owns a packet (`skb->sk`), as the packet keeps it: its
/// memory and namespace stay valid while the packet exists (a sent packet
/// holds `sk_wmem_alloc`, a received one a reference), but its count may be
/// zero already, so it can neither be locked nor referenced, only looked
/// at.
///
/// # Invariants
///
/// Wraps a `vsock_sock` whose memory (and namespace) is valid for the
/// lifetime of every `&SkbOwner`.
#[repr(transparent)]
pub struct SkbOwner(Opaque<b::vsock_sock>);

impl SkbOwner {
    /// Borrows a packet's owner.
    ///
    /// # Safety
    ///
    /// `ptr` is the `vsock_sock` that owns a packet the caller borrows for
    /// `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::vsock_sock) -> &'a SkbOwner {
        // SAFETY: transparent wrapper; validity from the caller.
        unsafe { &*ptr.cast::<SkbOwner>() }
    }

    /// The raw socket, to compare or charge (never to lock).
    pub fn as_ptr(&self) -> *mut b::vsock_sock {
        self.0.get()
    }

    /// The owner's namespace.
    pub fn net(&self) -> &Net {
        // SAFETY: valid socket memory (invariant).  A user socket releases
        // its namespace only with its memory (`__sk_destruct`); a kernel
        // socket's namespace outlives the socket (its owner releases it on
        // namespace exit), as upstream's `sock_net(skb->sk)` assumes.
        unsafe { Net::from_raw((*self.as_ptr().cast::<b::sock>()).__sk_common.skc_net.net) }
    }

    /// The transport state of type `T` (see [`VsockSock::trans`]).
    pub fn trans<T: Send + Sync + 'static>(&self) -> Option<&T> {
        // SAFETY: valid socket memory (invariant); a packet's owner is
        // connected or connecting, and such sockets are not re-assigned.
        unsafe { trans_of(self.as_ptr()) }
    }

    /// A reference on the owner, unless its count is zero.
    pub fn try_get_ref(&self) -> Option<SockRef> {
        // SAFETY: valid socket memory (invariant).
        unsafe { try_hold(self.as_ptr()) }
    }
}

/// A socket being destructed (its transport's `destruct` callback): the
/// core either holds its lock (re-assignment to another transport) or has
/// dropped its last reference (nothing else reaches it).  So it is neither
/// locked nor referenced here; only the close timeout and the transport
/// state are dealt with.
///
/// # Invariants
///
/// Wraps a `vsock_sock` in its `destruct` callback, for the callback.
#[repr(transparent)]
pub struct DestructSock(Opaque<b::vsock_sock>);

impl DestructSock {
    /// Borrows the socket of a `destruct` callback.
    ///
    /// # Safety
    ///
    /// Called from the socket's `destruct` callback, for its duration.
    pub unsafe fn from_raw<'a>(ptr: *mut b::vsock_sock) -> &'a DestructSock {
        // SAFETY: transparent wrapper; validity from the caller.
        unsafe { &*ptr.cast::<DestructSock>() }
    }

    /// Cancels a pending close timeout as [`LockedSock::cancel_close_work`]
    /// does, lending the socket to `f`.
    pub fn cancel_close_work(&self, f: impl FnOnce(&LockedSock)) -> bool {
        let p = self.0.get();
        // SAFETY: valid socket memory (invariant); the flag is only written
        // under the lock, which the core holds or nobody can take.
        if !unsafe { (*p).close_work_scheduled } {
            return false;
        }
        // SAFETY: a scheduled close work holds a reference, so this is not
        // the last-reference path: the core holds the socket lock
        // (re-assignment).
        let locked = unsafe { LockedSock::from_raw(p) };
        locked.cancel_close_work(|| f(locked))
    }

    /// Removes and frees the transport's private state of type `T`.
    ///
    /// # Safety
    ///
    /// After the transport's own `destruct` work, as the last use of the
    /// state: the core calls `destruct` once no other callback runs for the
    /// socket, and it is never re-assigned with packets in flight, so no
    /// reference from `trans` is in use any more.
    pub unsafe fn drop_trans<T: Send + Sync + 'static>(&self) {
        let p = self.0.get();
        // SAFETY: valid socket; its transport is still assigned during
        // `destruct`.
        if unsafe { trans_of::<T>(p) }.is_none() {
            return;
        }
        // SAFETY: exclusive use (see above).
        let t = unsafe { core::ptr::replace(&raw mut (*p).trans, core::ptr::null_mut()) };
        // SAFETY: `trans_of::<T>` just checked that `t` is a `Tagged<T>`
        // from `set_trans::<T>`, allocated and pinned there.
        drop(unsafe { Pin::new_unchecked(KBox::from_raw(t.cast::<Tagged<T>>())) });
    }
}

/// A connected socket seen by a [`ConnectedVisitor`]: under
/// `vsock_table_lock`, without the socket lock, as upstream's
/// `vsock_for_each_connected_socket()` callbacks see it.  It offers only
/// what upstream's device-reset callbacks do there
/// (`virtio_vsock_reset_sock()`, `vhost_vsock_reset_orphans()`): a few
/// reads, and their two resets, whose writes may race with the socket
/// lock's holder exactly as upstream's do.  Nothing here sleeps.
///
/// # Invariants
///
/// Wraps a socket of the connected table, and `vsock_table_lock` is held
/// for the lifetime of every `&TableSock` by the context that holds the
/// reference.  A socket leaves the table under that lock before it can be
/// freed (the table holds a reference), so it is live.  References exist
/// only as the argument of [`ConnectedVisitor::visit`], whose lifetime
/// ends with the call, and the type is neither `Send` nor `Sync`.
#[repr(transparent)]
pub struct TableSock {
    sock: VsockSock,
    _not_sync: PhantomData<*mut ()>,
}

impl TableSock {
    /// Borrows a socket of the connected table.
    ///
    /// # Safety
    ///
    /// `ptr` is a socket of the connected table and the current context
    /// holds `vsock_table_lock` for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut b::sock) -> &'a TableSock {
        // SAFETY: `TableSock` is a transparent wrapper of `VsockSock` (the
        // marker is a ZST), itself transparent over `vsock_sock`, whose
        // first member is the `struct sock`; the rest from the caller.
        unsafe { &*ptr.cast::<TableSock>() }
    }

    /// `(cid, port)` of the remote address (set before the socket entered
    /// the connected table).
    pub fn remote_addr(&self) -> (u32, u32) {
        self.sock.remote_addr()
    }

    /// The socket's network namespace.
    pub fn net(&self) -> &Net {
        self.sock.net()
    }

    /// `vsk->close_work_scheduled`, read without the socket lock (as
    /// upstream's orphan reset reads it).
    pub fn close_work_scheduled(&self) -> bool {
        // SAFETY: live socket (invariant); a byte read (READ_ONCE).
        unsafe { core::ptr::read_volatile(&raw const (*self.sock.as_ptr()).close_work_scheduled) }
    }

    /// `sk->sk_state = state; sk->sk_err = ECONNRESET; sk_error_report()`.
    fn reset_with_state(&self, state: u8) {
        let sk = self.sock.sk_ptr();
        // SAFETY: live socket (invariant); WRITE_ONCE of a byte and of an
        // int, then the socket's error callback, as upstream's reset
        // callbacks make them under the table lock.
        unsafe {
            core::ptr::write_volatile(&raw mut (*sk).__sk_common.skc_state, state);
            core::ptr::write_volatile(&raw mut (*sk).sk_err, ECONNRESET);
            b::sk_error_report(sk);
        }
    }

    /// The reset of a socket whose device went away or was reset
    /// (`virtio_vsock_reset_sock()`): closed, `ECONNRESET` reported.
    pub fn reset_closed(&self) {
        self.reset_with_state(State::Close.to_raw());
    }

    /// The reset of a socket whose peer no device serves any more
    /// (`vhost_vsock_reset_orphans()`): `SOCK_DONE`, both directions shut
    /// down by the peer, `sk_state = SS_UNCONNECTED` (upstream's value,
    /// which is `TCP_ESTABLISHED`'s), `ECONNRESET` reported.
    pub fn reset_orphan(&self) {
        let sk = self.sock.sk_ptr();
        // SAFETY: live socket (invariant); `sock_set_flag()` and a
        // WRITE_ONCE of `peer_shutdown` without the socket lock, as
        // upstream's orphan reset makes them.
        unsafe {
            b::vsock_rs_h_sock_set_flag(sk, b::VRS_SOCK_DONE);
            core::ptr::write_volatile(
                &raw mut (*self.sock.as_ptr()).peer_shutdown,
                b::VRS_SHUTDOWN_MASK,
            );
        }
        self.reset_with_state(b::VRS_SS_UNCONNECTED);
    }
}

/// What [`TransportDesc::for_each_connected`] does with each connected
/// socket of its transport.  The visit runs under `vsock_table_lock` (a
/// spinlock taken with bottom halves off): it must not sleep, and must not
/// iterate the table again (that would deadlock on the lock).
///
/// [`TransportDesc::for_each_connected`]: super::transport::TransportDesc::for_each_connected
pub trait ConnectedVisitor {
    /// Visits one connected socket.
    fn visit(sk: &TableSock);
}

/// The C callback of `vsock_for_each_connected_socket()` for `V`.
///
/// # Safety
///
/// Called by `vsock_for_each_connected_socket()` with a socket of the
/// connected table, under `vsock_table_lock`.
pub(crate) unsafe extern "C" fn visit_connected<V: ConnectedVisitor>(sk: *mut b::sock) {
    // SAFETY: from the caller, for the call.
    V::visit(unsafe { TableSock::from_raw(sk) });
}

/// A socket whose lock (`lock_sock`) is held by the current context, which
/// lent this reference: the operations that upstream performs under the
/// socket lock live here.
///
/// # Invariants
///
/// The socket lock of the wrapped socket is held for the lifetime of every
/// `&LockedSock`, by the context that holds the reference (so the type is
/// neither `Send` nor `Sync`).
#[repr(transparent)]
pub struct LockedSock {
    sock: VsockSock,
    _not_sync: PhantomData<*mut ()>,
}

impl core::ops::Deref for LockedSock {
    type Target = VsockSock;
    fn deref(&self) -> &VsockSock {
        &self.sock
    }
}

impl LockedSock {
    /// Borrows a socket whose lock the caller holds.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `vsock_sock` whose lock the current context holds,
    /// or that nothing else can reach (its destructor), for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::vsock_sock) -> &'a LockedSock {
        // SAFETY: `LockedSock` is a transparent wrapper of `VsockSock`
        // (the marker is a ZST), itself transparent over `vsock_sock`;
        // liveness and the lock from the caller.
        unsafe { &*ptr.cast::<LockedSock>() }
    }

    /// Sets the connection state (socket lock held (type invariant)).
    pub fn set_state(&self, st: State) {
        // SAFETY: live socket; byte write.
        unsafe {
            core::ptr::write_volatile(&raw mut (*self.sk()).__sk_common.skc_state, st.to_raw())
        };
    }

    /// Sets `vsk->peer_shutdown`.
    pub fn set_peer_shutdown(&self, v: u32) {
        // SAFETY: live socket; WRITE_ONCE.
        unsafe { core::ptr::write_volatile(&raw mut (*self.as_ptr()).peer_shutdown, v) };
    }

    /// `vsock_data_ready()`: wakes readers once `SO_RCVLOWAT` is reached.
    pub fn data_ready(&self) {
        // SAFETY: live socket.
        unsafe { b::vsock_data_ready(self.sk()) };
    }

    /// Sets `SOCK_DONE`.
    pub fn set_done(&self) {
        // SAFETY: live socket; socket lock held (type invariant).
        unsafe { b::vsock_rs_h_sock_set_flag(self.sk(), b::VRS_SOCK_DONE) };
    }

    /// `vsock_remove_sock()`.
    pub fn remove_sock(&self) {
        // SAFETY: live socket.
        unsafe { b::vsock_remove_sock(self.as_ptr()) };
    }

    /// `vsock_stream_has_data()` (through the socket's transport).
    pub fn stream_has_data(&self) -> i64 {
        // SAFETY: live socket.
        unsafe { b::vsock_stream_has_data(self.as_ptr()) }
    }

    /// `vsock_stream_has_space()` (through the socket's transport).
    pub fn stream_has_space(&self) -> i64 {
        // SAFETY: live socket.
        unsafe { b::vsock_stream_has_space(self.as_ptr()) }
    }

    /// Sets `sk->sk_err` and reports it (`sk_error_report`).
    pub fn report_error(&self, err: i32) {
        // SAFETY: live socket; the socket lock is held (type invariant).
        unsafe {
            (*self.sk()).sk_err = err;
            b::sk_error_report(self.sk());
        }
    }

    /// Sets `sk->sk_err` without reporting it.
    pub fn set_err(&self, err: i32) {
        // SAFETY: live socket; the socket lock is held (type invariant).
        unsafe { (*self.sk()).sk_err = err };
    }

    /// Sets the local CID.
    pub fn set_local_cid(&self, cid: u32) {
        // SAFETY: live socket; socket lock held (type invariant).
        unsafe { (*self.as_ptr()).local_addr.svm_cid = cid };
    }

    /// Sets both addresses of a new child socket (`vsock_addr_init`).
    pub fn init_addrs(&self, local: (u32, u32), remote: (u32, u32)) {
        // SAFETY: live socket, locked (type invariant), not yet visible.
        unsafe {
            b::vsock_addr_init(&raw mut (*self.as_ptr()).local_addr, local.0, local.1);
            b::vsock_addr_init(&raw mut (*self.as_ptr()).remote_addr, remote.0, remote.1);
        }
    }

    /// Sets `vsk->buffer_size`.
    pub fn set_buffer_size(&self, v: u64) {
        // SAFETY: live socket; socket lock held (type invariant).
        unsafe { (*self.as_ptr()).buffer_size = v };
    }

    /// Marks the socket connected: `TCP_ESTABLISHED` and `SS_CONNECTED`.
    pub fn set_connected(&self) {
        self.set_state(State::Established);
        // SAFETY: live socket; the shim checks that it has a `struct socket`.
        unsafe { b::vsock_rs_h_set_socket_connected(self.sk()) };
    }

    /// `vsock_linger()`.
    pub fn linger(&self) {
        // SAFETY: live socket, locked (type invariant).
        unsafe { b::vsock_linger(self.sk()) };
    }

    /// Installs the transport's private state (from the `init` callback).
    /// Fails with `EBUSY` if some state is installed already: it is never
    /// replaced while references to it may exist.
    pub fn set_trans<T: Send + Sync + 'static>(&self, data: impl PinInit<T, Error>) -> Result {
        // SAFETY: live socket; `trans` only changes under the socket lock,
        // which is held (type invariant).
        if !unsafe { (*self.as_ptr()).trans }.is_null() {
            return Err(EBUSY);
        }
        let tagged = KBox::pin_init(
            try_pin_init!(Tagged {
                tag: core::any::TypeId::of::<T>(),
                data <- data,
            }? Error),
            GFP_KERNEL,
        )?;
        // SAFETY: the data is never moved out of its box again; it is
        // freed by `drop_trans` as a `Pin<KBox<Tagged<T>>>`.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(tagged) });
        // SAFETY: live socket; no state was installed (checked above under
        // the lock).
        unsafe { (*self.as_ptr()).trans = raw.cast() };
        Ok(())
    }

    /// Schedules `vsk->close_work` to run `W::run` after `delay` jiffies,
    /// unless it is scheduled (or running) already.  The work holds a
    /// socket reference until it is cancelled
    /// ([`Self::cancel_close_work`]) or finishes ([`CloseWorkRunning`]).
    pub fn schedule_close_work<W: CloseWork>(&self, delay: u64) {
        if self.close_work_scheduled() {
            return;
        }
        // SAFETY: live socket, locked (invariant), and no close work is
        // scheduled or running (`close_work_scheduled` is clear), so the
        // work item may be initialised.  The reference taken here belongs
        // to the scheduled work; `close_work_scheduled` records that it
        // exists.
        unsafe {
            b::vsock_rs_h_sock_hold(self.sk_ptr());
            (*self.as_ptr()).close_work_scheduled = true;
            b::vsock_rs_h_schedule_close_work(
                self.as_ptr(),
                Some(close_work_fn::<W>),
                delay as kernel::ffi::c_ulong,
            );
        }
    }

    /// If the close work is pending and can be cancelled before it runs:
    /// marks it done, runs `f`, and drops the work's socket reference
    /// (`virtio_transport_cancel_close_work` with `cancel_timeout`).
    /// Returns whether it did.  A running work finishes itself.
    pub fn cancel_close_work(&self, f: impl FnOnce()) -> bool {
        if !self.close_work_scheduled() {
            return false;
        }
        // SAFETY: `close_work_scheduled` means the work was initialised.
        if !unsafe { b::vsock_rs_h_cancel_close_work(self.as_ptr()) } {
            return false;
        }
        // SAFETY: live socket, locked (invariant).
        unsafe { (*self.as_ptr()).close_work_scheduled = false };
        f();
        // SAFETY: `close_work_scheduled` was set, so the reference taken in
        // `schedule_close_work` was held, and the timer that stood for it is
        // cancelled and the flag clear, so nobody else drops it.  The
        // caller's own access to the socket (the lock, held under a
        // reference) keeps it alive.
        unsafe { b::vsock_rs_h_sock_put(self.sk_ptr()) };
        true
    }

    /// `vsk->close_work_scheduled`.
    pub fn close_work_scheduled(&self) -> bool {
        // SAFETY: live socket, locked (invariant).
        unsafe { (*self.as_ptr()).close_work_scheduled }
    }

    /// `vsock_create_connected()`: a child socket of this listener.
    pub fn create_connected(&self) -> Option<NewChild> {
        // SAFETY: live listener socket, locked (invariant).
        let child = unsafe { b::vsock_create_connected(self.sk_ptr()) };
        // INVARIANT: the new socket comes with one reference, now ours,
        // and is not visible to anybody else yet.
        NonNull::new(child.cast::<VsockSock>()).map(|p| NewChild(SockRef(p)))
    }

    /// `vsock_insert_connected()`, unless the socket is in the connected
    /// table already (inserting twice would corrupt the table).
    pub fn insert_connected(&self) {
        // SAFETY: live socket.  Only the socket's transport inserts it,
        // under the socket lock we hold, so it cannot be inserted between
        // the check and the insertion.
        unsafe {
            if !b::vsock_rs_h_in_connected_table(self.as_ptr()) {
                b::vsock_insert_connected(self.as_ptr());
            }
        }
    }
}

/// The delayed close of a socket (`vsk->close_work`).
pub trait CloseWork {
    /// Runs in process context with the socket locked and referenced;
    /// `running` can finish the work's bookkeeping early (see
    /// [`CloseWorkRunning::finish`]), else it is finished after `run`.
    fn run(vsk: &LockedSock, running: &CloseWorkRunning<'_>);
}

/// The close work of a socket, running: only the work itself has one.
///
/// While the work runs, `close_work_scheduled` stays set (so the work
/// cannot be scheduled again, nor cancelled by others); it is cleared when
/// the work function returns.  [`CloseWorkRunning::finish`] drops the
/// work's reference early, at most once.
///
/// # Invariants
///
/// Exists only inside [`close_work_fn`], for the socket whose work runs,
/// with its lock held; `dropped` tells whether the reference taken by
/// [`LockedSock::schedule_close_work`] was dropped already.
pub struct CloseWorkRunning<'a> {
    sock: &'a LockedSock,
    dropped: core::cell::Cell<bool>,
}

impl CloseWorkRunning<'_> {
    /// If the work's reference is still held: runs `f` and drops the
    /// reference (`virtio_transport_cancel_close_work` without
    /// `cancel_timeout`, from the work itself).
    pub fn finish(&self, f: impl FnOnce()) {
        if self.dropped.get() {
            return;
        }
        self.dropped.set(true);
        f();
        // SAFETY: the reference taken in `schedule_close_work` is held (not
        // dropped yet, invariant) and dropped once; the work function's own
        // reference keeps the socket alive.
        unsafe { b::vsock_rs_h_sock_put(self.sock.sk_ptr()) };
    }
}

/// The work function of `vsk->close_work` (`virtio_transport_close_timeout`).
///
/// # Safety
///
/// Called by the workqueue with `close_work.work` of a socket on which
/// [`LockedSock::schedule_close_work`] took a reference.
unsafe extern "C" fn close_work_fn<W: CloseWork>(work: *mut b::work_struct) {
    // SAFETY: the work is `close_work.work` of a socket on which
    // `schedule_close_work` took a reference, which is only dropped with
    // the socket locked: it is held when the work starts.
    let vsk = unsafe { VsockSock::from_raw(b::vsock_rs_h_close_work_vsk(work)) };
    // Our own reference: `run` may drop the work's.  The work's keeps the
    // count above zero.
    let Some(_ref) = vsk.try_get_ref() else {
        return;
    };
    let guard = vsk.lock();
    // INVARIANT: the work of this socket, running, with its lock held and
    // its reference not dropped yet.
    let running = CloseWorkRunning {
        sock: &guard,
        dropped: core::cell::Cell::new(false),
    };
    W::run(&guard, &running);
    // SAFETY: locked; the flag goes down as upstream's work leaves it (a
    // reference it still stands for is kept, as upstream keeps it).  The
    // work cannot have been scheduled again: the flag was set throughout.
    unsafe { (*guard.as_ptr()).close_work_scheduled = false };
}

/// A child socket just created for a connection request, not yet visible
/// to anybody else (`vsock_create_connected`): its transport is assigned
/// and it is queued for `accept()` through this type, once.
///
/// # Invariants
///
/// Holds the child's initial reference; until [`NewChild::enqueue_accept`]
/// consumes it, nothing but its owner can reach the socket.
pub struct NewChild(SockRef);

impl core::ops::Deref for NewChild {
    type Target = VsockSock;
    fn deref(&self) -> &VsockSock {
        &self.0
    }
}

impl NewChild {
    /// Locks the child under its locked listener.
    pub fn lock_nested(&mut self) -> ChildGuard<'_> {
        // SAFETY: live socket (we hold a reference).
        unsafe { b::lock_sock_nested(self.sk_ptr(), b::VRS_SINGLE_DEPTH_NESTING) };
        // INVARIANT: locked just above.
        ChildGuard(SockGuard {
            sock: &self.0,
            _not_send: PhantomData,
        })
    }

    /// `vsock_enqueue_accept(listener, child)`: the child becomes visible
    /// to `accept()` (the accept queue holds its own reference); the
    /// initial one stays with the socket until it is released.
    pub fn enqueue_accept(self, listener: &LockedSock) {
        // SAFETY: both sockets are live; the listener is locked
        // (invariant); the child is queued once, since this consumes it.
        unsafe { b::vsock_enqueue_accept(listener.sk_ptr(), self.sk_ptr()) };
        // The child keeps its initial reference until it is released.
        core::mem::forget(self.0);
    }
}

/// The lock of a [`NewChild`], held: its transport can be assigned.
///
/// # Invariants
///
/// Locks a [`NewChild`], mutably borrowed for `'a`, so no reference to the
/// child's transport state exists outside borrows of this guard.
pub struct ChildGuard<'a>(SockGuard<'a>);

impl core::ops::Deref for ChildGuard<'_> {
    type Target = LockedSock;
    fn deref(&self) -> &LockedSock {
        &self.0
    }
}

impl ChildGuard<'_> {
    /// `vsock_assign_transport(child, listener)`.  A new child has no
    /// transport, so nothing is released; the transport's `init` installs
    /// its state.  Taking `&mut self` ends every borrow of that state.
    pub fn assign_transport(&mut self, listener: &LockedSock) -> Result {
        // SAFETY: both sockets are live and locked; the child has no
        // transport state anybody could hold a reference to (borrows of it
        // go through `&self`, which `&mut self` excludes).
        let r = unsafe { b::vsock_assign_transport(self.as_ptr(), listener.as_ptr()) };
        if r < 0 {
            Err(Error::from_errno(r))
        } else {
            Ok(())
        }
    }
}

/// A counted reference to a socket (`sock_hold`/`sock_put`).
///
/// # Invariants
///
/// Holds one reference on the socket.
pub struct SockRef(NonNull<VsockSock>);

// SAFETY: socket references may be dropped from any thread.
unsafe impl Send for SockRef {}
// SAFETY: `VsockSock` is `Sync`.
unsafe impl Sync for SockRef {}

impl SockRef {
    /// Takes over a reference the caller holds.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `vsock_sock` and the caller owns one reference on it,
    /// which passes to the returned value.
    pub(crate) unsafe fn from_raw(ptr: *mut b::vsock_sock) -> Option<SockRef> {
        NonNull::new(ptr.cast::<VsockSock>()).map(SockRef)
    }
}

impl core::ops::Deref for SockRef {
    type Target = VsockSock;
    fn deref(&self) -> &VsockSock {
        // SAFETY: we hold a reference, so the socket is live.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for SockRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference (invariant).
        unsafe { b::vsock_rs_h_sock_put(self.0.as_ptr().cast()) };
    }
}

/// The socket lock, held (`lock_sock` ... `release_sock`).
///
/// # Invariants
///
/// `sock`'s lock is held by this context until the guard is dropped; the
/// guard stays in the context that locked (it is not `Send`).
pub struct SockGuard<'a> {
    sock: &'a VsockSock,
    _not_send: PhantomData<*mut ()>,
}

impl core::ops::Deref for SockGuard<'_> {
    type Target = LockedSock;
    fn deref(&self) -> &LockedSock {
        // SAFETY: live socket, locked while the guard exists (invariant).
        unsafe { LockedSock::from_raw(self.sock.as_ptr()) }
    }
}

impl Drop for SockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we took the lock in `lock`/`lock_nested`.
        unsafe { b::release_sock(self.sock.sk_ptr()) };
    }
}

/// Finds a socket by address pair in `net` (`vsock_find_connected_socket_net`
/// and then `vsock_find_bound_socket_net`).
/// `net` is the sender's namespace (`None`: any, as the guest driver).
pub fn find_socket(src: (u32, u32), dst: (u32, u32), net: Option<&Net>) -> Option<SockRef> {
    let mut s = b::sockaddr_vm::default();
    let mut d = b::sockaddr_vm::default();
    let net = super::net::raw(net);
    // SAFETY: local addresses; `net` is NULL or a live namespace (`Net`'s
    // invariant), which the lookups only read.
    unsafe {
        b::vsock_addr_init(&mut s, src.0, src.1);
        b::vsock_addr_init(&mut d, dst.0, dst.1);
        let mut sk = b::vsock_find_connected_socket_net(&mut s, &mut d, net);
        if sk.is_null() {
            sk = b::vsock_find_bound_socket_net(&mut d, net);
        }
        // The lookups return a held reference.
        SockRef::from_raw(sk.cast())
    }
}

/// Whether the current task is exiting (`PF_EXITING`).
pub fn current_exiting() -> bool {
    // SAFETY: reads `current->flags`.
    unsafe { b::vsock_rs_h_current_exiting() }
}
