// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the vhost core (`drivers/vhost/vhost.ko`) for the
//! host backend, and a misc character device with `poll` ([`misc`]).
//!
//! A [`Vhost`] is one open of the device node: a `struct vhost_dev` with
//! two virtqueues and one work item (allocated and initialised by the C
//! shims of `rust/helpers/vsock_rs_vhost_helpers.c`), plus the Rust data
//! of type `T`.  The vhost worker calls `T`'s [`VhostHandler`] callbacks;
//! virtqueues are used only there ([`Worker`], whose task runs with the
//! VMM's memory map), under their mutex, through a [`VqGuard`], and
//! a descriptor chain's buffers only through a [`VqIter`] that borrows the
//! guard, so that no other chain can replace them meanwhile.
//!
//! The device also carries the guest's CID and namespace and its link in
//! the module's CID table (upstream's `vhost_vsock_hash`): readers under
//! RCU ([`Vhost::lookup`]), writers under the table's mutex.

#![allow(dead_code, unreachable_pub)]

pub mod misc;

use crate::vsock::bindings as b;
use crate::vsock::net::Net;
use core::cell::Cell;
use core::marker::{PhantomData, PhantomPinned};
use core::ptr::NonNull;
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::types::Opaque;

/// The number of virtqueues of a [`Vhost`].
pub const NR_VQS: usize = 2;

/// What the vhost worker runs for a [`Vhost`] with data `Self`.
pub trait VhostHandler: Send + Sync + Sized + 'static {
    /// The guest kicked virtqueue `vq` (upstream's `handle_kick`).
    fn handle_kick(w: &Worker<'_, Self>, vq: usize);
    /// The device's work item ([`Vhost::work_queue`]) runs.
    fn handle_work(w: &Worker<'_, Self>);
}

/// The vhost worker of a [`Vhost`], running one of its callbacks.
///
/// The virtqueues are processed only there ([`Worker::start_vq`]): their
/// rings and buffers are user addresses of the VMM that owns the device,
/// which the user-copy functions resolve in the current task's memory map,
/// and only the device's workers run with that VMM's.  Elsewhere (a socket
/// call, another device's worker) the same addresses would be another
/// process's memory.
///
/// # Invariants
///
/// Exists only on the worker task of `dev`, for the duration of one of its
/// [`VhostHandler`] callbacks (hence `!Send`).
pub struct Worker<'a, T: VhostHandler> {
    dev: &'a Vhost<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<'a, T: VhostHandler> Worker<'a, T> {
    /// The device being served, as a worker may use it ([`Found`]).
    pub fn dev(&self) -> Found<'a, T> {
        // INVARIANT: live while the worker runs the callback, which `'a`
        // does not outlive.
        Found { dev: self.dev }
    }

    /// The start of every ring walk of upstream's handlers, and the only
    /// way to a virtqueue's rings: locks `vq` (`vq->mutex`), and if it is
    /// running (it has a backend, so its rings were checked by
    /// [`VqSetup::run`], and its ring metadata is accessible) disables its
    /// notifications ("avoid further vmexits, we're already processing the
    /// virtqueue") and returns the guard; `None` otherwise (the lock is
    /// dropped again), or if there is no such virtqueue.  The backend
    /// changes only under the vq mutex, which the guard holds.
    pub fn start_vq(&self, vq: usize) -> Option<VqGuard<'_, T>> {
        let mut g = VqGuard::lock(self.dev, vq)?;
        if !g.has_backend() || !g.meta_prefetch() {
            return None;
        }
        g.disable_notify();
        Some(g)
    }
}

