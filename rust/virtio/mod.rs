// SPDX-License-Identifier: GPL-2.0

//! Virtio drivers in safe Rust: registration, devices, virtqueues.
//!
//! C headers: [`include/linux/virtio.h`](srctree/include/linux/virtio.h),
//! [`include/linux/virtio_config.h`](srctree/include/linux/virtio_config.h).
//!
//! A driver implements [`Driver`]: its per-device data holds one
//! [`VirtQueue`] per device queue.  The abstraction owns the device's life
//! cycle, in the order every virtio driver must follow:
//!
//! - probe and restore: the virtqueues are found and attached to the
//!   driver's queues, the driver reads its configuration, the device is
//!   set `DRIVER_OK`, then the driver starts (posts buffers, publishes);
//! - remove and freeze: the driver stops, every queue is halted under its
//!   lock (from then on [`QueueGuard::vq`] is `None`), the device is reset,
//!   the buffers it still held are detached and dropped, and the
//!   virtqueues are deleted.
//!
//! A virtqueue is only reachable through its queue's lock, and only while
//! it is attached, so no safe code can touch a virtqueue that was deleted
//! or a device that was removed.  Buffers are [`Token`]s: the queue owns
//! each token from the moment it is added until the device returns it.

#![allow(unreachable_pub)]

use crate::vsock::bindings as b;
use crate::vsock::proto::hdr::HDR_LEN;
use crate::vsock::skb::SkbBox;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::device_id::RawDeviceId;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::{Mutex, MutexGuard};
use kernel::types::Opaque;

/// The most queues a driver may have.
pub const MAX_QUEUES: usize = 8;

/// Scatter-gather entries per buffer: a header and the pages of a
/// zerocopy packet (`MAX_SKB_FRAGS + 1`, as upstream's `out_sgs`).
pub const MAX_SGS: usize = b::VRS_MAX_SKB_FRAGS as usize + 1;

/// A vsock header's size.
const HDR: u32 = HDR_LEN as u32;

/// A virtio device.
///
/// # Invariants
///
/// A `&Device` is only handed out while the device is bound to the driver
/// and its virtqueues are attached (during a driver callback, or under
/// the lock of an attached queue).
#[repr(transparent)]
pub struct Device(Opaque<b::virtio_device>);

impl Device {
    /// # Safety
    ///
    /// `ptr` is a live virtio device for `'a`, as per the type invariants.
    unsafe fn from_raw<'a>(ptr: *mut b::virtio_device) -> &'a Device {
        // SAFETY: `Device` is a transparent wrapper; the caller guarantees
        // validity for `'a`.
        unsafe { &*ptr.cast::<Device>() }
    }

    fn as_ptr(&self) -> *mut b::virtio_device {
        self.0.get()
    }

    /// Whether feature `bit` was negotiated.
    pub fn has_feature(&self, bit: u32) -> bool {
        // SAFETY: live device (invariant).
        unsafe { b::vsock_rs_v_has_feature(self.as_ptr(), bit) }
    }

    /// Reads the device's configuration space as `C`.
    pub fn read_config<C: ConfigSpace>(&self) -> C {
        let mut c = C::default();
        // SAFETY: live device (invariant); `C` is plain data, written in
        // full, and its size is within the config space of the devices
        // that have it (`ConfigSpace`).
        unsafe {
            b::vsock_rs_v_cread_bytes(
                self.as_ptr(),
                0,
                (&raw mut c).cast(),
                core::mem::size_of::<C>(),
            )
        };
        c
    }
}

/// A device's configuration space layout.
///
/// # Safety
///
/// Every bit pattern is a valid `Self`, and every device a driver reading
/// it binds to has at least `size_of::<Self>()` bytes of configuration.
pub unsafe trait ConfigSpace: Default {}

// SAFETY: `struct virtio_vsock_config` is one `__le64` (any bits); every
// vsock device has it (virtio 1.2, 5.10.4).
unsafe impl ConfigSpace for b::virtio_vsock_config {}

/// An entry of a virtio driver's id table (`struct virtio_device_id`).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct DeviceId(b::virtio_device_id);

impl DeviceId {
    /// Matches devices of type `device` from any vendor.
    pub const fn new(device: u32) -> Self {
        DeviceId(b::virtio_device_id {
            device,
            vendor: b::VRS_VIRTIO_DEV_ANY_ID,
        })
    }
}

// SAFETY: `DeviceId` is a transparent wrapper of `virtio_device_id`, which
// has no index field.
unsafe impl RawDeviceId for DeviceId {
    type RawType = b::virtio_device_id;
}

