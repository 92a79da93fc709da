// SPDX-License-Identifier: GPL-2.0

//! AF_VSOCK sockets as the transports see them.
//!
//! [`VsockSock`] borrows a `struct vsock_sock` that the AF_VSOCK core owns;
//! [`SockRef`] holds a reference (`sock_hold`); [`SockGuard`] holds the
//! socket lock (`lock_sock`).

use super::bindings as b;
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

    /// Sets the connection state (socket lock held by the caller).
    pub fn set_state(&self, st: State) {
        // SAFETY: live socket; byte write.
        unsafe {
            core::ptr::write_volatile(&raw mut (*self.sk()).__sk_common.skc_state, st.to_raw())
        };
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

    /// Sets `vsk->peer_shutdown`.
    pub fn set_peer_shutdown(&self, v: u32) {
        // SAFETY: live socket; WRITE_ONCE.
        unsafe { core::ptr::write_volatile(&raw mut (*self.as_ptr()).peer_shutdown, v) };
    }

    /// Sets `sk->sk_err` and reports it (`sk_error_report`).
    pub fn report_error(&self, err: i32) {
        // SAFETY: live socket; the socket lock is held by the caller.
        unsafe {
            (*self.sk()).sk_err = err;
            b::sk_error_report(self.sk());
        }
    }

    /// Sets `sk->sk_err` without reporting it.
    pub fn set_err(&self, err: i32) {
        // SAFETY: live socket; the socket lock is held by the caller.
        unsafe { (*self.sk()).sk_err = err };
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

    /// `vsock_data_ready()`: wakes readers once `SO_RCVLOWAT` is reached.
    pub fn data_ready(&self) {
        // SAFETY: live socket.
        unsafe { b::vsock_data_ready(self.sk()) };
    }

    /// Whether `SOCK_DONE` is set.
    pub fn is_done(&self) -> bool {
        // SAFETY: live socket.
        unsafe { b::vsock_rs_h_sock_flag(self.sk(), b::VRS_SOCK_DONE) }
    }

    /// Sets `SOCK_DONE`.
    pub fn set_done(&self) {
        // SAFETY: live socket; socket lock held by the caller.
        unsafe { b::vsock_rs_h_sock_set_flag(self.sk(), b::VRS_SOCK_DONE) };
    }

    /// Whether `SO_ZEROCOPY` is enabled.
    pub fn zerocopy_enabled(&self) -> bool {
        // SAFETY: live socket.
        unsafe { b::vsock_rs_h_sock_flag(self.sk(), b::VRS_SOCK_ZEROCOPY) }
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
    pub fn net(&self) -> *mut b::net {
        // `sock_net()`: `read_pnet(&sk->sk_net)`, a plain pointer with
        // CONFIG_NET_NS (required by the kernel config).
        // SAFETY: live socket; the netns outlives it.
        unsafe { (*self.sk()).__sk_common.skc_net.net }
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

    /// Sets the local CID.
    pub fn set_local_cid(&self, cid: u32) {
        // SAFETY: live socket; socket lock held by the caller.
        unsafe { (*self.as_ptr()).local_addr.svm_cid = cid };
    }

    /// `(cid, port)` of the remote address.
    pub fn remote_addr(&self) -> (u32, u32) {
        // SAFETY: live socket; addresses are stable under the socket lock.
        unsafe {
            let a = &(*self.as_ptr()).remote_addr;
            (a.svm_cid, a.svm_port)
        }
    }

    /// Sets both addresses of a new child socket (`vsock_addr_init`).
    pub fn init_addrs(&self, local: (u32, u32), remote: (u32, u32)) {
        // SAFETY: live socket, locked by the caller, not yet visible.
        unsafe {
            b::vsock_addr_init(&raw mut (*self.as_ptr()).local_addr, local.0, local.1);
            b::vsock_addr_init(&raw mut (*self.as_ptr()).remote_addr, remote.0, remote.1);
        }
    }

    /// `vsk->buffer_size`.
    pub fn buffer_size(&self) -> u64 {
        // SAFETY: live socket; socket lock held (or init).
        unsafe { (*self.as_ptr()).buffer_size }
    }

    /// Sets `vsk->buffer_size`.
    pub fn set_buffer_size(&self, v: u64) {
        // SAFETY: live socket; called from init or with the socket lock.
        unsafe { (*self.as_ptr()).buffer_size = v };
    }

    /// The socket's transport (`vsk->transport`), as a raw pointer.
    pub fn transport_ptr(&self) -> *const b::vsock_transport {
        // SAFETY: live socket.
        unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).transport) }
    }

    /// Marks the socket connected: `TCP_ESTABLISHED` and `SS_CONNECTED`.
    pub fn set_connected(&self) {
        self.set_state(State::Established);
        // SAFETY: live socket; a connecting socket has its `struct socket`.
        unsafe { b::vsock_rs_h_set_socket_connected(self.sk()) };
    }

    /// `vsock_insert_connected()`.
    pub fn insert_connected(&self) {
        // SAFETY: live socket.
        unsafe { b::vsock_insert_connected(self.as_ptr()) };
    }

    /// `vsock_remove_sock()`.
    pub fn remove_sock(&self) {
        // SAFETY: live socket.
        unsafe { b::vsock_remove_sock(self.as_ptr()) };
    }

    /// `vsock_linger()`.
    pub fn linger(&self) {
        // SAFETY: live socket, locked by the caller.
        unsafe { b::vsock_linger(self.sk()) };
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

    /// Takes a reference.
    pub fn get_ref(&self) -> SockRef {
        // SAFETY: live socket.
        unsafe { b::vsock_rs_h_sock_hold(self.sk()) };
        // INVARIANT: we took a reference just above.
        SockRef(NonNull::from(self))
    }

    /// Locks the socket (`lock_sock`).
    pub fn lock(&self) -> SockGuard<'_> {
        // SAFETY: live socket.
        unsafe { b::lock_sock_nested(self.sk(), 0) };
        SockGuard(self)
    }

    /// Locks a child socket under its locked listener.
    pub fn lock_nested(&self) -> SockGuard<'_> {
        // SAFETY: live socket.
        unsafe { b::lock_sock_nested(self.sk(), b::VRS_SINGLE_DEPTH_NESTING) };
        SockGuard(self)
    }

    /// The transport's private state (`vsk->trans`), if one of type `T`
    /// is installed.
    pub fn trans<T: Send + Sync + 'static>(&self) -> Option<&T> {
        // SAFETY: live socket.
        let p = unsafe { (*self.as_ptr()).trans }.cast::<Tagged<T>>();
        if p.is_null() {
            return None;
        }
        // SAFETY: a non-NULL `trans` is a `Tagged<_>` (type invariant),
        // whose `tag` field comes first at the same offset for every `T`
        // (`repr(C)`); it lives until `take_trans`, which only the socket's
        // destructor path calls.
        let tag = unsafe { (*p).tag };
        // SAFETY: as above; the tag says the data is a `T`.
        (tag == core::any::TypeId::of::<T>()).then(|| unsafe { &(*p).data })
    }

    /// Installs the transport's private state (from the `init` callback).
    pub fn set_trans<T: Send + Sync + 'static>(&self, data: impl PinInit<T, Error>) -> Result {
        let tagged = KBox::pin_init(
            try_pin_init!(Tagged {
                tag: core::any::TypeId::of::<T>(),
                data <- data,
            }? Error),
            GFP_KERNEL,
        )?;
        // SAFETY: the data is never moved out of its box again; it is
        // freed by `take_trans` as a `Pin<KBox<Tagged<T>>>`.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(tagged) });
        // SAFETY: live socket; init runs before any other callback, and
        // replaces no installed state (the core destructs the old one
        // before assigning a new transport).
        unsafe { (*self.as_ptr()).trans = raw.cast() };
        Ok(())
    }

    /// Removes and frees the transport's private state of type `T`.
    pub fn drop_trans<T: Send + Sync + 'static>(&self) {
        if self.trans::<T>().is_none() {
            return;
        }
        // SAFETY: live socket; destruct runs after every other callback.
        let p =
            unsafe { core::ptr::replace(&raw mut (*self.as_ptr()).trans, core::ptr::null_mut()) };
        // SAFETY: `trans::<T>` just checked that `p` is a `Tagged<T>` from
        // `set_trans::<T>`, allocated and pinned there.
        drop(unsafe { Pin::new_unchecked(KBox::from_raw(p.cast::<Tagged<T>>())) });
    }

    /// Schedules `vsk->close_work` to run `W::run` after `delay` jiffies;
    /// the work holds a socket reference until [`Self::finish_close_work`].
    pub fn schedule_close_work<W: CloseWork>(&self, delay: u64) {
        // SAFETY: live socket.  The reference taken here belongs to the
        // scheduled work; `close_work_scheduled` records that it exists.
        unsafe {
            b::vsock_rs_h_sock_hold(self.sk());
            (*self.as_ptr()).close_work_scheduled = true;
            b::vsock_rs_h_schedule_close_work(
                self.as_ptr(),
                Some(close_work_fn::<W>),
                delay as kernel::ffi::c_ulong,
            );
        }
    }

    /// If the close work is scheduled, and `cancel_timer` is false or the
    /// pending timer could be cancelled: marks it done, runs `f`, and drops
    /// the work's socket reference.  Returns whether it did.  Call with the
    /// socket lock held and a reference of the caller's own.
    pub fn finish_close_work(&self, cancel_timer: bool, f: impl FnOnce()) -> bool {
        if !self.close_work_scheduled() {
            return false;
        }
        // SAFETY: the work was initialised when scheduled.
        if cancel_timer && !unsafe { b::vsock_rs_h_cancel_close_work(self.as_ptr()) } {
            return false;
        }
        self.set_close_work_scheduled(false);
        f();
        // SAFETY: `close_work_scheduled` was set, so the work's reference
        // (taken in `schedule_close_work`) is still held; the caller holds
        // another one, so the socket stays alive.
        unsafe { b::vsock_rs_h_sock_put(self.sk()) };
        true
    }

    /// `vsk->close_work_scheduled`.
    pub fn close_work_scheduled(&self) -> bool {
        // SAFETY: live socket; socket lock held by the caller.
        unsafe { (*self.as_ptr()).close_work_scheduled }
    }

    /// Clears `vsk->close_work_scheduled` from the close work itself.
    pub fn set_close_work_scheduled(&self, v: bool) {
        // SAFETY: live socket; socket lock held by the caller.
        unsafe { (*self.as_ptr()).close_work_scheduled = v };
    }

    /// `vsock_create_connected()`: a child socket of this listener.
    pub fn create_connected(&self) -> Option<SockRef> {
        // SAFETY: live listener socket, locked by the caller.
        let child = unsafe { b::vsock_create_connected(self.sk()) };
        // INVARIANT: the new socket comes with one reference, now ours.
        NonNull::new(child.cast::<VsockSock>()).map(SockRef)
    }

    /// `vsock_assign_transport(child, listener)`.
    pub fn assign_transport(&self, listener: &VsockSock) -> Result {
        // SAFETY: both sockets are live; the child is locked.
        let r = unsafe { b::vsock_assign_transport(self.as_ptr(), listener.as_ptr()) };
        if r < 0 {
            Err(Error::from_errno(r))
        } else {
            Ok(())
        }
    }

    /// `vsock_enqueue_accept(listener, child)`.
    pub fn enqueue_accept(&self, child: &VsockSock) {
        // SAFETY: both sockets are live and locked.
        unsafe { b::vsock_enqueue_accept(self.sk(), child.sk()) };
    }
}