/// A vhost device and its data.
///
/// # Invariants
///
/// `head.raw` is a live `struct vsock_rs_vhost` made by `vsock_rs_vh_new` with
/// the callbacks `kick_tramp::<T>` and `work_tramp::<T>`, owned by this
/// value and freed (workers stopped, unhashed after a grace period) in its
/// drop, before `data` is dropped; its owner is NULL or the address of
/// this (pinned) value; `head.ty` is `TypeId::of::<T>()`.
#[pin_data(PinnedDrop)]
#[repr(C)]
pub struct Vhost<T: VhostHandler> {
    /// First (`repr(C)`): what a table lookup reads before it knows `T`.
    head: Head,
    #[pin]
    data: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the C device is used from any thread under its own locks; `T` is
// `Send + Sync`.
unsafe impl<T: VhostHandler> Send for Vhost<T> {}
// SAFETY: as above.
unsafe impl<T: VhostHandler> Sync for Vhost<T> {}

/// The `handle_kick` of every virtqueue of a `Vhost<T>`.
///
/// # Safety
///
/// Called by the vhost worker (through the shim) with the non-NULL owner of
/// a `Vhost<T>`'s device, which stays valid while its workers run.
unsafe extern "C" fn kick_tramp<T: VhostHandler>(owner: *mut core::ffi::c_void, vq: u32) {
    // SAFETY: the owner is the live, pinned `Vhost<T>` (type invariant),
    // whose drop stops the workers before the memory goes.
    let dev = unsafe { &*owner.cast::<Vhost<T>>() };
    // INVARIANT: on the device's worker, for this callback.
    let w = Worker {
        dev,
        _not_send: PhantomData,
    };
    T::handle_kick(&w, vq as usize);
}

/// The work item of a `Vhost<T>`.
///
/// # Safety
///
/// As [`kick_tramp`].
unsafe extern "C" fn work_tramp<T: VhostHandler>(owner: *mut core::ffi::c_void) {
    // SAFETY: as in `kick_tramp`.
    let dev = unsafe { &*owner.cast::<Vhost<T>>() };
    // INVARIANT: on the device's worker, for this callback.
    let w = Worker {
        dev,
        _not_send: PhantomData,
    };
    T::handle_work(&w);
}

/// The part of a [`Vhost`] that does not depend on its data's type.
///
/// # Invariants
///
/// As [`Vhost`]'s: `raw` is the device the `Vhost` owns, `ty` the
/// `TypeId` of its data.
#[repr(C)]
struct Head {
    raw: NonNull<b::vsock_rs_vhost>,
    /// `TypeId` of the data (the CID table holds every `Vhost` of the
    /// module).
    ty: core::any::TypeId,
}

/// Frees a C device unless disarmed (the error path of [`Vhost::new`]).
///
/// # Invariants
///
/// Owns a device from `vsock_rs_vh_new` whose owner is NULL.
struct RawGuard(NonNull<b::vsock_rs_vhost>);

impl Drop for RawGuard {
    fn drop(&mut self) {
        // SAFETY: a device from `vsock_rs_vh_new` that nothing else owns
        // (its owner is still NULL, so no callback reaches Rust).
        unsafe { b::vsock_rs_vh_free(self.0.as_ptr()) };
    }
}

/// The virtqueue index `vq` as the shims take it, if it exists.
fn vq_index(vq: usize) -> Option<u32> {
    (vq < NR_VQS).then_some(vq as u32)
}

/// Converts a C `long`/`int` return to a result.
fn to_result_long(r: i64) -> Result<i64> {
    if r < 0 {
        Err(Error::from_errno(
            i32::try_from(r).unwrap_or(EINVAL.to_errno()),
        ))
    } else {
        Ok(r)
    }
}

impl<T: VhostHandler> Vhost<T> {
    /// A new device in the caller's network namespace (`current`'s, as
    /// upstream's open), with `data`: `vhost_dev_init(.., iov_limit,
    /// weight, byte_weight, use_worker = true, no IOTLB handler)`.
    pub fn new(
        data: impl PinInit<T, Error>,
        iov_limit: i32,
        weight: i32,
        byte_weight: i32,
    ) -> Result<Pin<KBox<Self>>> {
        // SAFETY: plain allocation; the callbacks run only once the owner
        // is set below.
        let raw = unsafe {
            b::vsock_rs_vh_new(
                Some(kick_tramp::<T>),
                Some(work_tramp::<T>),
                iov_limit,
                weight,
                byte_weight,
            )
        };
        let guard = RawGuard(NonNull::new(raw).ok_or(ENOMEM)?);
        let raw = guard.0;
        let this = KBox::pin_init(
            try_pin_init!(Vhost {
                head: Head {
                    raw,
                    ty: core::any::TypeId::of::<T>(),
                },
                data <- data,
                _pin: PhantomPinned,
            }? Error),
            GFP_KERNEL,
        )?;
        // The value owns the device from here on.
        core::mem::forget(guard);
        let owner = (&raw const *this).cast_mut().cast::<core::ffi::c_void>();
        // SAFETY: `raw` is live; INVARIANT: the owner is this pinned value.
        unsafe { b::vsock_rs_vh_set_owner(raw.as_ptr(), owner) };
        Ok(this)
    }

    fn raw(&self) -> *mut b::vsock_rs_vhost {
        self.head.raw.as_ptr()
    }