/// The id table of a virtio driver, with its module alias for modpost.
#[macro_export]
macro_rules! virtio_device_table {
    ($table:ident, $module_table:ident, [$($dev:expr),+ $(,)?]) => {
        const $table: kernel::device_id::IdArray<
            $crate::virtio::DeviceId,
            (),
            { [$($dev),+].len() },
        > = kernel::device_id::IdArray::new_without_index([
            $(($crate::virtio::DeviceId::new($dev), ())),+
        ]);
        kernel::module_device_table!("virtio", $module_table, $table);
    };
}

/// A virtio driver.
///
/// The driver's per-device data is created at probe and dropped at
/// removal (after the device is reset and its virtqueues deleted); it
/// survives freeze and restore.  Every callback gets the data; those that
/// run while the virtqueues are attached also get the device.
pub trait Driver: Sized + 'static {
    /// The per-device data.
    type Data: Send + Sync;
    /// The driver's ids (see [`virtio_device_table!`]).
    const ID_TABLE: &'static dyn kernel::device_id::IdTable<DeviceId, ()>;
    /// The feature bits the driver supports.
    const FEATURES: &'static [u32];
    /// The names of the device's virtqueues, in its order (at most
    /// [`MAX_QUEUES`]).
    const QUEUES: &'static [&'static CStr];

    /// A new device: the data, with its queues not attached yet.
    fn probe(dev: &Device) -> Result<Pin<KBox<Self::Data>>>;
    /// The queue for virtqueue `index` of [`Self::QUEUES`].  It must be
    /// a queue of `data` (it is attached, halted and detached there).
    fn queue(data: &Self::Data, index: usize) -> &dyn AnyQueue;
    /// The virtqueues are attached; the device is not `DRIVER_OK` yet:
    /// read the configuration.
    fn configure(data: &Self::Data, dev: &Device);
    /// The device is `DRIVER_OK`: post buffers, publish.  On error the
    /// device is stopped again (without [`Self::stop`]).
    fn start(data: &Self::Data, dev: &Device) -> Result;
    /// The device is about to be reset (removal or freeze): withdraw it.
    fn stop(data: &Self::Data, dev: &Device);
    /// The device was reset and its virtqueues deleted; `removed` when it
    /// goes away for good.
    fn stopped(data: &Self::Data, removed: bool);
    /// Virtqueue `index` has used buffers.  Runs in interrupt context.
    fn vq_done(data: &Self::Data, index: usize);
}

/// What the abstraction does with a driver's queue.  Implemented by
/// [`VirtQueue`] only.
pub trait AnyQueue: Send + Sync + private::Sealed {}

mod private {
    use super::*;

    pub trait Sealed {
        /// Attaches virtqueue `vq` of `vdev` and lets the queue run.
        ///
        /// # Safety
        ///
        /// `vq` is a live virtqueue of `vdev` until the matching
        /// [`Sealed::detach`]; the queue stays where it is until then.
        unsafe fn attach(&self, vdev: *mut b::virtio_device, vq: *mut b::virtqueue);
        /// Stops the queue: [`QueueGuard::vq`] is `None` from now on.
        fn halt(&self);
        /// After the device was reset: drops the buffers the device still
        /// held and forgets the virtqueue, which may be deleted next.
        fn detach(&self);
    }
}

/// A buffer the device reads or writes: the queue owns it while it is on
/// the virtqueue.
///
/// # Safety
///
/// Only `from_ptr` turns the pointer `into_ptr` gives back into the
/// value; between the two, the memory `sgs` describes stays valid and in
/// place, and nothing else accesses what the device may write.
pub unsafe trait Token: Send + Sized {
    /// Gives up the buffer to the queue.
    fn into_ptr(self) -> NonNull<c_void>;
    /// Takes the buffer back.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Token::into_ptr`] of this type and is not used
    /// again.
    unsafe fn from_ptr(ptr: NonNull<c_void>) -> Self;
    /// Fills `sgs` with the buffer's memory; returns how many entries.
    fn sgs(&mut self, sgs: &mut [b::scatterlist; MAX_SGS]) -> Result<usize>;
}

/// An all-zero scatter-gather entry (what `sg_init_table` starts from).
const fn zeroed_sg() -> b::scatterlist {
    // SAFETY: all-zero is a valid `scatterlist` (no page, no length).
    unsafe { core::mem::zeroed() }
}

