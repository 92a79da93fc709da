// SPDX-License-Identifier: GPL-2.0

//! Network namespaces (`struct net`) as the transports see them.

use super::bindings as b;
use core::ptr::NonNull;
use kernel::types::Opaque;

/// A network namespace, borrowed.
///
/// # Invariants
///
/// Wraps a live `struct net`: whoever lent the reference keeps the
/// namespace alive for its lifetime (a socket of the namespace, which holds
/// a reference on it, or a transport's device that does).
#[repr(transparent)]
pub struct Net(Opaque<b::net>);

// SAFETY: a namespace is shared by every thread; the fields read through
// this type (its vsock mode) are read with READ_ONCE by the C helpers.
unsafe impl Sync for Net {}
// SAFETY: as above.
unsafe impl Send for Net {}

impl Net {
    /// Borrows a namespace.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `struct net` that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut b::net) -> &'a Net {
        // SAFETY: transparent wrapper; liveness from the caller.
        unsafe { &*ptr.cast::<Net>() }
    }

    /// The raw namespace.
    pub fn as_ptr(&self) -> *mut b::net {
        self.0.get()
    }

    /// Takes a reference on the namespace, unless it is being dismantled
    /// (`maybe_get_net`: a kernel socket does not hold its namespace).
    pub fn try_get_ref(&self) -> Option<NetRef> {
        // SAFETY: live namespace memory (invariant); `maybe_get_net` only
        // takes a reference from a non-zero count.
        if unsafe { b::vsock_rs_h_maybe_get_net(self.as_ptr()) } {
            // INVARIANT: we took a reference just above.
            Some(NetRef(NonNull::from(self)))
        } else {
            None
        }
    }
}

/// A counted reference to a namespace (`get_net`/`put_net`).
///
/// # Invariants
///
/// Holds one reference on the namespace.
pub struct NetRef(NonNull<Net>);

// SAFETY: namespace references may be dropped from any thread.
unsafe impl Send for NetRef {}
// SAFETY: `Net` is `Sync`.
unsafe impl Sync for NetRef {}

impl core::ops::Deref for NetRef {
    type Target = Net;
    fn deref(&self) -> &Net {
        // SAFETY: we hold a reference, so the namespace is live.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for NetRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference (invariant).
        unsafe { b::vsock_rs_h_put_net(self.0.as_ptr().cast()) };
    }
}

/// The raw form of an optional namespace (NULL: none, as the guest
/// driver passes it).
pub fn raw(net: Option<&Net>) -> *mut b::net {
    net.map_or(core::ptr::null_mut(), Net::as_ptr)
}
