// SPDX-License-Identifier: GPL-2.0

//! A packet queue drained by a work item on a private workqueue: the
//! `send_pkt` queue of the loopback transport (and of the device
//! transports' send paths).

use super::bindings as b;
use super::skb::{SkbBox, SkbList, SkbQueue};
use super::work::OwnedWq;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::types::Opaque;

/// What the worker does with the packets it takes off the queue.
pub trait PktHandler: Send + Sync + Sized + 'static {
    /// Processes a batch of packets, in queue order; `pkts` is empty on
    /// return.
    fn process(worker: &PktWorker<Self>, pkts: &mut SkbList);
}

/// A packet queue with its worker.
///
/// # Invariants
///
/// `work` is initialised with `work_fn::<H>`; `wq` drains it before the
/// other fields are dropped (it is declared first).
#[pin_data]
pub struct PktWorker<H: PktHandler> {
    wq: OwnedWq,
    #[pin]
    queue: SkbQueue,
    #[pin]
    work: Opaque<b::work_struct>,
    /// The batch being processed (only the work function takes it).
    #[pin]
    batch: Mutex<SkbList>,
    /// Packets are queued but not processed until [`PktWorker::start`]:
    /// a device that replaces another starts once the old one is drained,
    /// so that packets keep their order.
    held: AtomicBool,
    handler: H,
}

// SAFETY: the queue is locked, the work item is managed by the workqueue,
// and `H` is `Send + Sync`.
unsafe impl<H: PktHandler> Send for PktWorker<H> {}
// SAFETY: as above.
unsafe impl<H: PktHandler> Sync for PktWorker<H> {}

/// The work function of a [`PktWorker`].
///
/// # Safety
///
/// Called by the workqueue with the `work` field of a live `PktWorker<H>`.
unsafe extern "C" fn work_fn<H: PktHandler>(work: *mut b::work_struct) {
    let off = core::mem::offset_of!(PktWorker<H>, work);
    // SAFETY: `work` is the `work` field of a live `PktWorker<H>` (only
    // `work_fn::<H>` is installed there, and the worker outlives its work
    // because its workqueue is drained first on drop).
    let w = unsafe { &*work.cast::<u8>().sub(off).cast::<PktWorker<H>>() };
    let mut batch = w.batch.lock();
    w.queue.take_all(&mut batch);
    H::process(w, &mut batch);
    // Whatever the handler left is dropped, as upstream purges.
    batch.purge();
}

impl<H: PktHandler> PktWorker<H> {
    /// A worker on a new workqueue called `name`; when `held`, it does
    /// not process packets before [`Self::start`].
    pub fn new(name: &'static CStr, handler: H, held: bool) -> Result<impl PinInit<Self, Error>> {
        let wq = OwnedWq::new(name)?;
        let batch = SkbList::new()?;
        Ok(try_pin_init!(PktWorker {
            batch <- new_mutex!(batch, "vsock_rs_pktq_batch"),
            wq,
            queue <- SkbQueue::new(),
            // SAFETY: `INIT_WORK` initialises the whole work item.
            work <- Opaque::ffi_init(|p| unsafe { b::vsock_rs_t_init_work(p, Some(work_fn::<H>)) }),
            held: AtomicBool::new(held),
            handler,
        }? Error))
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The queue.
    pub fn queue(&self) -> &SkbQueue {
        &self.queue
    }

    /// Queues a packet and schedules the worker.
    pub fn push(&self, skb: SkbBox) {
        self.push_on(None, skb);
    }

    /// Queues a packet and schedules the worker on `cpu` if it is online
    /// (else on this CPU).  The worker is one work item, so packets are
    /// processed in queue order wherever it runs.
    pub fn push_on(&self, cpu: Option<u32>, skb: SkbBox) {
        self.queue.push_back(skb);
        // Pairs with `start`: either it sees this packet queued, or we see
        // the worker started.
        if self.held.load(Ordering::SeqCst) {
            return;
        }
        match cpu.and_then(|c| i32::try_from(c).ok()) {
            // SAFETY: live workqueue and initialised work item (invariants).
            Some(c) => unsafe {
                b::vsock_rs_t_queue_work_on(c, self.wq.as_ptr(), self.work.get());
            },
            None => self.kick(),
        }
    }

    /// Lets a held worker process its packets.
    pub fn start(&self) {
        self.held.store(false, Ordering::SeqCst);
        self.kick();
    }

    /// Schedules the worker.
    fn kick(&self) {
        // SAFETY: live workqueue and initialised work item (invariants).
        unsafe { crate::vsock::work::queue_work(self.wq.as_ptr(), self.work.get()) };
    }
}