/// How an allocation inside the virtio core may wait.
#[derive(Clone, Copy)]
pub enum Gfp {
    /// `GFP_KERNEL`: may sleep.
    Kernel,
    /// `GFP_ATOMIC`: must not sleep (under RCU or a spinlock).
    Atomic,
}

impl Gfp {
    fn raw(self) -> b::gfp_t {
        match self {
            Gfp::Kernel => kernel::bindings::GFP_KERNEL,
            Gfp::Atomic => kernel::bindings::GFP_ATOMIC,
        }
    }
}

/// The state of a [`VirtQueue`] under its lock.
///
/// # Invariants
///
/// `vq` is NULL or a live virtqueue of the live device `vdev` (attached
/// and not yet detached); `running` implies it is non-NULL.
pub struct QueueInner<S> {
    vq: *mut b::virtqueue,
    vdev: *mut b::virtio_device,
    running: bool,
    sgs: [b::scatterlist; MAX_SGS],
    state: S,
}

/// A driver's virtqueue with tokens `T` and the driver's state `S` that
/// goes with it (the two are protected by one lock, as in upstream's
/// drivers: `tx_lock`, `rx_lock`, ...).
#[pin_data]
pub struct VirtQueue<T: Token, S> {
    #[pin]
    inner: Mutex<QueueInner<S>>,
    _t: PhantomData<fn(T) -> T>,
}

// SAFETY: the raw pointers in `QueueInner` are only used under the lock,
// and the virtqueue functions may be called from any thread; tokens are
// `Send`.
unsafe impl<S: Send> Send for QueueInner<S> {}

impl<T: Token, S: Send + Unpin> VirtQueue<T, S> {
    /// A queue, not attached.
    pub fn new(state: S, name: &'static CStr, key: Pin<&'static kernel::sync::LockClassKey>) -> impl PinInit<Self> {
        pin_init!(VirtQueue {
            inner <- Mutex::new(
                QueueInner {
                    vq: core::ptr::null_mut(),
                    vdev: core::ptr::null_mut(),
                    running: false,
                    sgs: [const { zeroed_sg() }; MAX_SGS],
                    state,
                },
                name,
                key,
            ),
            _t: PhantomData,
        })
    }

    /// Locks the queue if it is free (does not sleep).
    pub fn try_lock(&self) -> Option<QueueGuard<'_, T, S>> {
        Some(QueueGuard {
            g: self.inner.try_lock()?,
            _t: PhantomData,
        })
    }

    /// Locks the queue.
    pub fn lock(&self) -> QueueGuard<'_, T, S> {
        QueueGuard {
            g: self.inner.lock(),
            _t: PhantomData,
        }
    }
}

/// Creates a [`VirtQueue`] with a lock class of its own.
#[macro_export]
macro_rules! new_virtqueue {
    ($state:expr, $name:literal) => {
        $crate::virtio::VirtQueue::new($state, kernel::c_str!($name), kernel::static_lock_class!())
    };
}

impl<T: Token, S: Send + Unpin> AnyQueue for VirtQueue<T, S> {}

impl<T: Token, S: Send + Unpin> private::Sealed for VirtQueue<T, S> {
    unsafe fn attach(&self, vdev: *mut b::virtio_device, vq: *mut b::virtqueue) {
        let mut g = self.inner.lock();
        // INVARIANT: the caller guarantees `vq` is live until `detach`.
        g.vq = vq;
        g.vdev = vdev;
        g.running = true;
    }

    fn halt(&self) {
        self.inner.lock().running = false;
    }

    fn detach(&self) {
        let mut g = self.inner.lock();
        g.running = false;
        if g.vq.is_null() {
            return;
        }
        // SAFETY: attached virtqueue of a device that was reset: the
        // device uses none of its buffers any more.
        while let Some(p) = NonNull::new(unsafe { b::virtqueue_detach_unused_buf(g.vq) }) {
            // SAFETY: every buffer on this queue came from `T::into_ptr`.
            drop(unsafe { T::from_ptr(p) });
        }
        // INVARIANT: NULL from here on; the virtqueue may now be deleted.
        g.vq = core::ptr::null_mut();
        g.vdev = core::ptr::null_mut();
    }
}

/// A locked [`VirtQueue`].
pub struct QueueGuard<'a, T: Token, S> {
    g: MutexGuard<'a, QueueInner<S>>,
    _t: PhantomData<fn(T) -> T>,
}

impl<'a, T: Token, S: Unpin> QueueGuard<'a, T, S> {
    /// The driver's state of this queue.
    pub fn state(&mut self) -> &mut S {
        &mut self.g.state
    }