    /// The device's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// Locks the device (`dev->mutex`), as the vhost ioctls do.
    pub fn lock_dev(&self) -> DevGuard<'_, T> {
        // SAFETY: live device (invariant).
        unsafe { b::vsock_rs_vh_dev_lock(self.raw()) };
        // INVARIANT: locked just above, by this task.
        DevGuard {
            dev: self,
            _not_send: PhantomData,
        }
    }

    /// `vhost_dev_flush`: waits for queued work.  Only its owner, with no
    /// file operation running (upstream: release): the vhost core's flush
    /// walks the device's workers, which its ioctls may change, and a
    /// worker that flushed its own device would wait for itself.  Workers
    /// and table lookups see the device as a [`Found`], and cannot call it.
    pub fn flush(self: Pin<&mut Self>) {
        // SAFETY: live device; the exclusive reference rules out the ioctls
        // and the other file operations (they borrow the device from its
        // open file); workers may run meanwhile (the flush waits for them),
        // and table readers unless the device was unhashed, but they reach
        // neither the ioctls nor the device mutex (`Found`): they only
        // queue work, which the flush tolerates.  Their shared references
        // beside this `Pin<&mut>` are fine: `Vhost` is `!Unpin` (see its
        // `PinnedDrop`).
        unsafe { b::vsock_rs_vh_flush(self.raw()) };
    }

    /// `vhost_dev_stop`: stops the kick polls.  Only its owner, as
    /// [`Vhost::flush`]: it removes the polls from their wait queues
    /// without the vq mutexes, under which `VHOST_SET_VRING_KICK` starts
    /// and stops them.
    pub fn dev_stop(self: Pin<&mut Self>) {
        // SAFETY: live device; the exclusive reference rules out the ioctls,
        // which workers and table readers cannot reach (`Found`); they
        // only queue work (`poll_queue` does not touch a poll's wait
        // queue).  `vhost_dev_stop` ends with a flush, as `Vhost::flush`.
        unsafe { b::vsock_rs_vh_dev_stop(self.raw()) };
    }

    /// The features upstream's vsock backend offers (`VHOST_FEATURES`,
    /// `VIRTIO_F_ACCESS_PLATFORM`, `VIRTIO_VSOCK_F_SEQPACKET`).
    pub fn features() -> u64 {
        // SAFETY: returns a constant.
        unsafe { b::vsock_rs_vh_features() }
    }

    /// The backend features offered (`VHOST_BACKEND_F_IOTLB_MSG_V2`).
    pub fn backend_features() -> u64 {
        // SAFETY: returns a constant.
        unsafe { b::vsock_rs_vh_backend_features() }
    }

    /// `vhost_set_backend_features`.
    pub fn set_backend_features(&self, features: u64) {
        // SAFETY: live device; takes its own locks.
        unsafe { b::vsock_rs_vh_set_backend_features(self.raw(), features) };
    }

    /// `vhost_dev_ioctl`, then `vhost_vring_ioctl` for what it does not
    /// know, under the device mutex.  `arg` is a user address, which the
    /// vhost core only accesses with the user-copy functions.
    pub fn dev_ioctl(&self, cmd: u32, arg: usize) -> Result<i64> {
        // SAFETY: live device; `arg` is only used as a user pointer.
        to_result_long(unsafe { b::vsock_rs_vh_dev_ioctl(self.raw(), cmd, arg) } as i64)
    }

    /// `vhost_chr_read_iter`: the IOTLB messages for the VMM.
    pub fn chr_read(&self, to: &mut IovIterDest<'_>, nonblock: bool) -> Result<usize> {
        // SAFETY: live device; `to` is a valid destination iterator,
        // exclusively borrowed for the call.
        let r = unsafe { b::vsock_rs_vh_chr_read(self.raw(), to.as_raw().cast(), nonblock) };
        to_result_long(r as i64).map(|n| n as usize)
    }

    /// `vhost_chr_write_iter`: IOTLB updates from the VMM.
    pub fn chr_write(&self, from: &mut IovIterSource<'_>) -> Result<usize> {
        // SAFETY: live device; `from` is a valid source iterator.
        let r = unsafe { b::vsock_rs_vh_chr_write(self.raw(), from.as_raw().cast()) };
        to_result_long(r as i64).map(|n| n as usize)
    }

    /// The ring size of `vq` (`vq->num`), read without its mutex as
    /// upstream does for the replies throttle; 0 for no such virtqueue.
    pub fn vq_num(&self, vq: usize) -> u32 {
        match vq_index(vq) {
            // SAFETY: live device, existing virtqueue; a racy read.
            Some(i) => unsafe { b::vsock_rs_vh_vq_num(self.raw(), i) },
            None => 0,
        }
    }

