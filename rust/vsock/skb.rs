// SPDX-License-Identifier: GPL-2.0

//! Socket buffers carrying virtio-vsock packets.
//!
//! A virtio-vsock `sk_buff` keeps the 44-byte `virtio_vsock_hdr` at
//! `skb->head`, the payload at `skb->data`, and `struct virtio_vsock_skb_cb`
//! in `skb->cb` (see `include/linux/virtio_vsock.h`).
//!
//! - [`Skb`] is a borrowed packet, [`SkbBox`] an owned one (freed on drop).
//! - [`SkbList`] is a queue that its owner protects (the `__skb_*` ops).
//! - [`SkbQueue`] is a queue that uses its own spinlock (`skb_queue_*`).

use super::bindings as b;
use super::msg::MsgHdr;
use super::proto::hdr::{Hdr, HDR_LEN};

// The wire header and its binding have the same size.
const _: () = assert!(core::mem::size_of::<b::virtio_vsock_hdr>() == HDR_LEN);
use super::sock::{SkbOwner, VsockSock};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A virtio-vsock packet.
///
/// `Skb` is unsized (a zero-length tail after the `sk_buff`): a `&mut Skb`
/// lets its holder change the packet, never move the `sk_buff` itself.
/// `core::mem::swap`, `replace` and `take` need `Sized`, so safe code
/// cannot exchange two `sk_buff`s (their list links, reference counts and
/// data pointers) through two `&mut Skb`.  References are made only by
/// [`Skb::from_raw`] and [`Skb::from_raw_ref`].
///
/// # Invariants
///
/// The wrapped `sk_buff` was allocated for virtio-vsock: its head holds a
/// `virtio_vsock_hdr` (at least [`HDR_LEN`] bytes before `data`) and its
/// control block is a `virtio_vsock_skb_cb`.  The tail is empty.
#[repr(C)]
pub struct Skb {
    skb: Opaque<b::sk_buff>,
    _unsized: [u8],
}