    /// The virtqueue while the queue runs, and the driver's state.
    pub fn parts(&mut self) -> (Option<Vq<'_, T>>, &mut S) {
        let inner = &mut *self.g;
        let vq = if inner.running {
            Some(Vq {
                vq: inner.vq,
                vdev: inner.vdev,
                sgs: &mut inner.sgs,
                _t: PhantomData,
            })
        } else {
            None
        };
        (vq, &mut inner.state)
    }

    /// The virtqueue while the queue runs.
    pub fn vq(&mut self) -> Option<Vq<'_, T>> {
        self.parts().0
    }
}

/// A running virtqueue, borrowed from its locked queue.
///
/// # Invariants
///
/// `vq` is a live virtqueue of the live device `vdev` for `'a`, and the
/// queue's lock is held for `'a`.
pub struct Vq<'a, T: Token> {
    vq: *mut b::virtqueue,
    vdev: *mut b::virtio_device,
    sgs: &'a mut [b::scatterlist; MAX_SGS],
    _t: PhantomData<fn(T) -> T>,
}

impl<T: Token> Vq<'_, T> {
    /// The device.
    pub fn device(&self) -> &Device {
        // SAFETY: live while the queue is attached (invariant).
        unsafe { Device::from_raw(self.vdev) }
    }

    fn add(&mut self, mut token: T, out: bool, gfp: Gfp) -> Result<(), (Error, T)> {
        match token.sgs(self.sgs) {
            Ok(n) if n > 0 && n <= MAX_SGS => {}
            Ok(_) => return Err((EINVAL, token)),
            Err(e) => return Err((e, token)),
        }
        // The entries form one list (the token marked its end).
        let mut list: *mut b::scatterlist = &mut self.sgs[0];
        let (outs, ins) = if out { (1, 0) } else { (0, 1) };
        let data = token.into_ptr();
        // SAFETY: live virtqueue under its lock (invariant); `list` is an
        // initialised scatter-gather list describing memory the token
        // owns, which stays valid until the device returns it (`Token`).
        let r = unsafe {
            b::virtqueue_add_sgs(self.vq, &mut list, outs, ins, data.as_ptr(), gfp.raw())
        };
        if r < 0 {
            // SAFETY: the queue did not take the token; `data` came from
            // `into_ptr` just above.
            return Err((Error::from_errno(r), unsafe { T::from_ptr(data) }));
        }
        Ok(())
    }

    /// Adds a buffer the device reads.  On failure (usually: the ring is
    /// full) the token comes back.
    pub fn add_outbuf(&mut self, token: T, gfp: Gfp) -> Result<(), (Error, T)> {
        self.add(token, true, gfp)
    }

    /// Adds a buffer the device writes.
    pub fn add_inbuf(&mut self, token: T, gfp: Gfp) -> Result<(), (Error, T)> {
        self.add(token, false, gfp)
    }

    /// Notifies the device of new buffers (if it wants to be).
    pub fn kick(&mut self) -> bool {
        // SAFETY: live virtqueue under its lock (invariant).
        unsafe { b::virtqueue_kick(self.vq) }
    }

    /// A buffer the device is done with, and how many bytes it wrote.
    pub fn get_buf(&mut self) -> Option<(T, u32)> {
        let mut len = 0u32;
        // SAFETY: live virtqueue under its lock (invariant).
        let p = NonNull::new(unsafe { b::virtqueue_get_buf(self.vq, &mut len) })?;
        // SAFETY: every buffer on this queue came from `T::into_ptr`, and
        // the device returns each once.
        Some((unsafe { T::from_ptr(p) }, len))
    }

    /// Disables used-buffer callbacks (a hint).
    pub fn disable_cb(&mut self) {
        // SAFETY: live virtqueue under its lock (invariant).
        unsafe { b::virtqueue_disable_cb(self.vq) }
    }

    /// Enables used-buffer callbacks; `false` if buffers were used in the
    /// meantime (process them, then try again).
    pub fn enable_cb(&mut self) -> bool {
        // SAFETY: live virtqueue under its lock (invariant).
        unsafe { b::virtqueue_enable_cb(self.vq) }
    }

    /// The ring size.
    pub fn vring_size(&self) -> u32 {
        // SAFETY: live virtqueue (invariant).
        unsafe { b::virtqueue_get_vring_size(self.vq) }
    }

    /// Free descriptors.
    pub fn num_free(&self) -> u32 {
        // SAFETY: live virtqueue (invariant).
        unsafe { b::vsock_rs_v_vq_num_free(self.vq) }
    }

    /// The most descriptors the ring may have.
    pub fn num_max(&self) -> u32 {
        // SAFETY: live virtqueue (invariant).
        unsafe { b::vsock_rs_v_vq_num_max(self.vq) }
    }
}