    /// Whether `vq` has a backend, read without its mutex (upstream's
    /// `data_race(vhost_vq_get_backend())` in `send_pkt`).
    pub fn vq_has_backend_racy(&self, vq: usize) -> bool {
        match vq_index(vq) {
            // SAFETY: live device, existing virtqueue; a racy read.
            Some(i) => unsafe { b::vsock_rs_vh_vq_has_backend_racy(self.raw(), i) },
            None => false,
        }
    }

    /// `vhost_poll_queue(&vq->poll)`: runs `vq`'s kick handler.
    pub fn poll_queue(&self, vq: usize) {
        if let Some(i) = vq_index(vq) {
            // SAFETY: live device, existing virtqueue.
            unsafe { b::vsock_rs_vh_poll_queue(self.raw(), i) };
        }
    }

    /// `vhost_vq_work_queue(vq, work)`: queues the device's work item on
    /// `vq`'s worker (nothing before the owner is set).
    pub fn work_queue(&self, vq: usize) {
        if let Some(i) = vq_index(vq) {
            // SAFETY: live device, existing virtqueue.
            unsafe { b::vsock_rs_vh_work_queue(self.raw(), i) };
        }
    }

    /// `VHOST_VSOCK_SET_GUEST_CID`: `EINVAL` for reserved CIDs (up to the
    /// host's, `U32_MAX`, above 32 bits), `EADDRINUSE` for the CID of a
    /// G2H transport or of another device seen from our namespace.
    pub fn set_cid(&self, cid: u64) -> Result {
        // SAFETY: live device; takes the table's mutex.
        kernel::error::to_result(unsafe { b::vsock_rs_vh_set_cid(self.raw(), cid) })
    }

    /// Removes the device from the CID table and waits for a grace
    /// period: no [`Vhost::lookup`] finds it any more.
    pub fn unhash(&self) {
        // SAFETY: live device; takes the table's mutex; may sleep.
        unsafe { b::vsock_rs_vh_unhash(self.raw()) };
    }

    /// The guest's CID (0: none yet).
    pub fn guest_cid(&self) -> u32 {
        // SAFETY: live device; a READ_ONCE.
        unsafe { b::vsock_rs_vh_guest_cid(self.raw()) }
    }

    /// The namespace the device was opened in.
    pub fn net(&self) -> &Net {
        // SAFETY: the device holds a reference on its namespace until it is
        // freed, after `self`'s last borrow.
        unsafe { Net::from_raw(b::vsock_rs_vh_net(self.raw())) }
    }

    /// Calls `f` with the device of guest `cid` reachable from `net`
    /// (upstream's `vhost_vsock_get`), under `rcu_read_lock()`.
    /// Without a namespace, only global-mode devices are found.  `f` sees
    /// the device as a [`Found`], which offers only what does not sleep.
    pub fn lookup<R>(cid: u32, net: Option<&Net>, f: impl FnOnce(Option<Found<'_, T>>) -> R) -> R {
        let _rcu = rcu::read_lock();
        // SAFETY: under the RCU read lock; `net` is NULL or live.
        let h = unsafe { b::vsock_rs_vh_lookup(cid, crate::vsock::net::raw(net)) };
        let dev = if h.is_null() {
            None
        } else {
            // SAFETY: a hashed device, not freed before a grace period
            // (its drop unhashes, then waits).
            let owner = unsafe { b::vsock_rs_vh_owner(h) };
            if owner.is_null() {
                None
            } else {
                // SAFETY: the owner is a live `Vhost<_>` until a grace
                // period after its device is unhashed (invariant), which
                // starts with its `repr(C)` head, whatever its data.
                let head = unsafe { &*owner.cast::<Head>() };
                // The table holds the devices of every `Vhost<_>` of this
                // module: only those with data `T` are `Vhost<T>`.
                // INVARIANT: seen under the RCU read lock, which `_rcu`
                // holds until `f` returns.
                (head.ty == core::any::TypeId::of::<T>()).then(|| Found {
                    // SAFETY: as above, now of the right type.
                    dev: unsafe { &*owner.cast::<Self>() },
                })
            }
        };
        f(dev)
    }
}

/// A device found by [`Vhost::lookup`], valid for the RCU read-side
/// section of the lookup, or a [`Worker`]'s device ([`Worker::dev`]):
/// what may be done there, without sleeping (a sleep would end the RCU
/// section, and the device could be freed under us) and without the
/// device's ioctls or its mutex (from a worker they could run alongside
/// the release's `flush` and `dev_stop`, a kick can still queue the
/// worker between them, and would take the device mutex after a vq
/// mutex, against the ioctls' order).
///
/// # Invariants
///
/// `dev` is a hashed device seen under `rcu_read_lock()`, held for `'a`,
/// or the device of a worker running one of its callbacks for `'a`.
pub struct Found<'a, T: VhostHandler> {
    dev: &'a Vhost<T>,
}