impl Skb {
    /// Borrows a packet from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a valid virtio-vsock `sk_buff` (see the type
    /// invariants) that stays valid, and is not accessed through other
    /// references in a conflicting way, for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::sk_buff) -> &'a mut Skb {
        // SAFETY: `Skb::wrap` gives a pointer to the same `sk_buff` with an
        // empty tail; validity and exclusivity are guaranteed by the caller.
        unsafe { &mut *Skb::wrap(ptr) }
    }

    /// Borrows a packet from a raw pointer, shared.
    ///
    /// # Safety
    ///
    /// `ptr` points to a valid virtio-vsock `sk_buff` (see the type
    /// invariants) that stays valid, and is not written to but through
    /// its interior mutability, for `'a`.
    pub unsafe fn from_raw_ref<'a>(ptr: *const b::sk_buff) -> &'a Skb {
        // SAFETY: as in `from_raw`; validity is guaranteed by the caller.
        unsafe { &*Skb::wrap(ptr.cast_mut()) }
    }

    /// A pointer to the `sk_buff` at `ptr` as an `Skb`: the same address,
    /// with an empty tail, so it spans exactly the `sk_buff` (`Skb` is
    /// `repr(C)`, its tail has alignment 1 and no elements).
    fn wrap(ptr: *mut b::sk_buff) -> *mut Skb {
        core::ptr::slice_from_raw_parts_mut(ptr.cast::<u8>(), 0) as *mut Skb
    }

    /// The raw `sk_buff`.
    pub fn as_ptr(&self) -> *mut b::sk_buff {
        self.skb.get()
    }

    /// The raw `sk_buff`, for field reads.
    fn raw(&self) -> &b::sk_buff {
        // SAFETY: `self` wraps a valid skb (type invariant); the fields we
        // read through this reference are only written by the skb's owner,
        // and the owner is whoever holds `&self` or `&mut self`.
        unsafe { &*self.as_ptr() }
    }

    /// The header at `skb->head` (`virtio_vsock_hdr()`).
    fn hdr_ptr(&self) -> *mut b::virtio_vsock_hdr {
        self.raw().head.cast()
    }

    fn cb(&self) -> *mut b::virtio_vsock_skb_cb {
        // `VIRTIO_VSOCK_SKB_CB()`: the control block is `skb->cb`, which is
        // larger than `virtio_vsock_skb_cb` (see `layout.rs`).
        // SAFETY: `self` is a valid skb (type invariant).
        unsafe { core::ptr::addr_of_mut!((*self.as_ptr()).cb) }.cast()
    }

    /// The packet header, decoded.
    pub fn hdr(&self) -> Hdr {
        // SAFETY: the head holds a `virtio_vsock_hdr` (type invariant); it
        // is packed, so it is read unaligned.
        let h = unsafe { self.hdr_ptr().read_unaligned() };
        Hdr {
            src_cid: u64::from_le(h.src_cid),
            dst_cid: u64::from_le(h.dst_cid),
            src_port: u32::from_le(h.src_port),
            dst_port: u32::from_le(h.dst_port),
            len: u32::from_le(h.len),
            ty: u16::from_le(h.type_),
            op: u16::from_le(h.op),
            flags: u32::from_le(h.flags),
            buf_alloc: u32::from_le(h.buf_alloc),
            fwd_cnt: u32::from_le(h.fwd_cnt),
        }
    }

    /// Replaces the packet header.
    pub fn set_hdr(&mut self, hdr: &Hdr) {
        let h = b::virtio_vsock_hdr {
            src_cid: hdr.src_cid.to_le(),
            dst_cid: hdr.dst_cid.to_le(),
            src_port: hdr.src_port.to_le(),
            dst_port: hdr.dst_port.to_le(),
            len: hdr.len.to_le(),
            type_: hdr.ty.to_le(),
            op: hdr.op.to_le(),
            flags: hdr.flags.to_le(),
            buf_alloc: hdr.buf_alloc.to_le(),
            fwd_cnt: hdr.fwd_cnt.to_le(),
        };
        // SAFETY: the head holds `HDR_LEN` writable bytes for the header
        // (type invariant), and `&mut self` gives exclusive access.
        unsafe { self.hdr_ptr().write_unaligned(h) };
    }

    /// Updates the header in place.
    pub fn update_hdr(&mut self, f: impl FnOnce(&mut Hdr)) {
        let mut h = self.hdr();
        f(&mut h);
        self.set_hdr(&h);
    }

    /// The header's payload length (`le32_to_cpu(hdr->len)`).
    pub fn hdr_len(&self) -> u32 {
        // SAFETY: the header is valid (type invariant); it is packed, so
        // the field is read unaligned.
        u32::from_le(unsafe { core::ptr::addr_of!((*self.hdr_ptr()).len).read_unaligned() })
    }

    /// Sets the header's payload length.
    pub fn set_hdr_len(&mut self, len: u32) {
        // SAFETY: as in `hdr_len`; `&mut self` gives exclusive access.
        unsafe { core::ptr::addr_of_mut!((*self.hdr_ptr()).len).write_unaligned(len.to_le()) };
    }

    /// The header's source and destination ports.
    pub fn ports(&self) -> (u32, u32) {
        let h = self.hdr_ptr();
        // SAFETY: as in `hdr_len`.
        unsafe {
            (
                u32::from_le(core::ptr::addr_of!((*h).src_port).read_unaligned()),
                u32::from_le(core::ptr::addr_of!((*h).dst_port).read_unaligned()),
            )
        }
    }

    /// The header's flags.
    pub fn hdr_flags(&self) -> u32 {
        // SAFETY: as in `hdr_len`.
        u32::from_le(unsafe { core::ptr::addr_of!((*self.hdr_ptr()).flags).read_unaligned() })
    }

    /// Sets the header's flags.
    pub fn set_hdr_flags(&mut self, flags: u32) {
        // SAFETY: as in `set_hdr_len`.
        unsafe { core::ptr::addr_of_mut!((*self.hdr_ptr()).flags).write_unaligned(flags.to_le()) };
    }

    /// Stamps our credit into the header (`buf_alloc`, `fwd_cnt`).
    pub fn set_hdr_credit(&mut self, buf_alloc: u32, fwd_cnt: u32) {
        let h = self.hdr_ptr();
        // SAFETY: as in `set_hdr_len`.
        unsafe {
            core::ptr::addr_of_mut!((*h).buf_alloc).write_unaligned(buf_alloc.to_le());
            core::ptr::addr_of_mut!((*h).fwd_cnt).write_unaligned(fwd_cnt.to_le());
        }
    }

    /// Bytes of payload held by the skb (`skb->len`).
    pub fn len(&self) -> u32 {
        self.raw().len
    }

    /// Whether the skb holds no payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free room after the payload of a linear skb (`skb_tailroom`).
    pub fn tailroom(&self) -> u32 {
        let raw = self.raw();
        // `tail` and `end` are offsets from `head` (64-bit kernels; the
        // type is checked in `layout.rs`).
        if self.is_nonlinear() {
            0
        } else {
            raw.end.wrapping_sub(raw.tail)
        }
    }

    /// The bytes from the head to the end of the buffer
    /// (`virtio_vsock_skb_len`: `skb_end_pointer - head`; `end` is an
    /// offset from `head` on 64-bit kernels, checked in `layout.rs`).
    pub fn capacity(&self) -> u32 {
        self.raw().end
    }

    /// Whether the payload lives (partly) in page fragments.
    pub fn is_nonlinear(&self) -> bool {
        self.raw().data_len != 0
    }

    /// The start of the payload (`skb->data`).
    fn data(&self) -> *mut u8 {
        self.raw().data
    }

    /// Bytes of payload already consumed by readers.
    pub fn offset(&self) -> u32 {
        // SAFETY: the control block is a `virtio_vsock_skb_cb` (invariant).
        unsafe { (*self.cb()).offset }
    }

    /// Sets the consumed-bytes offset.
    pub fn set_offset(&mut self, off: u32) {
        // SAFETY: as in `offset`; `&mut self` gives exclusive access.
        unsafe { (*self.cb()).offset = off };
    }

    /// Whether this packet answers a packet of the peer.
    pub fn is_reply(&self) -> bool {
        // SAFETY: the control block is a `virtio_vsock_skb_cb` (invariant).
        unsafe { (*self.cb()).reply }
    }

    /// Marks the packet as a reply.
    pub fn set_reply(&mut self) {
        // SAFETY: as in `is_reply`; `&mut self` gives exclusive access.
        unsafe { (*self.cb()).reply = true };
    }

    /// Whether the packet was already delivered to vsockmon taps.
    pub fn tap_delivered(&self) -> bool {
        // SAFETY: the control block is a `virtio_vsock_skb_cb` (invariant).
        unsafe { (*self.cb()).tap_delivered }
    }

    /// Marks the packet as delivered to taps.
    pub fn set_tap_delivered(&mut self) {
        // SAFETY: as in `tap_delivered`; exclusive through `&mut self`.
        unsafe { (*self.cb()).tap_delivered = true };
    }

    /// Clears the taps-delivered mark (a split packet's rest goes to the
    /// taps again, with its own header).
    pub fn clear_tap_delivered(&mut self) {
        // SAFETY: as in `tap_delivered`; exclusive through `&mut self`.
        unsafe { (*self.cb()).tap_delivered = false };
    }

    /// The socket owning the packet, if any.
    pub fn sk(&self) -> Option<&SkbOwner> {
        let sk = self.raw().sk;
        // SAFETY: an skb owned by a socket keeps its memory (and its
        // namespace) alive for as long as the skb exists (`SkbOwner`'s
        // invariant); every socket of an AF_VSOCK packet is a `vsock_sock`.
        (!sk.is_null()).then(|| unsafe { SkbOwner::from_raw(sk.cast()) })
    }

    /// Charges the skb to `vsk`'s send buffer (`skb_set_owner_w`).
    pub fn set_owner_w(&mut self, vsk: &VsockSock) {
        // SAFETY: both pointers are valid; `vsk` is referenced by the
        // caller, so its `sk_wmem_alloc` is not zero.
        unsafe { b::skb_set_owner_w(self.as_ptr(), vsk.sk_ptr()) };
    }

    /// Charges the skb to the send buffer of `other`'s owner, if it has one
    /// (a reply keeps the socket it answers, and its namespace, as upstream's
    /// `virtio_transport_reset_no_sock` does).
    pub fn charge_like(&mut self, other: &Skb) {
        if let Some(owner) = other.sk() {
            // SAFETY: `other`, which we borrow, keeps its owner's memory
            // alive and its `sk_wmem_alloc` above zero (`SkbOwner`), so it
            // may be charged more.
            unsafe { b::skb_set_owner_w(self.as_ptr(), owner.as_ptr().cast()) };
        }
    }

    /// Makes `vsk` own the skb, unless the socket is being freed.
    pub fn set_owner_sk_safe(&mut self, vsk: &VsockSock) -> bool {
        // SAFETY: both pointers are valid.
        unsafe { b::vsock_rs_h_skb_set_owner_sk_safe(self.as_ptr(), vsk.sk_ptr()) }
    }

    /// Copies `len` payload bytes from offset `off` to the reader's iterator.
    pub fn copy_to_msg(&self, off: u32, msg: &mut MsgHdr, len: usize) -> Result {
        let len = i32::try_from(len).map_err(|_| EINVAL)?;
        let off = i32::try_from(off).map_err(|_| EINVAL)?;
        // SAFETY: `self` and `msg` are valid; the function checks the
        // bounds against the skb.
        to_result(unsafe { b::skb_copy_datagram_iter(self.as_ptr(), off, msg.iter_ptr(), len) })
    }

    /// Makes the `len` bytes a device wrote after the header of an empty
    /// linear receive buffer its payload (`virtio_vsock_skb_put`).  Fails
    /// with `ENOSPC` unless they fit the buffer.
    pub fn put_rx_payload(&mut self, len: u32) -> Result {
        if self.is_nonlinear() {
            return Err(ENOSPC);
        }
        self.reserve_payload(len)
    }

    /// Gives an empty packet `len` bytes of payload to be filled
    /// (`virtio_vsock_skb_put`).  Fails with `ENOSPC` unless the packet
    /// was allocated for exactly that payload (paged) or at least that
    /// much (linear).
    fn reserve_payload(&mut self, len: u32) -> Result {
        let fits = if self.is_nonlinear() {
            len == self.raw().data_len
        } else {
            len <= self.tailroom()
        };
        if !self.is_empty() || !fits {
            return Err(ENOSPC);
        }
        // `virtio_vsock_skb_put`, whose `skb_put` is one call, as in C.
        if self.is_nonlinear() {
            // SAFETY: we own the skb (invariant); its page fragments hold
            // exactly `len` bytes (checked above), which become its length.
            unsafe { (*self.as_ptr()).len = len };
        } else {
            // SAFETY: `self` has no payload yet and `len` bytes of
            // tailroom (checked above), so `skb_put` cannot overrun.
            unsafe { b::skb_put(self.as_ptr(), len) };
        }
        Ok(())
    }

    /// Appends `len` bytes from the sender's iterator as payload of a fresh
    /// packet (`virtio_vsock_skb_put` + `skb_copy_datagram_from_iter_full`).
    pub fn fill_from_msg(&mut self, msg: &mut MsgHdr, len: u32) -> Result {
        self.reserve_payload(len)?;
        let len = i32::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: `self` now has `len` bytes of payload; `msg` is valid.
        to_result(unsafe {
            b::skb_copy_datagram_from_iter_full(self.as_ptr(), 0, msg.iter_ptr(), len)
        })
    }

    /// Fills a fresh packet with `len` bytes of payload from `src` (the
    /// vhost backend: a guest's TX buffers); fails with `EFAULT` unless all
    /// of them could be read.
    pub fn fill_from_iter(&mut self, src: &mut IovIterSource<'_>, len: u32) -> Result {
        if src.len() < len as usize {
            return Err(EFAULT);
        }
        self.reserve_payload(len)?;
        let len = i32::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: `self` now has `len` bytes of payload; `src` is a valid
        // source iterator, exclusively borrowed.
        to_result(unsafe {
            b::skb_copy_datagram_from_iter(self.as_ptr(), 0, src.as_raw().cast(), len)
        })
    }

    /// Copies `len` payload bytes from offset `off` to `dst` (the vhost
    /// backend: a guest's RX buffers); fails with `EFAULT` if `dst` is full
    /// first, with `EINVAL` if the packet holds less.
    pub fn copy_to_iter(&self, off: u32, dst: &mut IovIterDest<'_>, len: usize) -> Result {
        if off.checked_add(u32::try_from(len).map_err(|_| EINVAL)?) > Some(self.len()) {
            return Err(EINVAL);
        }
        let len = i32::try_from(len).map_err(|_| EINVAL)?;
        let off = i32::try_from(off).map_err(|_| EINVAL)?;
        // SAFETY: `self` holds `off + len` payload bytes (checked above);
        // `dst` is a valid destination iterator, exclusively borrowed.
        to_result(unsafe {
            b::skb_copy_datagram_iter(self.as_ptr(), off, dst.as_raw().cast(), len)
        })
    }

    /// Copies the packet header, as on the wire, to `dst`; fails with
    /// `EFAULT` unless all of it fits.
    pub fn copy_hdr_to_iter(&self, dst: &mut IovIterDest<'_>) -> Result {
        if dst.copy_to_iter(&self.hdr().encode()) == HDR_LEN {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }

    /// Pins `len` bytes of the sender's pages as fragments (MSG_ZEROCOPY).
    /// The packet must be charged to its sending socket first
    /// ([`Skb::set_owner_w`]): the pinned pages are accounted to it.
    pub fn zerocopy_fill(&mut self, msg: &mut MsgHdr, len: u32) -> Result {
        if self.sk().is_none() {
            return Err(EINVAL);
        }
        // SAFETY: `self` has an owner socket (checked above), which
        // `__zerocopy_sg_from_iter` charges; `msg` is valid.
        to_result(unsafe { b::vsock_rs_h_zc_fill(self.as_ptr(), msg.as_ptr(), len) })
    }

    /// Attaches a zerocopy completion to the skb.
    pub fn zerocopy_set(&mut self, uarg: &ZcArg) {
        // SAFETY: `uarg` holds a valid `ubuf_info`; the skb takes its own
        // reference.
        unsafe { b::vsock_rs_h_zc_set(self.as_ptr(), uarg.ptr.as_ptr()) };
    }

    /// Appends the whole payload of the linear `src` after our payload.
    /// Fails with `ENOSPC` unless it fits the tailroom.
    pub fn append_from(&mut self, src: &Skb) -> Result {
        let len = src.len();
        if src.is_nonlinear() || len > self.tailroom() || self.is_nonlinear() {
            return Err(ENOSPC);
        }
        // SAFETY: `self` is linear with at least `len` bytes of tailroom.
        let dst = unsafe { b::skb_put(self.as_ptr(), len) };
        // SAFETY: `src` is linear, so `data` holds `len` bytes; `dst` has
        // `len` fresh bytes; the two skbs are distinct.
        unsafe { core::ptr::copy_nonoverlapping(src.data(), dst.cast::<u8>(), len as usize) };
        Ok(())
    }

    /// Appends payload bytes `off..off + len` of `src` (linear or not) to
    /// our linear payload (`skb_copy_bits`).
    pub fn append_bits_from(&mut self, src: &Skb, off: u32, len: u32) -> Result {
        if len > self.tailroom() || self.is_nonlinear() || off.checked_add(len) > Some(src.len()) {
            return Err(ENOSPC);
        }
        let ilen = i32::try_from(len).map_err(|_| EINVAL)?;
        let ioff = i32::try_from(off).map_err(|_| EINVAL)?;
        // SAFETY: `self` is linear with at least `len` bytes of tailroom.
        let dst = unsafe { b::skb_put(self.as_ptr(), len) };
        // SAFETY: `off + len` lies within `src`'s payload (checked above);
        // `dst` holds `len` bytes.
        to_result(unsafe { b::skb_copy_bits(src.as_ptr(), ioff, dst, ilen) })
    }

    /// Appends `data` to the payload of a linear skb (`skb_put_data`).
    pub fn put_slice(&mut self, data: &[u8]) -> Result {
        let len = u32::try_from(data.len()).map_err(|_| EINVAL)?;
        if len > self.tailroom() || self.is_nonlinear() {
            return Err(ENOSPC);
        }
        // SAFETY: linear skb with at least `len` bytes of tailroom.
        let dst = unsafe { b::skb_put(self.as_ptr(), len) };
        // SAFETY: `dst` holds `len` fresh bytes, distinct from `data`.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst.cast::<u8>(), data.len()) };
        Ok(())
    }

    /// Copies `dst.len()` payload bytes starting at `off` into `dst`.
    pub fn copy_bits(&self, off: u32, dst: &mut [u8]) -> Result {
        let len = i32::try_from(dst.len()).map_err(|_| EINVAL)?;
        let off = i32::try_from(off).map_err(|_| EINVAL)?;
        // SAFETY: `dst` is a valid buffer of `len` bytes; the function
        // checks the range against the skb.
        to_result(unsafe { b::skb_copy_bits(self.as_ptr(), off, dst.as_mut_ptr().cast(), len) })
    }
}

