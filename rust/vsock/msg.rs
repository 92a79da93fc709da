// SPDX-License-Identifier: GPL-2.0

//! The `struct msghdr` of a `sendmsg`/`recvmsg` call.

use super::bindings as b;
use kernel::types::Opaque;

/// A message header with its data iterator.
///
/// # Invariants
///
/// Wraps a live `msghdr` of the current socket call.
#[repr(transparent)]
pub struct MsgHdr(Opaque<b::msghdr>);

impl MsgHdr {
    /// Borrows a message header.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `msghdr`, used only through the result for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::msghdr) -> &'a mut MsgHdr {
        // SAFETY: transparent wrapper; validity from the caller.
        unsafe { &mut *ptr.cast::<MsgHdr>() }
    }

    /// The raw header.
    pub fn as_ptr(&self) -> *mut b::msghdr {
        self.0.get()
    }

    pub(crate) fn iter_ptr(&self) -> *mut b::iov_iter {
        // SAFETY: live header (invariant).
        unsafe { &raw mut (*self.as_ptr()).msg_iter }
    }

    /// Bytes left in the data iterator (`msg_data_left`).
    pub fn data_left(&self) -> usize {
        // SAFETY: live header (invariant).
        unsafe { b::vsock_rs_h_msg_data_left(self.as_ptr()) }
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