impl<T: VhostHandler> Clone for Found<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: VhostHandler> Copy for Found<'_, T> {}

impl<'a, T: VhostHandler> Found<'a, T> {
    /// The device's data.
    pub fn data(&self) -> &'a T {
        self.dev.data()
    }

    /// See [`Vhost::vq_num`].
    pub fn vq_num(&self, vq: usize) -> u32 {
        self.dev.vq_num(vq)
    }

    /// See [`Vhost::vq_has_backend_racy`].
    pub fn vq_has_backend_racy(&self, vq: usize) -> bool {
        self.dev.vq_has_backend_racy(vq)
    }

    /// See [`Vhost::poll_queue`] (does not sleep).
    pub fn poll_queue(&self, vq: usize) {
        self.dev.poll_queue(vq)
    }

    /// See [`Vhost::work_queue`] (does not sleep).
    pub fn work_queue(&self, vq: usize) {
        self.dev.work_queue(vq)
    }

    /// See [`Vhost::guest_cid`].
    pub fn guest_cid(&self) -> u32 {
        self.dev.guest_cid()
    }

    /// See [`Vhost::net`].
    pub fn net(&self) -> &'a Net {
        self.dev.net()
    }
}

impl<T: VhostHandler> misc::PollCtx<'_, Vhost<T>> {
    /// `vhost_chr_poll` of the polled file's own device: its IOTLB
    /// message queue.
    pub fn chr_poll(&self) -> u32 {
        // SAFETY: live device, the data of the polled file, which stays
        // until the file's release and so outlives any wait registered
        // for the file; the file and poll table are those of the current
        // `poll` call (`PollCtx` invariant).
        unsafe {
            b::vsock_rs_vh_chr_poll(self.this().raw(), self.file().cast(), self.table().cast())
        }
    }
}

#[pinned_drop]
impl<T: VhostHandler> PinnedDrop for Vhost<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: we own the device (invariant): unhashed and its readers
        // gone, backends withdrawn, workers flushed and stopped, freed;
        // no callback runs after this, and `data` is dropped afterwards.
        // Until the workers stop they may still hold `&Vhost<T>` (kick and
        // work callbacks) while we hold this `Pin<&mut Self>`: `Vhost<T>`
        // is `!Unpin` (`PhantomPinned`), for which `&mut` carries no
        // uniqueness assumption, and we touch nothing through it but the
        // C device, which is shared under its own locks.
        unsafe { b::vsock_rs_vh_free(self.head.raw.as_ptr()) };
    }
}

/// What [`VqGuard::get_desc`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Desc {
    /// A descriptor chain: its head, `out` device-readable then `inn`
    /// device-writable buffers.
    Head {
        /// The head index, for [`VqGuard::add_used`].
        head: u32,
        /// Device-readable buffers.
        out: u32,
        /// Device-writable buffers.
        inn: u32,
    },
    /// The ring is empty (upstream's `head == vq->num`).
    Empty,
    /// The ring is broken (`head < 0`): the errno.
    Error(i32),
}