/// An owned virtio-vsock packet, freed with `kfree_skb` when dropped.
///
/// # Invariants
///
/// `self.0` points to a valid virtio-vsock `sk_buff` (see [`Skb`]) that
/// nobody else references.
pub struct SkbBox(NonNull<b::sk_buff>);

// SAFETY: an owned skb may be freed or used from any thread.
unsafe impl Send for SkbBox {}

impl SkbBox {
    /// Allocates a packet with room for the header and `payload` bytes
    /// (`virtio_vsock_alloc_skb`, or its linear variant when `linear`).
    pub fn alloc(payload: u32, linear: bool) -> Result<SkbBox> {
        let size = payload.checked_add(HDR_LEN as u32).ok_or(ENOMEM)?;
        // SAFETY: plain allocation.
        let ptr = unsafe { b::vsock_rs_h_alloc_skb(size, linear) };
        // The allocation reserved `VIRTIO_VSOCK_SKB_HEADROOM` for the header
        // and zeroed the control block, so the invariants hold.
        NonNull::new(ptr).map(SkbBox).ok_or(ENOMEM)
    }

    /// Takes ownership of a raw skb.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid virtio-vsock `sk_buff` whose ownership passes to the
    /// returned value.
    pub unsafe fn from_raw(ptr: *mut b::sk_buff) -> Option<SkbBox> {
        NonNull::new(ptr).map(SkbBox)
    }

