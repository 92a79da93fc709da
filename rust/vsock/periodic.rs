// SPDX-License-Identifier: GPL-2.0

//! Work that runs every `period` jiffies until it is dropped (a
//! self-requeueing `delayed_work` on `system_long_wq`).

use super::bindings as b;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What the periodic work does each time.
pub trait Tick: Send + Sync + 'static {
    /// Runs in process context; may sleep.
    fn tick(&self);
}

/// A periodic work item.
///
/// # Invariants
///
/// `work` is initialised with `tick_fn::<H>`; it is only queued while the
/// value is pinned, and dropping the value cancels it and waits for a
/// running tick (`cancel_delayed_work_sync`, which also stops a work that
/// queues itself again), so the work never runs on freed memory.
#[pin_data(PinnedDrop)]
pub struct Periodic<H: Tick> {
    #[pin]
    work: Opaque<b::delayed_work>,
    period: kernel::ffi::c_ulong,
    handler: H,
}

// SAFETY: the work item is managed by the workqueue; `H` is `Send + Sync`.
unsafe impl<H: Tick> Send for Periodic<H> {}
// SAFETY: as above.
unsafe impl<H: Tick> Sync for Periodic<H> {}

/// The work function of a [`Periodic`].
///
/// # Safety
///
/// Called by the workqueue with the `work.work` of a live `Periodic<H>`.
unsafe extern "C" fn tick_fn<H: Tick>(work: *mut b::work_struct) {
    // SAFETY: `work` is embedded in the `delayed_work` of a `Periodic<H>`.
    let dw = unsafe { b::vsock_rs_t_to_delayed_work(work) };
    let off = core::mem::offset_of!(Periodic<H>, work);
    // SAFETY: `dw` is the `work` field of a live, pinned `Periodic<H>`
    // (only `tick_fn::<H>` is installed there, and the value cancels its
    // work synchronously before it is freed).
    let p = unsafe { &*dw.cast::<u8>().sub(off).cast::<Periodic<H>>() };
    p.handler.tick();
    // SAFETY: initialised work of a pinned value; `cancel_delayed_work_sync`
    // in drop also stops this re-queueing.
    unsafe { b::vsock_rs_t_schedule_delayed(p.work.get(), p.period) };
}

impl<H: Tick> Periodic<H> {
    /// A periodic work running `handler` every `period` jiffies (at least
    /// one), once started.
    pub fn new(handler: H, period: u64) -> impl PinInit<Self> {
        pin_init!(Periodic {
            // SAFETY: `INIT_DELAYED_WORK` initialises the whole work item.
            work <- Opaque::ffi_init(|p| unsafe {
                b::vsock_rs_t_init_delayed_work(p, Some(tick_fn::<H>))
            }),
            period: kernel::ffi::c_ulong::try_from(period.max(1)).unwrap_or(1),
            handler,
        })
    }

    /// Queues the first tick (a no-op if one is queued).
    pub fn start(self: Pin<&Self>) {
        // SAFETY: initialised work of a pinned value (invariant).
        unsafe { b::vsock_rs_t_schedule_delayed(self.work.get(), self.period) };
    }

    /// Cancels the work and waits for a running tick; it does not run
    /// again unless started again.
    pub fn stop(&self) {
        // SAFETY: initialised work item (invariant).
        unsafe { b::vsock_rs_t_cancel_delayed_sync(self.work.get()) };
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }
}

#[pinned_drop]
impl<H: Tick> PinnedDrop for Periodic<H> {
    fn drop(self: Pin<&mut Self>) {
        self.stop();
    }
}