/// The device mutex (`dev->mutex`) of a [`Vhost`], held: what the vhost
/// core's setup paths (ioctls) need.  Virtqueues lock under it, as
/// upstream nests them.
///
/// # Invariants
///
/// Holds `dev->mutex` of `dev`, taken by the current task (hence `!Send`).
pub struct DevGuard<'a, T: VhostHandler> {
    dev: &'a Vhost<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<'a, T: VhostHandler> DevGuard<'a, T> {
    /// `vhost_dev_check_owner`: `EPERM` unless the caller's mm owns the
    /// device; on success, the proof ([`Owner`]) that ring accesses from
    /// this task reach the VMM's memory, while this guard is held.
    pub fn check_owner(&self) -> Result<Owner<'_, T>> {
        // SAFETY: we hold the device mutex (invariant).
        let r = unsafe { b::vsock_rs_vh_dev_check_owner(self.dev.raw()) };
        to_result_long(r as i64)?;
        // INVARIANT: checked just above for `dev`; the owner changes only
        // under the device mutex, which the borrowed guard holds, and this
        // task's mm only at exec, not within this call.
        Ok(Owner {
            dev: self.dev,
            _not_send: PhantomData,
        })
    }

    /// `vhost_log_access_ok`: the dirty log (if any) is writable.  It
    /// takes every vq mutex, so no [`VqSetup`] may be held (`&mut`).
    pub fn log_access_ok(&mut self) -> bool {
        // SAFETY: we hold the device mutex.
        unsafe { b::vsock_rs_vh_log_access_ok(self.dev.raw()) }
    }

    /// `vhost_init_device_iotlb`: translations through the VMM's IOTLB.
    pub fn init_device_iotlb(&mut self) -> Result {
        // SAFETY: we hold the device mutex; it takes the vq mutexes itself.
        kernel::error::to_result(unsafe { b::vsock_rs_vh_init_device_iotlb(self.dev.raw()) })
    }

    /// `vhost_clear_device_iotlb`: no IOTLB any more.
    pub fn clear_device_iotlb(&mut self) {
        // SAFETY: we hold the device mutex; it takes the vq mutexes itself.
        unsafe { b::vsock_rs_vh_clear_device_iotlb(self.dev.raw()) };
    }

    /// Locks virtqueue `vq` under the device mutex for its set-up;
    /// `None` if there is no such virtqueue.  The rings are not walked
    /// from here (only a [`Worker`] does), since the caller need not be
    /// the VMM whose memory they are in.
    pub fn lock_vq(&self, vq: usize) -> Option<VqSetup<'_, T>> {
        VqGuard::lock(self.dev, vq).map(|g| VqSetup { g })
    }
}

/// Proof that the current task is the owner of `dev`, whose mutex a
/// [`DevGuard`] holds: its mm is the VMM's, in which the rings are.
///
/// # Invariants
///
/// `vhost_dev_check_owner` succeeded for `dev` in the current task (hence
/// `!Send`) under the device mutex that the borrowed guard still holds.
pub struct Owner<'a, T: VhostHandler> {
    dev: &'a Vhost<T>,
    _not_send: PhantomData<*mut ()>,
}

/// A virtqueue locked under the device mutex ([`DevGuard::lock_vq`]), for
/// its set-up by the ioctls.
pub struct VqSetup<'a, T: VhostHandler> {
    g: VqGuard<'a, T>,
}

impl<T: VhostHandler> VqSetup<'_, T> {
    /// `vhost_vq_get_backend() != NULL`: the device is running.
    pub fn has_backend(&self) -> bool {
        self.g.has_backend()
    }

    /// Starts the virtqueue, upstream's per-queue step of
    /// `vhost_vsock_start`: `EFAULT` unless its rings (and log) are within
    /// user space (`vhost_vq_access_ok`; the vhost core checks ring
    /// addresses given while it is stopped only here, and its ring copies
    /// do not check them again); then, unless it runs already, gives it
    /// its backend and reads the used index in the VMM's memory
    /// (`vhost_vq_init_access`).  `EPERM` for another device's `owner`.
    /// If reading the used index fails, the backend is withdrawn again
    /// before the error is returned, so a virtqueue never runs without it.
    pub fn run(&mut self, owner: &Owner<'_, T>) -> Result {
        if !core::ptr::eq(owner.dev, self.g.dev) {
            return Err(EPERM);
        }
        // SAFETY: we hold the vq mutex (`VqGuard` invariant).
        if !unsafe { b::vsock_rs_vh_vq_access_ok(self.g.dev.raw(), self.g.vq) } {
            return Err(EFAULT);
        }
        if self.g.has_backend() {
            return Ok(());
        }
        // SAFETY: we hold the vq mutex; the rings were checked just above.
        unsafe { b::vsock_rs_vh_vq_set_running(self.g.dev.raw(), self.g.vq, true) };
        // SAFETY: we hold the vq mutex; the current mm is the owner's
        // (`Owner` invariant, for this device).
        let r = kernel::error::to_result(unsafe {
            b::vsock_rs_vh_vq_init_access(self.g.dev.raw(), self.g.vq)
        });
        if r.is_err() {
            self.withdraw();
        }
        r
    }

    /// Withdraws the virtqueue's backend (`vhost_vq_set_backend(vq,
    /// NULL)`): it stops.
    pub fn withdraw(&mut self) {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_vq_set_running(self.g.dev.raw(), self.g.vq, false) };
    }

    /// Sets the virtqueue's acked features (`vq->acked_features`).
    pub fn set_acked_features(&mut self, features: u64) {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_vq_set_acked_features(self.g.dev.raw(), self.g.vq, features) };
    }
}