    /// Takes ownership of a raw skb.
    ///
    /// # Safety
    ///
    /// As [`SkbBox::from_raw`].
    pub unsafe fn from_nonnull(ptr: NonNull<b::sk_buff>) -> SkbBox {
        SkbBox(ptr)
    }

    /// Gives up ownership; the caller must free the skb (or take it back
    /// with [`SkbBox::from_nonnull`]).
    pub fn into_nonnull(self) -> NonNull<b::sk_buff> {
        let p = self.0;
        core::mem::forget(self);
        p
    }

    /// Gives up ownership; the caller must free the skb.
    pub fn into_raw(self) -> *mut b::sk_buff {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p
    }

    /// Frees the skb as consumed normally (`consume_skb`), not dropped.
    pub fn consume(self) {
        // SAFETY: we own the skb (type invariant).
        unsafe { consume_skb(self.into_raw()) };
    }
}

impl core::ops::Deref for SkbBox {
    type Target = Skb;
    fn deref(&self) -> &Skb {
        // SAFETY: `self.0` is a valid virtio-vsock skb for as long as
        // `self` (invariant); shared with nobody else.
        unsafe { Skb::from_raw_ref(self.0.as_ptr()) }
    }
}

impl core::ops::DerefMut for SkbBox {
    fn deref_mut(&mut self) -> &mut Skb {
        // SAFETY: valid and exclusively owned (invariant), borrowed for as
        // long as `self` is.
        unsafe { Skb::from_raw(self.0.as_ptr()) }
    }
}