/// A vsock packet the device reads: the header, then its payload (linear,
/// or the pages of a zerocopy skb).
pub struct OutPkt(pub SkbBox);

// SAFETY: the skb is owned by the token between `into_ptr` and
// `from_ptr`; its header, data and frag pages stay allocated while it
// lives, and the device only reads them.
unsafe impl Token for OutPkt {
    fn into_ptr(self) -> NonNull<c_void> {
        self.0.into_nonnull().cast()
    }

    unsafe fn from_ptr(ptr: NonNull<c_void>) -> Self {
        // SAFETY: `ptr` came from `into_ptr`: an owned virtio-vsock skb.
        OutPkt(unsafe { SkbBox::from_nonnull(ptr.cast()) })
    }

    fn sgs(&mut self, sgs: &mut [b::scatterlist; MAX_SGS]) -> Result<usize> {
        // SAFETY: live skb we own; `sgs` has `MAX_SGS` entries.
        let n = unsafe {
            b::vsock_rs_v_skb_out_sgs(self.0.as_ptr(), sgs.as_mut_ptr(), MAX_SGS as u32)
        };
        usize::try_from(n).map_err(|_| Error::from_errno(n))
    }
}

/// A receive buffer: a linear vsock skb whose header and payload room the
/// device fills, up to the end of its buffer.
///
/// # Invariants
///
/// The skb is linear, holds no payload yet, and its buffer
/// (`skb_end_pointer - head`) holds more than a header.
pub struct InBuf(SkbBox);

impl InBuf {
    /// A buffer of at least `len` bytes, header included (upstream's
    /// `virtio_vsock_alloc_linear_skb(len)`; with upstream's sizes, the
    /// buffer is exactly `len` bytes).
    pub fn alloc(len: u32) -> Result<InBuf> {
        let payload = len.checked_sub(HDR).filter(|p| *p > 0).ok_or(EINVAL)?;
        let mut skb = SkbBox::alloc(payload, true)?;
        // The header is zeroed, as upstream does, so that nothing stale is
        // read if the device writes less than a header.
        skb.set_hdr(&Default::default());
        // INVARIANT: a new linear skb with `len` bytes of room, more than
        // a header.
        Ok(InBuf(skb))
    }

    /// The bytes the device may write, header included.
    pub fn len(&self) -> u32 {
        // SAFETY: live skb we own.
        unsafe { b::vsock_rs_v_skb_capacity(self.0.as_ptr()) }
    }

    /// The skb (its header as the device wrote it, no payload).
    pub fn skb(&self) -> &SkbBox {
        &self.0
    }

    /// The skb, to write a header (tests).
    pub fn skb_mut(&mut self) -> &mut SkbBox {
        &mut self.0
    }

    /// The packet: the header and `payload` bytes the device wrote.
    /// Fails unless `payload` fits the buffer after the header.
    pub fn into_packet(mut self, payload: u32) -> Result<SkbBox> {
        if payload > self.len().saturating_sub(HDR) {
            return Err(EMSGSIZE);
        }
        if payload > 0 {
            self.0.put_rx_payload(payload)?;
        }
        Ok(self.0)
    }
}

// SAFETY: the skb is owned by the token between `into_ptr` and
// `from_ptr`; the single entry covers its buffer from the head (the
// header) to its end, which nothing else reads or writes meanwhile.
unsafe impl Token for InBuf {
    fn into_ptr(self) -> NonNull<c_void> {
        self.0.into_nonnull().cast()
    }

    unsafe fn from_ptr(ptr: NonNull<c_void>) -> Self {
        // SAFETY: `ptr` came from `into_ptr`: an owned, linear, empty skb.
        InBuf(unsafe { SkbBox::from_nonnull(ptr.cast()) })
    }

    fn sgs(&mut self, sgs: &mut [b::scatterlist; MAX_SGS]) -> Result<usize> {
        let len = self.len();
        // SAFETY: live skb we own; `len` is its whole buffer.
        unsafe { b::vsock_rs_v_skb_in_sg(self.0.as_ptr(), &mut sgs[0], len) };
        Ok(1)
    }
}

/// An event buffer (`struct virtio_vsock_event`) the device fills.
pub struct EventBuf(KBox<b::virtio_vsock_event>);

