// SPDX-License-Identifier: GPL-2.0

//! The `struct msghdr` of a `sendmsg`/`recvmsg` call.

use super::bindings as b;
use kernel::types::Opaque;

/// A message header with its data iterator.
///
/// Unsized like [`super::skb::Skb`], for the same reason: safe code holding
/// two `&mut MsgHdr` cannot `mem::swap` the headers (and their iterators)
/// of two socket calls.
///
/// # Invariants
///
/// Wraps a live `msghdr` of the current socket call; the tail is empty.
#[repr(C)]
pub struct MsgHdr {
    msg: Opaque<b::msghdr>,
    _unsized: [u8],
}

impl MsgHdr {
    /// Borrows a message header.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `msghdr`, used only through the result for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::msghdr) -> &'a mut MsgHdr {
        // The same address with an empty tail: exactly the `msghdr`
        // (`repr(C)`, the tail has alignment 1 and no elements).
        let p = core::ptr::slice_from_raw_parts_mut(ptr.cast::<u8>(), 0) as *mut MsgHdr;
        // SAFETY: `p` spans exactly the live `msghdr`; validity and
        // exclusivity from the caller.
        unsafe { &mut *p }
    }

    /// The raw header.
    pub fn as_ptr(&self) -> *mut b::msghdr {
        self.msg.get()
    }

    pub(crate) fn iter_ptr(&self) -> *mut b::iov_iter {
        // SAFETY: live header (invariant).
        unsafe { &raw mut (*self.as_ptr()).msg_iter }
    }

    /// Bytes left in the data iterator (`msg_data_left`).
    pub fn data_left(&self) -> usize {
        // SAFETY: live header (invariant), used only through `self`; an
        // iterator's `count` is the field of its anonymous struct, valid
        // for every iterator type (`iov_iter_count`; the offset is checked
        // in `layout.rs`).
        unsafe {
            let u = &raw const (*self.iter_ptr()).__bindgen_anon_1.__bindgen_anon_1;
            (*u.cast::<b::iov_iter__bindgen_ty_1__bindgen_ty_1>()).count
        }
    }

    /// `msg_flags`.
    pub fn flags(&self) -> i32 {
        // SAFETY: live header (invariant).
        unsafe { (*self.as_ptr()).msg_flags as i32 }
    }

    /// Sets `msg_flags`.
    pub fn set_flags(&mut self, flags: i32) {
        // SAFETY: live header (invariant), exclusively borrowed.
        unsafe { (*self.as_ptr()).msg_flags = flags as u32 };
    }

    /// For MSG_ZEROCOPY: whether the whole iterator (untouched so far, at
    /// most `pkt_len` bytes) can be sent; returns the number of pages.
    pub fn zerocopy_pages(&self, pkt_len: u32) -> Option<i32> {
        let mut pages = 0;
        // SAFETY: live header (invariant); `pages` is a local.
        unsafe { b::vsock_rs_h_zc_iter_fits(self.as_ptr(), pkt_len, &mut pages) }.then_some(pages)
    }
}