/// C's `kfree_skb()`: `sk_skb_reason_drop()` called directly, not through
/// a helper of ours (one call fewer per packet).
///
/// # Safety
///
/// `skb` is a valid skb the caller owns; it is freed (or its reference
/// dropped).
#[inline]
pub(crate) unsafe fn kfree_skb(skb: *mut b::sk_buff) {
    // SAFETY: as C's inline `kfree_skb()` (`kfree_skb_reason()` with
    // `SKB_DROP_REASON_NOT_SPECIFIED` and no socket); `skb` is owned
    // (this function's requirements).
    unsafe {
        kernel::bindings::sk_skb_reason_drop(
            core::ptr::null(),
            skb.cast(),
            kernel::bindings::skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED,
        )
    }
}

/// C's `consume_skb()`, called directly: the exported function with
/// tracepoints, else (as C's inline) `kfree_skb()`.
///
/// # Safety
///
/// As [`kfree_skb`].
#[inline]
pub(crate) unsafe fn consume_skb(skb: *mut b::sk_buff) {
    #[cfg(CONFIG_TRACEPOINTS)]
    // SAFETY: `skb` is a valid skb the caller owns (this function's
    // requirements).
    unsafe {
        kernel::bindings::consume_skb(skb.cast())
    }
    #[cfg(not(CONFIG_TRACEPOINTS))]
    // SAFETY: as above.
    unsafe {
        kfree_skb(skb)
    }
}

impl Drop for SkbBox {
    fn drop(&mut self) {
        // SAFETY: we own the skb (type invariant).
        unsafe { kfree_skb(self.0.as_ptr()) };
    }
}

/// A zerocopy notification (`struct ubuf_info`) of a `sendmsg` call.
///
/// # Invariants
///
/// `ptr` is a live `ubuf_info` for the current `sendmsg` call: the caller's
/// (`msg->msg_ubuf`, `owned` false) or one this value holds a reference on
/// (`owned` true).  Not `Send`: it stays in the `sendmsg` call.
pub struct ZcArg {
    ptr: NonNull<b::ubuf_info>,
    owned: bool,
}