impl EventBuf {
    /// A zeroed event buffer.
    pub fn new() -> Result<EventBuf> {
        Ok(EventBuf(KBox::new(Default::default(), GFP_KERNEL)?))
    }

    /// The event id the device wrote.
    pub fn id(&self) -> u32 {
        u32::from_le(self.0.id)
    }
}

// SAFETY: the box is owned by the token between `into_ptr` and
// `from_ptr`; the single entry covers it.
unsafe impl Token for EventBuf {
    fn into_ptr(self) -> NonNull<c_void> {
        // SAFETY: a box's pointer is never NULL.
        unsafe { NonNull::new_unchecked(KBox::into_raw(self.0).cast()) }
    }

    unsafe fn from_ptr(ptr: NonNull<c_void>) -> Self {
        // SAFETY: `ptr` came from `into_ptr`: a boxed event.
        EventBuf(unsafe { KBox::from_raw(ptr.as_ptr().cast()) })
    }

    fn sgs(&mut self, sgs: &mut [b::scatterlist; MAX_SGS]) -> Result<usize> {
        let len = core::mem::size_of::<b::virtio_vsock_event>() as u32;
        // SAFETY: the entry covers the box we own.
        unsafe { b::vsock_rs_v_sg_one(&mut sgs[0], (&raw mut *self.0).cast(), len) };
        Ok(1)
    }
}


/// The abstraction's per-device state, in `vdev->priv` from probe to
/// removal.
///
/// # Invariants
///
/// `attached` lists the queues of `data` attached to the device's
/// virtqueues (none when the virtqueues are deleted).  It is only
/// accessed from the driver's probe, remove, freeze and restore
/// callbacks, which the driver core serialises (`device_lock`).
struct Binding<D: Driver> {
    data: Pin<KBox<D::Data>>,
    attached: core::cell::UnsafeCell<[Option<NonNull<dyn AnyQueue>>; MAX_QUEUES]>,
}

// SAFETY: `data` is `Send + Sync`; `attached` is only used from the
// serialised device callbacks (invariant) and points into `data`.
unsafe impl<D: Driver> Sync for Binding<D> {}
// SAFETY: as above.
unsafe impl<D: Driver> Send for Binding<D> {}

impl<D: Driver> Binding<D> {
    /// The attached queues.
    ///
    /// # Safety
    ///
    /// Called from a device callback of this binding's device (the
    /// callbacks are serialised).
    #[allow(clippy::mut_from_ref)]
    unsafe fn attached(&self) -> &mut [Option<NonNull<dyn AnyQueue>>; MAX_QUEUES] {
        // SAFETY: the callbacks are serialised (caller), so this is the
        // only reference.
        unsafe { &mut *self.attached.get() }
    }