/// The delayed close of a socket (`vsk->close_work`).
pub trait CloseWork {
    /// Runs in process context, with a reference on the socket held by
    /// the work (see [`VsockSock::finish_close_work`]).
    fn run(vsk: &VsockSock);
}

/// The work function of `vsk->close_work`.
///
/// # Safety
///
/// Called by the workqueue with `close_work.work` of a socket on which
/// [`VsockSock::schedule_close_work`] took a reference.
unsafe extern "C" fn close_work_fn<W: CloseWork>(work: *mut b::work_struct) {
    // SAFETY: the work is `close_work.work` of a socket on which
    // `schedule_close_work` took a reference that lasts at least until the
    // work runs.
    let vsk = unsafe { VsockSock::from_raw(b::vsock_rs_h_close_work_vsk(work)) };
    W::run(vsk);
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

    /// Leaves the reference with the socket: a new child socket keeps its
    /// initial reference until it is released.
    pub fn keep(self) {
        core::mem::forget(self);
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
pub struct SockGuard<'a>(&'a VsockSock);

impl core::ops::Deref for SockGuard<'_> {
    type Target = VsockSock;
    fn deref(&self) -> &VsockSock {
        self.0
    }
}

impl Drop for SockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we took the lock in `lock`/`lock_nested`.
        unsafe { b::release_sock(self.0.sk_ptr()) };
    }
}

/// Finds a socket by address pair in `net` (`vsock_find_connected_socket_net`
/// and then `vsock_find_bound_socket_net`).
pub fn find_socket(src: (u32, u32), dst: (u32, u32), net: *mut b::net) -> Option<SockRef> {
    let mut s = b::sockaddr_vm::default();
    let mut d = b::sockaddr_vm::default();
    // SAFETY: local addresses; `net` is the namespace the caller got from
    // the transport (NULL allowed).
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