impl ZcArg {
    /// Gets the `ubuf_info` for a MSG_ZEROCOPY send of `pkt_len` bytes:
    /// the one given by the caller of `sendmsg`, or a fresh one of ours.
    pub fn prepare(
        vsk: &VsockSock,
        msg: &mut MsgHdr,
        pkt_len: u32,
        can_zcopy: bool,
    ) -> Result<ZcArg> {
        let mut uarg = core::ptr::null_mut();
        let mut have_uref = false;
        // SAFETY: all pointers are valid; the shim writes both out params.
        to_result(unsafe {
            b::vsock_rs_h_zc_prepare(
                vsk.as_ptr(),
                msg.as_ptr(),
                pkt_len,
                can_zcopy,
                &mut uarg,
                &mut have_uref,
            )
        })?;
        let ptr = NonNull::new(uarg).ok_or(ENOMEM)?;
        // INVARIANT: the shim returns the caller's or a fresh reference of
        // ours, as `have_uref` says.
        Ok(ZcArg {
            ptr,
            owned: have_uref,
        })
    }

    /// Ends the send: drops our reference if we hold one (the packets took
    /// their own); `abort` when no data was sent.
    pub fn finish(self, abort: bool) {
        if self.owned {
            // SAFETY: we own one reference (invariant).
            unsafe { b::vsock_rs_h_zc_put(self.ptr.as_ptr(), abort) };
        }
    }
}

/// A queue of packets protected by its owner (the `__skb_queue_*` ops).
///
/// The `sk_buff_head` lives on the heap (it points to itself when empty), so
/// the list itself can move.
///
/// # Invariants
///
/// `head` is an initialised `sk_buff_head`; every skb on it is owned by the
/// list and is a virtio-vsock packet.
pub struct SkbList {
    head: Pin<KBox<Opaque<b::sk_buff_head>>>,
}

// SAFETY: the list owns its skbs, which may be used from any thread.
unsafe impl Send for SkbList {}
// SAFETY: all mutation goes through `&mut self`.
unsafe impl Sync for SkbList {}

impl SkbList {
    /// An empty list.
    pub fn new() -> Result<SkbList> {
        let head = KBox::pin_init(
            // SAFETY: `skb_queue_head_init` initialises the whole head.
            Opaque::ffi_init(|p| unsafe { b::vsock_rs_h_skbq_init(p) }),
            GFP_KERNEL,
        )?;
        Ok(SkbList { head })
    }

    pub(crate) fn raw(&self) -> *mut b::sk_buff_head {
        self.head.get()
    }

    /// Number of packets (`skb_queue_len`).
    pub fn len(&self) -> u32 {
        // SAFETY: initialised head (invariant), only changed through
        // `&mut self`.
        unsafe { (*self.raw()).qlen }
    }

    fn next_of(&self, skb: *mut b::sk_buff) -> *mut b::sk_buff {
        // SAFETY: initialised head (invariant); `skb` is the head or on it.
        unsafe { raw_next(self.raw(), skb) }
    }

    fn last(&self) -> *mut b::sk_buff {
        // SAFETY: initialised head (invariant).
        unsafe { raw_last(self.raw()) }
    }

    /// A borrowed handle on this list.
    pub fn as_list_mut(&mut self) -> SkbListMut<'_> {
        SkbListMut {
            // `Opaque<T>` has the layout of `T`.
            head: NonNull::from(self.head.as_ref().get_ref()).cast(),
            _list: core::marker::PhantomData,
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a packet.
    pub fn push_back(&mut self, skb: SkbBox) {
        // SAFETY: the list takes ownership of the skb (invariant).
        unsafe { b::vsock_rs_h_skbq_tail(self.raw(), skb.into_raw()) };
    }

    /// Removes the first packet.
    pub fn pop_front(&mut self) -> Option<SkbBox> {
        // SAFETY: initialised head; the skb leaves the list, so ownership
        // passes to the caller.
        unsafe { SkbBox::from_raw(b::vsock_rs_h_skbq_dequeue(self.raw())) }
    }

    /// The first packet.
    pub fn front(&self) -> Option<&Skb> {
        let p = self.next_of(self.raw().cast());
        // SAFETY: the skb is owned by the list, which `&self` borrows.
        (!p.is_null()).then(|| unsafe { Skb::from_raw_ref(p) })
    }

    /// The first packet, mutably.
    pub fn front_mut(&mut self) -> Option<&mut Skb> {
        let p = self.next_of(self.raw().cast());
        // SAFETY: owned by the list, exclusively borrowed through `self`.
        (!p.is_null()).then(|| unsafe { Skb::from_raw(p) })
    }

    /// The last packet, mutably.
    pub fn back_mut(&mut self) -> Option<&mut Skb> {
        let p = self.last();
        // SAFETY: owned by the list, exclusively borrowed through `self`.
        (!p.is_null()).then(|| unsafe { Skb::from_raw(p) })
    }

    /// Iterates over the packets, front to back.
    pub fn iter(&self) -> SkbIter<'_> {
        SkbIter {
            list: self,
            next: self.next_of(self.raw().cast()),
        }
    }

    /// Moves every packet of `other` to the front of this list.
    pub fn splice_front(&mut self, other: &mut SkbList) {
        // SAFETY: both heads are initialised and distinct (two `&mut`).
        unsafe { b::vsock_rs_h_skbq_splice_head_init(other.raw(), self.raw()) };
    }