    /// Finds the virtqueues, attaches them, configures the driver, sets
    /// the device `DRIVER_OK` and starts the driver.  On failure nothing
    /// is attached.
    ///
    /// # Safety
    ///
    /// Called from probe or restore, with `dev` this binding's device and
    /// no queue attached.
    unsafe fn bring_up(&self, dev: &Device) -> Result {
        let n = D::QUEUES.len();
        if n == 0 || n > MAX_QUEUES {
            return Err(EINVAL);
        }
        // SAFETY: all-zero is a valid `virtqueue_info` (NULL name and
        // callback, no context).
        let mut infos: [b::virtqueue_info; MAX_QUEUES] = unsafe { core::mem::zeroed() };
        for (info, name) in infos.iter_mut().zip(D::QUEUES) {
            info.name = name.as_char_ptr();
            info.callback = Some(vq_callback::<D>);
        }
        let mut vqs = [core::ptr::null_mut::<b::virtqueue>(); MAX_QUEUES];
        // SAFETY: live device in its probe/restore callback; `n` entries
        // of each array are initialised.
        to_result(unsafe {
            b::vsock_rs_v_find_vqs(dev.as_ptr(), n as u32, vqs.as_mut_ptr(), infos.as_mut_ptr())
        })?;
        // SAFETY: serialised callback (caller).
        let attached = unsafe { self.attached() };
        for (i, vq) in vqs.iter().take(n).enumerate() {
            let q = D::queue(&self.data, i);
            let p: *const (dyn AnyQueue + '_) = q;
            // SAFETY: only the trait object's lifetime changes: the queue
            // lives in `data`, which the binding owns and which outlives
            // its use in `attached` (cleared before `data` is dropped).
            let p = unsafe {
                core::mem::transmute::<*const (dyn AnyQueue + '_), *const (dyn AnyQueue + 'static)>(p)
            };
            let p = NonNull::new(p.cast_mut()).ok_or(EINVAL)?;
            // One queue per virtqueue: a queue attached twice would lose
            // track of its first virtqueue's buffers.
            if attached.iter().flatten().any(|a| core::ptr::addr_eq(a.as_ptr(), p.as_ptr())) {
                pr_err!("virtio: one queue given for two virtqueues\n");
                // SAFETY: serialised callback; the virtqueues were found.
                unsafe { self.tear_down(dev) };
                return Err(EINVAL);
            }
            // SAFETY: `vq` is a live virtqueue of `dev` until
            // `tear_down` deletes it after detaching every attached
            // queue; the queue lives in `data`, which outlives that.
            unsafe { private::Sealed::attach(q, dev.as_ptr(), *vq) };
            attached[i] = Some(p);
        }
        D::configure(&self.data, dev);
        // SAFETY: live device, virtqueues found.
        unsafe { b::vsock_rs_v_device_ready(dev.as_ptr()) };
        if let Err(e) = D::start(&self.data, dev) {
            // SAFETY: serialised callback; the virtqueues were found.
            unsafe { self.tear_down(dev) };
            return Err(e);
        }
        Ok(())
    }

    /// Halts the attached queues, resets the device, drops the buffers
    /// it held and deletes the virtqueues (if they exist).
    ///
    /// # Safety
    ///
    /// Called from a device callback of `dev`, this binding's device,
    /// with its virtqueues found or already deleted (nothing attached).
    unsafe fn tear_down(&self, dev: &Device) {
        // SAFETY: serialised callback (caller).
        let attached = unsafe { self.attached() };
        if attached.iter().all(Option::is_none) {
            return;
        }
        for q in attached.iter().flatten() {
            // SAFETY: attached queues live in `data` (invariant).
            unsafe { q.as_ref() }.halt();
        }
        // No work touches the device any more: reset it, which also waits
        // for running virtqueue callbacks.
        // SAFETY: live device.
        unsafe { b::virtio_reset_device(dev.as_ptr()) };
        for q in attached.iter_mut() {
            if let Some(p) = q.take() {
                // SAFETY: as above; the device was reset.
                unsafe { p.as_ref() }.detach();
            }
        }
        // SAFETY: live device; no queue refers to its virtqueues now.
        unsafe { b::vsock_rs_v_del_vqs(dev.as_ptr()) };
    }
}

/// The callback of every virtqueue of driver `D`.
///
/// # Safety
///
/// Called by the virtio core with a live virtqueue of a device bound to
/// `D` (whose `priv` is NULL or its [`Binding`]).
unsafe extern "C" fn vq_callback<D: Driver>(vq: *mut b::virtqueue) {
    // SAFETY: live virtqueue (caller).
    let (vdev, index) = unsafe { (b::vsock_rs_v_vq_vdev(vq), b::vsock_rs_v_vq_index(vq)) };
    // SAFETY: live device (caller).
    let p = unsafe { b::vsock_rs_v_vdev_priv(vdev) }.cast::<Binding<D>>();
    if p.is_null() {
        return;
    }
    // SAFETY: `priv` is the binding, freed only after the virtqueues are
    // deleted (which waits for their callbacks).
    let binding = unsafe { &*p };
    D::vq_done(&binding.data, index as usize);
}

/// A registered virtio driver (`register_virtio_driver` ...
/// `unregister_virtio_driver`).
///
/// # Invariants
///
/// `drv` is registered while this exists.
#[pin_data(PinnedDrop)]
pub struct Registration<D: Driver> {
    #[pin]
    drv: Opaque<b::virtio_driver>,
    _d: PhantomData<D>,
}

// SAFETY: the driver structure is only used by the driver core.
unsafe impl<D: Driver> Send for Registration<D> {}
// SAFETY: as above.
unsafe impl<D: Driver> Sync for Registration<D> {}

impl<D: Driver> Registration<D> {
    /// Registers driver `D` as `name` (devices may probe at once).
    pub fn new(name: &'static CStr) -> impl PinInit<Self, Error> {
        try_pin_init!(Registration {
            drv <- Opaque::try_ffi_init(move |p: *mut b::virtio_driver| {
                // SAFETY: `p` is the pinned, uninitialised driver
                // structure: zeroed, then filled with static data and our
                // callbacks, then registered (it stays pinned until
                // `drop` unregisters it).
                unsafe {
                    core::ptr::write_bytes(p, 0, 1);
                    (*p).driver.name = name.as_char_ptr();
                    (*p).id_table = D::ID_TABLE.as_ptr();
                    (*p).feature_table = D::FEATURES.as_ptr();
                    (*p).feature_table_size = D::FEATURES.len() as u32;
                    (*p).probe = Some(probe_callback::<D>);
                    (*p).remove = Some(remove_callback::<D>);
                    (*p).freeze = Some(freeze_callback::<D>);
                    (*p).restore = Some(restore_callback::<D>);
                    to_result(b::vsock_rs_v_register_driver(p))
                }
            }),
            _d: PhantomData,
        }? Error)
    }
}

#[pinned_drop]
impl<D: Driver> PinnedDrop for Registration<D> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered (invariant); this removes every device.
        unsafe { b::unregister_virtio_driver(self.drv.get()) };
    }
}

