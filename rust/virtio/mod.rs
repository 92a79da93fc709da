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
use crate::vsock::lock::{FastMutex, FastMutexGuard};
use crate::vsock::proto::hdr::HDR_LEN;
use crate::vsock::skb::SkbBox;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::device_id::RawDeviceId;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::Mutex;
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
/// A `&Device` is only handed out while the device is bound to the driver:
/// to the driver's callbacks, and under the lock of a running queue.
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

    /// Reads the device's configuration space as `C`, in one access of
    /// `size_of::<C>()` bytes (as upstream reads `virtio_vsock_config`:
    /// some devices answer only accesses of their fields' widths).  Fails
    /// with `ENODEV` unless the device is of `C`'s type.
    pub fn read_config<C: ConfigSpace>(&self) -> Result<C> {
        // SAFETY: live device (invariant).
        if unsafe { b::vsock_rs_v_device_id(self.as_ptr()) } != C::DEVICE_ID {
            return Err(ENODEV);
        }
        let mut c = C::default();
        // SAFETY: live device (invariant) of `C`'s type, whose config space
        // holds `C` (`ConfigSpace`); `C` is plain data, written in full.
        unsafe {
            b::vsock_rs_v_config_get(
                self.as_ptr(),
                0,
                (&raw mut c).cast(),
                core::mem::size_of::<C>() as u32,
            )
        };
        Ok(c)
    }
}

/// A device type's configuration space layout.
///
/// # Safety
///
/// Every bit pattern is a valid `Self`, and every device of type
/// `DEVICE_ID` has at least `size_of::<Self>()` bytes of configuration,
/// laid out as `Self`.
pub unsafe trait ConfigSpace: Default {
    /// The device type.
    const DEVICE_ID: u32;
}

// SAFETY: `struct virtio_vsock_config` is one `__le64` (any bits); every
// vsock device has it (virtio 1.2, 5.10.4).
unsafe impl ConfigSpace for b::virtio_vsock_config {
    const DEVICE_ID: u32 = b::VRS_VIRTIO_ID_VSOCK;
}

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
    /// The queue for virtqueue `index` of [`Self::QUEUES`] (a queue may
    /// serve one virtqueue at a time: probe fails with `EBUSY` otherwise).
    fn queue(data: &Self::Data, index: usize) -> &dyn AnyQueue;
    /// The virtqueues are attached but do not run; the device is not
    /// `DRIVER_OK` yet: read the configuration.
    fn configure(data: &Self::Data, dev: &Device);
    /// The device is `DRIVER_OK` and the queues run: post buffers,
    /// publish.  On error the device is stopped again (without
    /// [`Self::stop`]).
    fn start(data: &Self::Data, dev: &Device) -> Result;
    /// The device is about to be reset (removal or freeze): withdraw it.
    fn stop(data: &Self::Data, dev: &Device);
    /// The device was reset and its virtqueues deleted; `removed` when it
    /// goes away for good.
    fn stopped(data: &Self::Data, removed: bool);
    /// Virtqueue `index` has used buffers.  Runs in interrupt context: must
    /// not sleep.
    fn vq_done(data: &Self::Data, index: usize);
}

/// What the abstraction does with a driver's queue.  Implemented by
/// [`VirtQueue`] only.
pub trait AnyQueue: Send + Sync + private::Sealed {}

mod private {
    use super::*;

    /// Only this module can make one: the methods of [`Sealed`] take it,
    /// so no code outside can call them (through a `&dyn AnyQueue`).
    pub struct Key(());

    impl Key {
        pub(super) const fn new() -> Key {
            Key(())
        }
    }