    /// Frees every packet.
    pub fn purge(&mut self) {
        // SAFETY: initialised head; the list owns its skbs.
        unsafe { b::vsock_rs_h_skbq_purge(self.raw()) };
    }
}

/// The skb after `skb` on the list `head`, or its first one when `skb` is
/// `head` itself; null at the end (`skb_peek`, `skb_peek_next`).
///
/// # Safety
///
/// `head` is an initialised `sk_buff_head` that nobody changes meanwhile,
/// and `skb` is `head` (cast) or an skb on it.
unsafe fn raw_next(head: *mut b::sk_buff_head, skb: *mut b::sk_buff) -> *mut b::sk_buff {
    let head = head.cast::<b::sk_buff>();
    // SAFETY: `skb` is the head or an skb on it; both start with the
    // `next`/`prev` pair (`struct sk_buff_list`, see `layout.rs`), and only
    // that pair is read.
    let next = unsafe { (*skb).__bindgen_anon_1.__bindgen_anon_1.next };
    if next == head {
        core::ptr::null_mut()
    } else {
        next
    }
}

/// The last skb of the list `head`, or null (`skb_peek_tail`).
///
/// # Safety
///
/// As for [`raw_next`].
unsafe fn raw_last(head: *mut b::sk_buff_head) -> *mut b::sk_buff {
    let head = head.cast::<b::sk_buff>();
    // SAFETY: as in `raw_next`.
    let prev = unsafe { (*head).__bindgen_anon_1.__bindgen_anon_1.prev };
    if prev == head {
        core::ptr::null_mut()
    } else {
        prev
    }
}

/// A list of packets borrowed from its owner (an [`SkbList`], or a C
/// caller's `sk_buff_head`): packets can be taken off it.  Packets left on
/// it stay with the owner.
///
/// # Invariants
///
/// `head` is an initialised `sk_buff_head` of virtio-vsock packets owned by
/// the list, exclusively borrowed for `'a`.
pub struct SkbListMut<'a> {
    head: NonNull<b::sk_buff_head>,
    _list: core::marker::PhantomData<&'a mut b::sk_buff_head>,
}

impl SkbListMut<'_> {
    /// Borrows a C caller's list.
    ///
    /// # Safety
    ///
    /// `head` is an initialised `sk_buff_head` owning virtio-vsock packets,
    /// that nothing else touches for `'a`.
    pub unsafe fn from_raw<'a>(head: *mut b::sk_buff_head) -> Option<SkbListMut<'a>> {
        NonNull::new(head).map(|head| SkbListMut {
            head,
            _list: core::marker::PhantomData,
        })
    }

    /// The first packet.
    pub fn front(&self) -> Option<&Skb> {
        let head = self.head.as_ptr();
        // SAFETY: initialised, exclusively borrowed head (invariant).
        let p = unsafe { raw_next(head, head.cast()) };
        // SAFETY: owned by the list, which `&self` borrows.
        (!p.is_null()).then(|| unsafe { Skb::from_raw_ref(p) })
    }

    /// Removes the first packet.
    pub fn pop_front(&mut self) -> Option<SkbBox> {
        // SAFETY: initialised head; the skb leaves the list, so ownership
        // passes to the caller.
        unsafe { SkbBox::from_raw(b::vsock_rs_h_skbq_dequeue(self.head.as_ptr())) }
    }
}

impl Drop for SkbList {
    fn drop(&mut self) {
        self.purge();
    }
}

/// Iterator over an [`SkbList`].
///
/// # Invariants
///
/// `next` is null or an skb on `list`, which is borrowed (so unchanged)
/// for `'a`.
pub struct SkbIter<'a> {
    list: &'a SkbList,
    next: *mut b::sk_buff,
}

impl<'a> Iterator for SkbIter<'a> {
    type Item = &'a Skb;
    fn next(&mut self) -> Option<&'a Skb> {
        if self.next.is_null() {
            return None;
        }
        let cur = self.next;
        // `cur` is on the list, which is borrowed for `'a`.
        self.next = self.list.next_of(cur);
        // SAFETY: owned by the list, shared-borrowed for `'a`.
        Some(unsafe { Skb::from_raw_ref(cur) })
    }
}

/// A packet queue with its own spinlock (the `skb_queue_*` ops), shared
/// between producers (`send_pkt`) and a worker.
///
/// # Invariants
///
/// `head` is an initialised `sk_buff_head`; it is only touched with its lock
/// held; every skb on it is owned by the queue.
#[pin_data(PinnedDrop)]
#[repr(transparent)]
pub struct SkbQueue {
    #[pin]
    head: Opaque<b::sk_buff_head>,
}

// SAFETY: the queue owns its skbs and serialises access with its lock.
unsafe impl Send for SkbQueue {}
// SAFETY: as above.
unsafe impl Sync for SkbQueue {}