impl<T: VhostHandler> Drop for DevGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: we hold the device mutex (invariant).
        unsafe { b::vsock_rs_vh_dev_unlock(self.dev.raw()) };
    }
}

/// A locked virtqueue of a [`Vhost`].
///
/// # Invariants
///
/// Holds `vq->mutex` of virtqueue `vq` (< [`NR_VQS`]) of `dev`, taken by
/// the current task (a kernel mutex is released by the task that took it,
/// hence `!Send`); `desc` is the `(out, in)` of the chain whose buffers are
/// in `vq->iov` now, and `lens` caches the `iov_length` of its
/// device-readable (index 0) and device-writable (index 1) buffers;
/// `notify_off` is true only while this guard has the virtqueue's
/// notifications disabled (`VRING_USED_F_NO_NOTIFY` set by its last
/// `vhost_disable_notify`, which `vhost_get_vq_desc` asserts).
pub struct VqGuard<'a, T: VhostHandler> {
    dev: &'a Vhost<T>,
    vq: u32,
    notify_off: bool,
    desc: Option<(u32, u32)>,
    lens: [Cell<Option<usize>>; 2],
    _not_send: PhantomData<*mut ()>,
}

impl<'a, T: VhostHandler> VqGuard<'a, T> {
    /// Locks virtqueue `vq` of `dev`; `None` if there is no such
    /// virtqueue.
    fn lock(dev: &'a Vhost<T>, vq: usize) -> Option<Self> {
        let vq = vq_index(vq)?;
        // SAFETY: live device, existing virtqueue.
        unsafe { b::vsock_rs_vh_vq_lock(dev.raw(), vq) };
        // INVARIANT: locked just above, by this task.
        Some(VqGuard {
            dev,
            vq,
            notify_off: false,
            desc: None,
            lens: [const { Cell::new(None) }; 2],
            _not_send: PhantomData,
        })
    }

    /// `vhost_vq_get_backend() != NULL`: the device is running.
    pub fn has_backend(&self) -> bool {
        // SAFETY: we hold the vq mutex (invariant).
        unsafe { b::vsock_rs_vh_vq_has_backend(self.dev.raw(), self.vq) }
    }