    pub trait Sealed {
        /// Attaches virtqueue `vq` of `vdev`, halted.  Fails with `EBUSY`
        /// if the queue serves a virtqueue already.
        ///
        /// # Safety
        ///
        /// `vq` is a live virtqueue of `vdev` until the matching
        /// [`Sealed::detach`]; the queue stays where it is until then.
        unsafe fn attach(
            &self,
            key: Key,
            vdev: *mut b::virtio_device,
            vq: *mut b::virtqueue,
        ) -> Result;
        /// Lets the attached queue run: [`QueueGuard::vq`] gives it.
        fn run(&self, key: Key);
        /// Stops the queue: [`QueueGuard::vq`] is `None` from now on.
        fn halt(&self, key: Key);
        /// Drops the buffers the device still held and forgets the
        /// virtqueue, which may be deleted next.
        ///
        /// # Safety
        ///
        /// The device was reset since the queue was halted: it uses none
        /// of the buffers any more.
        unsafe fn detach(&self, key: Key);
    }
}

use private::Key;

/// A buffer the device reads or writes: the queue owns it while it is on
/// the virtqueue.
///
/// # Safety
///
/// Only `from_ptr` turns the pointer `into_ptr` gives back into the
/// value; between the two, the memory `sgs` describes stays valid and in
/// place, and nothing else accesses what the device may write.
pub unsafe trait Token: Send + Sized {
    /// Whether the device writes the buffer (else it only reads it).
    const DEVICE_WRITES: bool;
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
    /// Called once the buffer is on the ring, under the queue's lock.
    ///
    /// # Safety
    ///
    /// `ptr` is a token of this type on the ring of a queue whose lock
    /// the caller holds.
    unsafe fn added(_ptr: NonNull<c_void>) {}
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
    inner: FastMutex<QueueInner<S>>,
    _t: PhantomData<fn(T) -> T>,
}

// SAFETY: the raw pointers in `QueueInner` are only used under the lock,
// and the virtqueue functions may be called from any thread; tokens are
// `Send`.
unsafe impl<S: Send> Send for QueueInner<S> {}

