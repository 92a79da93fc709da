// SPDX-License-Identifier: GPL-2.0

//! Owned workqueues, and a fixed set of work items on one (a device's
//! workers: upstream's `rx_work`, `tx_work`, `event_work`, ...).

use super::bindings as b;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::types::Opaque;

/// An owned workqueue (`alloc_workqueue` ... `destroy_workqueue`).
///
/// # Invariants
///
/// `self.0` is a live workqueue owned by this value.
///
/// It is `!Unpin`: dropping it drains work items that may hold shared
/// references to the structure it is part of, so the `&mut` of its drop
/// must not be taken as unique (as for `Opaque`).
pub struct OwnedWq(NonNull<b::workqueue_struct>, core::marker::PhantomPinned);

// SAFETY: workqueues are used from any thread.
unsafe impl Send for OwnedWq {}
// SAFETY: as above.
unsafe impl Sync for OwnedWq {}

impl OwnedWq {
    /// A new per-CPU workqueue called `name`.  (Inline: only transport
    /// modules have the shim it calls.)
    #[inline]
    pub fn new(name: &'static CStr) -> Result<OwnedWq> {
        // SAFETY: `name` is a NUL-terminated static string.
        let wq = unsafe { b::vsock_rs_t_alloc_wq(name.as_char_ptr()) };
        Ok(OwnedWq(
            NonNull::new(wq).ok_or(ENOMEM)?,
            core::marker::PhantomPinned,
        ))
    }

    /// The raw workqueue.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut b::workqueue_struct {
        self.0.as_ptr()
    }
}

impl Drop for OwnedWq {
    fn drop(&mut self) {
        // SAFETY: we own the workqueue; destroying it drains pending work.
        unsafe { b::destroy_workqueue(self.0.as_ptr()) };
    }
}

/// What the work items of a [`Works`] do.
pub trait WorkHandler<const N: usize>: Send + Sync + Sized + 'static {
    /// Runs work item `id` (process context; may sleep).
    fn run(works: &Works<Self, N>, id: usize);
}

/// One work item and its index.
#[repr(C)]
struct Slot {
    work: b::work_struct,
    id: usize,
}

/// `N` work items on a workqueue of their own, with their handler.
///
/// # Invariants
///
/// Slot `i` holds id `i` and a work item initialised with
/// `work_fn::<H, N>`; `wq` is declared first, so dropping a `Works`
/// drains its work items before anything else goes.  (A handler must not
/// own its `Works`: dropping it from a work item would wait for itself.)
#[pin_data]
pub struct Works<H: WorkHandler<N>, const N: usize> {
    wq: OwnedWq,
    #[pin]
    slots: Opaque<[Slot; N]>,
    #[pin]
    handler: H,
}

// SAFETY: the work items are managed by the workqueue; `H` is
// `Send + Sync`.
unsafe impl<H: WorkHandler<N>, const N: usize> Send for Works<H, N> {}
// SAFETY: as above.
unsafe impl<H: WorkHandler<N>, const N: usize> Sync for Works<H, N> {}

/// The work function of a [`Works`].
///
/// # Safety
///
/// Called by the workqueue with the work item of a slot of a live,
/// pinned `Works<H, N>`.
unsafe extern "C" fn work_fn<H: WorkHandler<N>, const N: usize>(work: *mut b::work_struct) {
    // `work` is the first field of its slot.
    let slot = work.cast::<Slot>();
    // SAFETY: `slot` is a slot of a live `Works<H, N>` (only `work_fn`
    // is installed there) that outlives its work items (invariant).
    let id = unsafe { (*slot).id };
    if id >= N {
        return;
    }
    let off = core::mem::offset_of!(Works<H, N>, slots);
    // SAFETY: slot `id` is at index `id` of the `slots` array (invariant),
    // which is the `slots` field of the `Works`.
    let works = unsafe { &*slot.sub(id).cast::<u8>().sub(off).cast::<Works<H, N>>() };
    H::run(works, id);
}

impl<H: WorkHandler<N>, const N: usize> Works<H, N> {
    /// `N` work items running `handler` on a new workqueue `name`.
    pub fn new(
        name: &'static CStr,
        handler: impl PinInit<H, Error>,
    ) -> Result<impl PinInit<Self, Error>> {
        let wq = OwnedWq::new(name)?;
        Ok(try_pin_init!(Works {
            wq,
            // SAFETY: each slot gets its id and an initialised work item.
            slots <- Opaque::ffi_init(|p: *mut [Slot; N]| unsafe {
                let first = p.cast::<Slot>();
                for i in 0..N {
                    let s = first.add(i);
                    (&raw mut (*s).id).write(i);
                    b::vsock_rs_t_init_work(&raw mut (*s).work, Some(work_fn::<H, N>));
                }
            }),
            handler <- handler,
        }? Error))
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Queues work item `id` (nothing if it is already queued or out of
    /// range).
    pub fn queue(&self, id: usize) {
        if id >= N {
            return;
        }
        // The work item's pointer derives from the whole `Works`, which
        // the work function gets back from it.
        let this = core::ptr::from_ref(self).cast_mut();
        // SAFETY: slot `id` is in the array; live workqueue and
        // initialised work item (invariants).
        unsafe {
            let s = (&raw mut (*this).slots).cast::<Slot>().add(id);
            queue_work(self.wq.as_ptr(), &raw mut (*s).work);
        }
    }
}

/// C's `queue_work()`: `queue_work_on(WORK_CPU_UNBOUND, ...)` called
/// directly, not through a helper of ours.  Returns whether the work was
/// queued (it was not pending).
///
/// # Safety
///
/// `wq` is a live workqueue and `work` an initialised work item that stays
/// valid until it has run or been cancelled.
#[inline]
pub(crate) unsafe fn queue_work(wq: *mut b::workqueue_struct, work: *mut b::work_struct) -> bool {
    // SAFETY: as C's inline `queue_work()`; the pointers are valid (this
    // function's requirements).
    unsafe {
        kernel::bindings::queue_work_on(
            kernel::bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
            wq.cast(),
            work.cast(),
        )
    }
}