    /// `vq_meta_prefetch`: the ring's metadata is accessible.
    pub fn meta_prefetch(&mut self) -> bool {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_vq_meta_prefetch(self.dev.raw(), self.vq) }
    }

    /// `vhost_disable_notify`.
    pub fn disable_notify(&mut self) {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_disable_notify(self.dev.raw(), self.vq) };
        // INVARIANT: `VRING_USED_F_NO_NOTIFY` is set now (with or without
        // the event index, `vhost_disable_notify` sets it in `used_flags`).
        self.notify_off = true;
    }

    /// `vhost_enable_notify`: true if buffers arrived meanwhile.  Until
    /// the next [`VqGuard::disable_notify`], [`VqGuard::get_desc`] reads
    /// no chain.
    pub fn enable_notify(&mut self) -> bool {
        // INVARIANT: notifications are on from here.
        self.notify_off = false;
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_enable_notify(self.dev.raw(), self.vq) }
    }

    /// `vhost_get_vq_desc` into the virtqueue's iovec array.  With the
    /// notifications on (after [`VqGuard::enable_notify`]), where the vhost
    /// core would `BUG()`, `Desc::Error(-EINVAL)` without reading.
    pub fn get_desc(&mut self) -> Desc {
        let (mut out, mut inn) = (0u32, 0u32);
        self.desc = None;
        self.lens = [const { Cell::new(None) }; 2];
        if !self.notify_off {
            return Desc::Error(EINVAL.to_errno());
        }
        // SAFETY: we hold the vq mutex of a running virtqueue (only
        // `Worker::start_vq` makes a guard with `notify_off`), whose rings
        // `VqSetup::run` checked; its notifications are off (invariant);
        // `out` and `inn` are valid.
        let head = unsafe { b::vsock_rs_vh_get_desc(self.dev.raw(), self.vq, &mut out, &mut inn) };
        if head == ENOSPC.to_errno() {
            return Desc::Empty;
        }
        if head < 0 {
            return Desc::Error(head);
        }
        // INVARIANT: `vq->iov` now holds this chain (at most its size).
        self.desc = Some((out, inn));
        Desc::Head {
            head: head as u32,
            out,
            inn,
        }
    }

    /// `iov_length` of the device-readable (`writable == false`) or
    /// device-writable buffers of the last chain; 0 without one.
    pub fn len(&self, writable: bool) -> usize {
        let Some((out, inn)) = self.desc else {
            return 0;
        };
        let cached = &self.lens[usize::from(writable)];
        if let Some(len) = cached.get() {
            return len;
        }
        let (start, count) = if writable { (out, inn) } else { (0, out) };
        // SAFETY: we hold the vq mutex; `start + count` entries were
        // filled by the last `get_desc` (invariant).
        let len = unsafe { b::vsock_rs_vh_iov_length(self.dev.raw(), self.vq, start, count) };
        // INVARIANT: the length of the chain's buffers, until the next
        // `get_desc`.
        cached.set(Some(len));
        len
    }

    fn iter(&mut self, writable: bool) -> Option<VqIter<'_>> {
        let (out, inn) = self.desc?;
        let (start, count) = if writable { (out, inn) } else { (0, out) };
        let len = self.len(writable);
        let it = VqIter {
            iter: Opaque::uninit(),
            _borrow: PhantomData,
        };
        // SAFETY: we hold the vq mutex; the entries were filled by the last
        // `get_desc`, and the iterator borrows the guard, so they stay put.
        unsafe {
            b::vsock_rs_vh_iter_init(
                it.iter.get().cast(),
                self.dev.raw(),
                self.vq,
                writable,
                start,
                count,
                len,
            )
        };
        Some(it)
    }

    /// An iterator over the device-readable buffers of the last chain (the
    /// guest's data); `None` without a chain.
    pub fn out_iter(&mut self) -> Option<VqIter<'_>> {
        self.iter(false)
    }

    /// An iterator over the device-writable buffers of the last chain.
    pub fn in_iter(&mut self) -> Option<VqIter<'_>> {
        self.iter(true)
    }

    /// `vhost_add_used(vq, head, len)`.
    pub fn add_used(&mut self, head: u32, len: u32) {
        // SAFETY: we hold the vq mutex; the head is only written to the
        // used ring (guest memory, through the user-copy functions).
        unsafe { b::vsock_rs_vh_add_used(self.dev.raw(), self.vq, head, len) };
    }

    /// `vhost_signal`.
    pub fn signal(&mut self) {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_signal(self.dev.raw(), self.vq) };
    }

    /// `vhost_exceeds_weight(vq, pkts, total_len)`: requeues the handler
    /// and returns true once over the device's weights.
    pub fn exceeds_weight(&mut self, pkts: i32, total_len: i32) -> bool {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_exceeds_weight(self.dev.raw(), self.vq, pkts, total_len) }
    }

    /// `vq_err`: signals the virtqueue's error eventfd, if any.
    pub fn vq_err(&mut self) {
        // SAFETY: we hold the vq mutex.
        unsafe { b::vsock_rs_vh_vq_err(self.dev.raw(), self.vq) };
    }
}

impl<T: VhostHandler> Drop for VqGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: we hold the vq mutex (invariant).
        unsafe { b::vsock_rs_vh_vq_unlock(self.dev.raw(), self.vq) };
    }
}

/// An `iov_iter` over buffers of a descriptor chain (user addresses of the
/// VMM, which the vhost worker reaches through the owner's mm).
///
/// # Invariants
///
/// `iter` was initialised over `vq->iov` entries of a locked virtqueue
/// that stay unchanged for `'a`.
pub struct VqIter<'a> {
    iter: Opaque<kernel::bindings::iov_iter>,
    _borrow: PhantomData<&'a mut ()>,
}

impl VqIter<'_> {
    /// As a source (device-readable buffers); `None` for a destination.
    pub fn as_source(&mut self) -> Option<&mut IovIterSource<'_>> {
        let p = self.iter.get();
        // SAFETY: initialised (invariant).
        let dir = unsafe { (*p).data_source };
        let source = u32::from(dir) == kernel::bindings::ITER_SOURCE;
        // SAFETY: a valid source iterator over memory that stays put while
        // `self` is borrowed.
        source.then(|| unsafe { IovIterSource::from_raw(p) })
    }

    /// As a destination (device-writable buffers); `None` for a source.
    pub fn as_dest(&mut self) -> Option<&mut IovIterDest<'_>> {
        let p = self.iter.get();
        // SAFETY: initialised (invariant).
        let dir = unsafe { (*p).data_source };
        // SAFETY: as above, a destination.
        (u32::from(dir) == kernel::bindings::ITER_DEST).then(|| unsafe { IovIterDest::from_raw(p) })
    }
}