/// `probe` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core with a device matching `D`'s table.
unsafe extern "C" fn probe_callback<D: Driver>(vdev: *mut b::virtio_device) -> i32 {
    // SAFETY: live device, bound for the callback.
    let dev = unsafe { Device::from_raw(vdev) };
    let r = (|| -> Result {
        let data = D::probe(dev)?;
        let binding = KBox::new(
            Binding::<D> {
                data,
                attached: core::cell::UnsafeCell::new([None; MAX_QUEUES]),
            },
            GFP_KERNEL,
        )?;
        let p = KBox::into_raw(binding);
        // SAFETY: live device; virtqueue callbacks find the binding there.
        unsafe { b::vsock_rs_v_set_vdev_priv(vdev, p.cast()) };
        // SAFETY: `p` is the binding we just made; we are in probe.
        if let Err(e) = unsafe { (*p).bring_up(dev) } {
            // SAFETY: nothing is attached any more, so no callback can
            // reach the binding; it is ours to free.
            unsafe {
                b::vsock_rs_v_set_vdev_priv(vdev, core::ptr::null_mut());
                drop(KBox::from_raw(p));
            }
            return Err(e);
        }
        Ok(())
    })();
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The binding of a bound device.
///
/// # Safety
///
/// `vdev` is a live device that probed successfully with driver `D` and
/// was not removed.
unsafe fn binding<'a, D: Driver>(vdev: *mut b::virtio_device) -> Option<&'a Binding<D>> {
    // SAFETY: live device (caller).
    let p = unsafe { b::vsock_rs_v_vdev_priv(vdev) }.cast::<Binding<D>>();
    // SAFETY: `priv` is the binding from probe until removal.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// `remove` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core for a device `D` probed.
unsafe extern "C" fn remove_callback<D: Driver>(vdev: *mut b::virtio_device) {
    // SAFETY: live device, bound (caller).
    let dev = unsafe { Device::from_raw(vdev) };
    // SAFETY: as above.
    let Some(binding) = (unsafe { binding::<D>(vdev) }) else {
        return;
    };
    D::stop(&binding.data, dev);
    // SAFETY: serialised device callback.
    unsafe { binding.tear_down(dev) };
    D::stopped(&binding.data, true);
    let p = core::ptr::from_ref(binding).cast_mut();
    // SAFETY: the virtqueues are deleted, so no callback reaches the
    // binding any more; it was made by `KBox::into_raw` in probe.
    unsafe {
        b::vsock_rs_v_set_vdev_priv(vdev, core::ptr::null_mut());
        drop(KBox::from_raw(p));
    }
}

/// `freeze` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core for a device `D` probed.
unsafe extern "C" fn freeze_callback<D: Driver>(vdev: *mut b::virtio_device) -> i32 {
    // SAFETY: live device, bound (caller).
    let dev = unsafe { Device::from_raw(vdev) };
    // SAFETY: as above.
    if let Some(binding) = unsafe { binding::<D>(vdev) } {
        D::stop(&binding.data, dev);
        // SAFETY: serialised device callback.
        unsafe { binding.tear_down(dev) };
        D::stopped(&binding.data, false);
    }
    0
}

/// `restore` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core for a device `D` probed and frozen.
unsafe extern "C" fn restore_callback<D: Driver>(vdev: *mut b::virtio_device) -> i32 {
    // SAFETY: live device, bound (caller).
    let dev = unsafe { Device::from_raw(vdev) };
    // SAFETY: as above.
    let Some(binding) = (unsafe { binding::<D>(vdev) }) else {
        return ENODEV.to_errno();
    };
    // SAFETY: serialised device callback; `freeze` deleted the
    // virtqueues (nothing is attached).
    match unsafe { binding.bring_up(dev) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