impl SkbQueue {
    /// An empty queue.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(SkbQueue {
            // SAFETY: `skb_queue_head_init` initialises head and lock.
            head <- Opaque::ffi_init(|p| unsafe { b::vsock_rs_h_skbq_init(p) }),
        })
    }

    /// Borrows a queue that C code owns.
    ///
    /// # Safety
    ///
    /// `ptr` is an initialised `sk_buff_head` of virtio-vsock packets,
    /// protected by its own lock, that stays valid for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::sk_buff_head) -> &'a SkbQueue {
        // SAFETY: transparent wrapper; validity from the caller.
        unsafe { &*ptr.cast::<SkbQueue>() }
    }

    fn with_lock<R>(&self, f: impl FnOnce(*mut b::sk_buff_head) -> R) -> R {
        // SAFETY: initialised head (invariant).
        unsafe { b::vsock_rs_h_skbq_lock(self.head.get()) };
        let r = f(self.head.get());
        // SAFETY: locked just above.
        unsafe { b::vsock_rs_h_skbq_unlock(self.head.get()) };
        r
    }

    /// The raw head, for transport callbacks that take one.
    pub fn as_ptr(&self) -> *mut b::sk_buff_head {
        self.head.get()
    }

    /// Appends a packet.
    pub fn push_back(&self, skb: SkbBox) {
        // SAFETY: initialised head (invariant); the helper takes the lock,
        // and the queue takes ownership.
        unsafe { b::vsock_rs_h_skbq_tail_locked(self.head.get(), skb.into_raw()) };
    }

    /// Prepends a packet (one that could not be sent yet).
    pub fn push_front(&self, skb: SkbBox) {
        // SAFETY: initialised head (invariant); the helper takes the lock,
        // and the queue takes ownership.
        unsafe { b::vsock_rs_h_skbq_head_locked(self.head.get(), skb.into_raw()) };
    }

    /// Removes the first packet.
    pub fn pop_front(&self) -> Option<SkbBox> {
        // SAFETY: initialised head (invariant); the helper takes the lock,
        // and the queue gives up ownership of the skb.
        unsafe { SkbBox::from_raw(b::vsock_rs_h_skbq_dequeue_locked(self.head.get())) }
    }

    /// Whether the queue is empty, without its lock (a hint, as
    /// `skb_queue_empty_lockless`).
    pub fn is_empty_lockless(&self) -> bool {
        let head = self.head.get();
        // SAFETY: an initialised head (invariant), so `next` is a valid,
        // aligned pointer that lives as long as `self`.  Once the queue is
        // shared, every store to it is `WRITE_ONCE` (the kernel's insert,
        // unlink and splice helpers, and `take_all`'s re-initialisation),
        // so this relaxed load is `READ_ONCE`, as in
        // `skb_queue_empty_lockless` (one `mov`, where the kernel crate's
        // `atomic_load` of a pointer is a call to a C helper).
        let next =
            unsafe { AtomicPtr::from_ptr(&raw mut (*head).__bindgen_anon_1.__bindgen_anon_1.next) }
                .load(Ordering::Relaxed);
        core::ptr::eq(next.cast::<b::sk_buff_head>(), head)
    }

    /// Moves every queued packet to the back of `dst`.
    pub fn take_all(&self, dst: &mut SkbList) {
        // SAFETY: under our lock; `dst` is exclusively borrowed.
        self.with_lock(|h| unsafe { b::vsock_rs_h_skbq_splice_tail_init(h, dst.raw()) });
    }

    /// Removes and frees the packets for which `pred` holds; returns how
    /// many of them were replies.  Does not sleep or allocate (transport
    /// hooks call it under `rcu_read_lock()`).
    pub fn purge_if(&self, mut pred: impl FnMut(&Skb) -> bool) -> u32 {
        // The packets are freed outside the lock, from a list on the stack
        // (`virtio_transport_purge_skbs`'s `freeme`).
        let freed = core::pin::pin!(Opaque::<b::sk_buff_head>::uninit());
        // SAFETY: `skb_queue_head_init` initialises the whole head, pinned
        // on our stack until the end of this function.
        unsafe { b::vsock_rs_h_skbq_init(freed.get()) };
        let mut replies = 0u32;
        self.with_lock(|h| {
            // SAFETY: under the lock, the queue's skbs are ours to walk and
            // unlink; `next` is read before `cur` is unlinked.
            let mut cur = unsafe { raw_next(h, h.cast()) };
            while !cur.is_null() {
                // SAFETY: `cur` is on the queue (see above).
                let next = unsafe { raw_next(h, cur) };
                // SAFETY: `cur` is a queued virtio-vsock skb.
                let skb = unsafe { Skb::from_raw(cur) };
                if pred(skb) {
                    if skb.is_reply() {
                        replies += 1;
                    }
                    // SAFETY: `cur` is on this queue; unlinking it and
                    // queueing it on `freed` moves its ownership there.
                    unsafe {
                        b::vsock_rs_h_skbq_unlink(cur, h);
                        b::vsock_rs_h_skbq_tail(freed.get(), cur);
                    }
                }
                cur = next;
            }
        });
        // SAFETY: `freed` is initialised and owns the unlinked skbs.
        unsafe { b::vsock_rs_h_skbq_purge(freed.get()) };
        replies
    }

    /// Frees every queued packet.
    pub fn purge(&self) {
        // SAFETY: under the lock; the queue owns its skbs.
        self.with_lock(|h| unsafe { b::vsock_rs_h_skbq_purge(h) });
    }
}

#[pinned_drop]
impl PinnedDrop for SkbQueue {
    fn drop(self: Pin<&mut Self>) {
        self.purge();
    }
}

fn to_result(ret: i32) -> Result {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}