impl<T: Token, S: Send + Unpin> VirtQueue<T, S> {
    /// A queue, not attached.
    pub fn new(
        state: S,
        name: &'static CStr,
        key: Pin<&'static kernel::sync::LockClassKey>,
    ) -> impl PinInit<Self> {
        pin_init!(VirtQueue {
            inner <- FastMutex::new(
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
    unsafe fn attach(&self, _: Key, vdev: *mut b::virtio_device, vq: *mut b::virtqueue) -> Result {
        let mut g = self.inner.lock();
        if !g.vq.is_null() {
            return Err(EBUSY);
        }
        // INVARIANT: the caller guarantees `vq` is live until `detach`.
        g.vq = vq;
        g.vdev = vdev;
        g.running = false;
        Ok(())
    }

    fn run(&self, _: Key) {
        let mut g = self.inner.lock();
        // INVARIANT: only an attached queue runs.
        g.running = !g.vq.is_null();
    }

    fn halt(&self, _: Key) {
        self.inner.lock().running = false;
    }

    unsafe fn detach(&self, _: Key) {
        let mut g = self.inner.lock();
        g.running = false;
        if g.vq.is_null() {
            return;
        }
        // SAFETY: attached virtqueue of a device that was reset (caller):
        // the device uses none of its buffers any more.
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
    g: FastMutexGuard<'a, QueueInner<S>>,
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

    /// Adds a buffer (the device reads or writes it, as its type says).
    /// On failure (usually: the ring is full) the token comes back.
    pub fn add(&mut self, mut token: T, gfp: Gfp) -> Result<(), (Error, T)> {
        match token.sgs(self.sgs) {
            Ok(n) if n > 0 && n <= MAX_SGS => {}
            Ok(_) => return Err((EINVAL, token)),
            Err(e) => return Err((e, token)),
        }
        // The entries form one list (the token marked its end).
        let mut list: *mut b::scatterlist = &mut self.sgs[0];
        let (outs, ins) = if T::DEVICE_WRITES { (0, 1) } else { (1, 0) };
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
        // SAFETY: `data` is on the ring, and we hold the queue's lock.
        unsafe { T::added(data) };
        Ok(())
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
        // SAFETY: live virtqueue (invariant); the virtio core changes
        // `num_free` only in the ring operations, which we serialise under
        // the queue's lock that `self` holds, and in `virtqueue_init` on a
        // reset or resize, which this driver never asks for (the field's
        // offset is checked in `layout.rs`).
        unsafe { (*self.vq).num_free }
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
// lives, and the device only reads them (`DEVICE_WRITES` is false).
unsafe impl Token for OutPkt {
    const DEVICE_WRITES: bool = false;

    fn into_ptr(self) -> NonNull<c_void> {
        self.0.into_nonnull().cast()
    }

    unsafe fn from_ptr(ptr: NonNull<c_void>) -> Self {
        // SAFETY: `ptr` came from `into_ptr`: an owned virtio-vsock skb.
        OutPkt(unsafe { SkbBox::from_nonnull(ptr.cast()) })
    }

    fn sgs(&mut self, sgs: &mut [b::scatterlist; MAX_SGS]) -> Result<usize> {
        // SAFETY: live skb we own; `sgs` has `MAX_SGS` entries.
        let n =
            unsafe { b::vsock_rs_v_skb_out_sgs(self.0.as_ptr(), sgs.as_mut_ptr(), MAX_SGS as u32) };
        usize::try_from(n).map_err(|_| Error::from_errno(n))
    }

    /// Delivers the packet to vsockmon taps, as upstream once the packet
    /// is on the ring.
    unsafe fn added(ptr: NonNull<c_void>) {
        // SAFETY: `ptr` is our skb on the ring, under the queue's lock
        // (caller): nothing else uses it until the device returns it and
        // the lock holder takes it back; taps only read it and mark it
        // delivered in its control block, which the device does not use.
        unsafe { b::vsock_rs_deliver_tap_pkt(ptr.as_ptr().cast()) };
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
        self.0.capacity()
    }

    /// The skb (its header as the device wrote it, no payload).
    pub fn skb(&self) -> &SkbBox {
        &self.0
    }

    /// Writes a header, as a device would (tests).
    pub fn set_hdr(&mut self, hdr: &crate::vsock::proto::hdr::Hdr) {
        self.0.set_hdr(hdr);
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
    const DEVICE_WRITES: bool = true;

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

/// An event (`struct virtio_vsock_event`) in a cache line of its own, as
/// upstream's DMA-aligned `event_list`.
#[repr(C, align(64))]
#[derive(Default)]
struct EventSlot(b::virtio_vsock_event);

/// An event buffer the device fills.
pub struct EventBuf(KBox<EventSlot>);

impl EventBuf {
    /// A zeroed event buffer.
    pub fn new() -> Result<EventBuf> {
        Ok(EventBuf(KBox::new(Default::default(), GFP_KERNEL)?))
    }

    /// The event id the device wrote.
    pub fn id(&self) -> u32 {
        u32::from_le(self.0 .0.id)
    }
}

// SAFETY: the box is owned by the token between `into_ptr` and
// `from_ptr`; the single entry covers the event in it.
unsafe impl Token for EventBuf {
    const DEVICE_WRITES: bool = true;

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

/// The attached queues of a device.
///
/// # Invariants
///
/// Each entry points to a queue of the binding's `data`, attached to one
/// of the device's virtqueues.
struct Attached([Option<NonNull<dyn AnyQueue>>; MAX_QUEUES]);

/// The abstraction's per-device state, in `vdev->priv` from probe to
/// removal.
///
/// # Invariants
///
/// `attached` lists the queues of `data` attached to the device's
/// virtqueues (none while the virtqueues are deleted).  It is only
/// accessed under the driver's life-cycle lock
/// ([`Registration`]'s `lock`), which every probe, remove, freeze and
/// restore callback of the driver holds.
struct Binding<D: Driver> {
    data: Pin<KBox<D::Data>>,
    attached: core::cell::UnsafeCell<Attached>,
}

// SAFETY: `data` is `Send + Sync`; `attached` is only used under the
// life-cycle lock (invariant) and points into `data`.
unsafe impl<D: Driver> Sync for Binding<D> {}
// SAFETY: as above.
unsafe impl<D: Driver> Send for Binding<D> {}

impl<D: Driver> Binding<D> {
    /// The attached queues.
    ///
    /// # Safety
    ///
    /// The caller holds the driver's life-cycle lock, and no other
    /// reference from this function is alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn attached(&self) -> &mut Attached {
        // SAFETY: exclusive under the life-cycle lock (caller).
        unsafe { &mut *self.attached.get() }
    }

    /// Finds the virtqueues and attaches them, halted, configures the
    /// driver, sets the device `DRIVER_OK`, lets the queues run and
    /// starts the driver.  On failure nothing is attached.
    ///
    /// # Safety
    ///
    /// The caller holds the driver's life-cycle lock, in probe or restore
    /// of `dev`, this binding's device, with no queue attached.
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
        // SAFETY: life-cycle lock held (caller).
        let attached = unsafe { self.attached() };
        for (i, vq) in vqs.iter().take(n).enumerate() {
            let q = D::queue(&self.data, i);
            let p: *const (dyn AnyQueue + '_) = q;
            // SAFETY: only the trait object's lifetime changes: the queue
            // lives in `data`, which the binding owns and which outlives
            // its entry in `attached` (cleared before `data` is dropped).
            let p = unsafe {
                core::mem::transmute::<*const (dyn AnyQueue + '_), *const (dyn AnyQueue + 'static)>(
                    p,
                )
            };
            // SAFETY: `vq` is a live virtqueue of `dev` until `tear_down`
            // deletes it, after detaching every attached queue.
            if let Err(e) = unsafe { q.attach(Key::new(), dev.as_ptr(), *vq) } {
                // A queue that serves another virtqueue, of this device
                // or another.
                // SAFETY: life-cycle lock held; the virtqueues were found.
                unsafe { self.tear_down(dev, true) };
                return Err(e);
            }
            // INVARIANT: attached just above.
            attached.0[i] = NonNull::new(p.cast_mut());
        }
        D::configure(&self.data, dev);
        // SAFETY: live device, virtqueues found.
        unsafe { b::vsock_rs_v_device_ready(dev.as_ptr()) };
        for q in attached.0.iter().flatten() {
            // SAFETY: attached queues live in `data` (invariant).
            unsafe { q.as_ref() }.run(Key::new());
        }
        if let Err(e) = D::start(&self.data, dev) {
            // SAFETY: life-cycle lock held; the virtqueues were found.
            unsafe { self.tear_down(dev, true) };
            return Err(e);
        }
        Ok(())
    }

    /// Halts the attached queues, resets the device, drops the buffers
    /// it held and deletes the virtqueues; with nothing attached (after a
    /// failed restore) only resets the device.
    ///
    /// # Safety
    ///
    /// The caller holds the driver's life-cycle lock, in a callback of
    /// `dev`, this binding's device; `found` if the virtqueues exist
    /// (found and not deleted).
    unsafe fn tear_down(&self, dev: &Device, found: bool) {
        // SAFETY: life-cycle lock held (caller).
        let attached = unsafe { self.attached() };
        for q in attached.0.iter().flatten() {
            // SAFETY: attached queues live in `data` (invariant).
            unsafe { q.as_ref() }.halt(Key::new());
        }
        // No work touches the device any more: reset it, so that it uses
        // none of its buffers (and, where the transport hardens
        // notifications, no callback runs).
        // SAFETY: live device.
        unsafe { b::virtio_reset_device(dev.as_ptr()) };
        for q in attached.0.iter_mut() {
            if let Some(p) = q.take() {
                // SAFETY: as above; the device was reset after the halt.
                unsafe { p.as_ref().detach(Key::new()) };
            }
        }
        if found {
            // Frees the interrupts too: no virtqueue callback runs after
            // this, which is what lets the binding be freed.
            // SAFETY: live device; no queue refers to its virtqueues now.
            unsafe { b::vsock_rs_v_del_vqs(dev.as_ptr()) };
        }
    }

    /// Whether the virtqueues exist.
    ///
    /// # Safety
    ///
    /// The caller holds the driver's life-cycle lock.
    unsafe fn found(&self) -> bool {
        // SAFETY: life-cycle lock held (caller).
        unsafe { self.attached() }.0.iter().any(Option::is_some)
    }
}

/// `READ_ONCE(vdev->priv)`.  The binding is stored with `WRITE_ONCE`
/// (`vsock_rs_v_set_vdev_priv`) under the driver's life-cycle lock, and
/// withdrawn only once the virtqueues' callbacks can no longer run.
///
/// # Safety
///
/// `vdev` is a live device.
unsafe fn vdev_priv(vdev: *mut b::virtio_device) -> *mut c_void {
    // SAFETY: live device (caller), so `priv` is a live, aligned pointer
    // field (its offset is checked in `layout.rs`); a relaxed atomic load is
    // READ_ONCE.
    unsafe { AtomicPtr::from_ptr(&raw mut (*vdev).priv_) }.load(Ordering::Relaxed)
}

/// The callback of every virtqueue of driver `D`.
///
/// # Safety
///
/// Called by the virtio core with a live virtqueue of a device bound to
/// `D` (whose `priv` is NULL or its [`Binding`]).
unsafe extern "C" fn vq_callback<D: Driver>(vq: *mut b::virtqueue) {
    // SAFETY: live virtqueue (caller), whose `vdev` and `index` are set
    // when it is made and never change (offsets checked in `layout.rs`).
    let (vdev, index) = unsafe { ((*vq).vdev, (*vq).index) };
    // SAFETY: live device (caller).
    let p = unsafe { vdev_priv(vdev) }.cast::<Binding<D>>();
    if p.is_null() {
        return;
    }
    // SAFETY: `priv` is the binding, freed only after the virtqueues are
    // deleted (`del_vqs` frees their interrupts, waiting for handlers).
    let binding = unsafe { &*p };
    D::vq_done(&binding.data, index as usize);
}

/// A registered virtio driver (`register_virtio_driver` ...
/// `unregister_virtio_driver`).
///
/// # Invariants
///
/// `drv` is registered while this exists; `lock` is initialised before it
/// is, and serialises the driver's probe, remove, freeze and restore
/// callbacks (upstream's `the_virtio_vsock_mutex`).
#[pin_data(PinnedDrop)]
pub struct Registration<D: Driver> {
    #[pin]
    lock: Mutex<()>,
    #[pin]
    drv: Opaque<b::virtio_driver>,
    _d: PhantomData<D>,
}

// SAFETY: the driver structure is only used by the driver core, the lock
// is a lock.
unsafe impl<D: Driver> Send for Registration<D> {}
// SAFETY: as above.
unsafe impl<D: Driver> Sync for Registration<D> {}

impl<D: Driver> Registration<D> {
    /// Registers driver `D` as `name` (devices may probe at once).
    pub fn new(name: &'static CStr) -> impl PinInit<Self, Error> {
        try_pin_init!(Registration {
            lock <- kernel::new_mutex!(()),
            drv <- Opaque::try_ffi_init(move |p: *mut b::virtio_driver| {
                // SAFETY: `p` is the pinned, uninitialised driver
                // structure: zeroed, then filled with static data and our
                // callbacks, then registered (it stays pinned until
                // `drop` unregisters it).  `lock`, which the callbacks
                // use, is initialised already.
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

/// The registration of the driver bound to `vdev`.
///
/// # Safety
///
/// `vdev` is a live device bound to driver `D` (in one of its callbacks).
unsafe fn registration<'a, D: Driver>(vdev: *mut b::virtio_device) -> Option<&'a Registration<D>> {
    // SAFETY: live device (caller).
    let drv = unsafe { b::vsock_rs_v_vdev_driver(vdev) };
    if drv.is_null() {
        return None;
    }
    let off = core::mem::offset_of!(Registration<D>, drv);
    // SAFETY: the device is bound to `D`, whose driver structure is the
    // `drv` field of its pinned, registered `Registration<D>` (only
    // `Registration::new` installs these callbacks).
    Some(unsafe { &*drv.cast::<u8>().sub(off).cast::<Registration<D>>() })
}

/// Runs `f` under the life-cycle lock of driver `D`, with the device and
/// the raw binding pointer (`priv`).
///
/// # Safety
///
/// Called from a probe, remove, freeze or restore callback of driver `D`
/// with its live device `vdev`.
unsafe fn locked<D: Driver, R>(
    vdev: *mut b::virtio_device,
    f: impl FnOnce(&Device, *mut Binding<D>) -> R,
) -> Option<R> {
    // SAFETY: as the caller guarantees.
    let reg = unsafe { registration::<D>(vdev) }?;
    let _g = reg.lock.lock();
    // SAFETY: live device, bound for the callback.
    let dev = unsafe { Device::from_raw(vdev) };
    // SAFETY: live device.
    let p = unsafe { vdev_priv(vdev) }.cast::<Binding<D>>();
    Some(f(dev, p))
}

/// `probe` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core with a device matching `D`'s table.
unsafe extern "C" fn probe_callback<D: Driver>(vdev: *mut b::virtio_device) -> i32 {
    // SAFETY: probe callback of `D`.
    let r = unsafe {
        locked::<D, _>(vdev, |dev, _| -> Result {
            let data = D::probe(dev)?;
            let binding = KBox::new(
                Binding::<D> {
                    data,
                    attached: core::cell::UnsafeCell::new(Attached([None; MAX_QUEUES])),
                },
                GFP_KERNEL,
            )?;
            let p = KBox::into_raw(binding);
            // SAFETY: live device; virtqueue callbacks find the binding.
            b::vsock_rs_v_set_vdev_priv(vdev, p.cast());
            // SAFETY: `p` is the binding we just made; in probe, under the
            // life-cycle lock, nothing attached.
            if let Err(e) = (*p).bring_up(dev) {
                // SAFETY: the virtqueues are deleted (or were never
                // found), so no callback can reach the binding.
                b::vsock_rs_v_set_vdev_priv(vdev, core::ptr::null_mut());
                drop(KBox::from_raw(p));
                return Err(e);
            }
            Ok(())
        })
    };
    match r {
        Some(Ok(())) => 0,
        Some(Err(e)) => e.to_errno(),
        None => ENODEV.to_errno(),
    }
}

/// `remove` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core for a device `D` probed.
unsafe extern "C" fn remove_callback<D: Driver>(vdev: *mut b::virtio_device) {
    // SAFETY: remove callback of `D`.
    unsafe {
        locked::<D, _>(vdev, |dev, p| {
            if p.is_null() {
                return;
            }
            // SAFETY: `priv` is the binding from probe until here.
            let binding = &*p;
            D::stop(&binding.data, dev);
            // Resets the device even when a failed restore left nothing
            // attached, as the virtio core expects of `remove`.
            binding.tear_down(dev, binding.found());
            D::stopped(&binding.data, true);
            b::vsock_rs_v_set_vdev_priv(vdev, core::ptr::null_mut());
            // SAFETY: the virtqueues are deleted, so no callback reaches
            // the binding; `p` came from `KBox::into_raw` in probe.
            drop(KBox::from_raw(p));
        });
    }
}

/// `freeze` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core for a device `D` probed.
unsafe extern "C" fn freeze_callback<D: Driver>(vdev: *mut b::virtio_device) -> i32 {
    // SAFETY: freeze callback of `D`.
    unsafe {
        locked::<D, _>(vdev, |dev, p| {
            if p.is_null() {
                return;
            }
            // SAFETY: `priv` is the binding from probe until removal.
            let binding = &*p;
            if binding.found() {
                D::stop(&binding.data, dev);
                binding.tear_down(dev, true);
                D::stopped(&binding.data, false);
            }
        });
    }
    0
}

/// `restore` of driver `D`.
///
/// # Safety
///
/// Called by the virtio core for a device `D` probed and frozen.
unsafe extern "C" fn restore_callback<D: Driver>(vdev: *mut b::virtio_device) -> i32 {
    // SAFETY: restore callback of `D`.
    let r = unsafe {
        locked::<D, _>(vdev, |dev, p| -> Result {
            if p.is_null() {
                return Err(ENODEV);
            }
            // SAFETY: `priv` is the binding from probe until removal.
            let binding = &*p;
            if binding.found() {
                return Err(EBUSY);
            }
            binding.bring_up(dev)
        })
    };
    match r {
        Some(Ok(())) => 0,
        Some(Err(e)) => e.to_errno(),
        None => ENODEV.to_errno(),
    }
}
