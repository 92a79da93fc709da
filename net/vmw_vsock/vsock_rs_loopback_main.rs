// SPDX-License-Identifier: GPL-2.0

//! vsock_rs_loopback: the loopback transport (CID 1) in Rust.
//!
//! The counterpart of upstream `vsock_loopback`: packets sent by a socket
//! are queued and handed back to the common module by a worker on the
//! "vsock-loopback" workqueue, as if they had arrived from a device.
//!
//! The worker is the transport's device, published under RCU.  With
//! `swap_ms`, it is replaced by a fresh one that often, under traffic: a
//! test of the device life cycle that the guest and host transports rely
//! on (removal, freeze and restore, one device per VM).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Completion, Mutex};
use kernel::workqueue::{self, impl_has_delayed_work, new_delayed_work, DelayedWork, WorkItem};
use kernel::{new_mutex, time};

#[path = "../../rust/vsock/mod.rs"]
mod vsock;

use vsock::bindings as b;
use vsock::net::Net;
use vsock::pktq::{PktHandler, PktWorker};
use vsock::skb::{SkbBox, SkbList};
use vsock::sock::VsockSock;
use vsock::transport::{common, Origin, Published, Registration, TransportDesc, TransportOps};

module! {
    type: VsockRsLoopback,
    name: "vsock_rs_loopback",
    authors: ["vsock-rust developers"],
    description: "loopback transport for vsock (Rust)",
    license: "GPL",
    alias: ["net-pf-40"],
    params: {
        steer: u8 {
            default: 1,
            description: "Deliver on the reader's CPU (receive steering); 0: on the sender's, as upstream",
        },
        swap_ms: u32 {
            default: 0,
            description: "Test: replace the device by a new one every swap_ms milliseconds (0: never)",
        },
    },
}

/// The worker: delivers queued packets to their receivers.
struct Deliver {
    /// Receive steering is on (the `steer` parameter at load).
    steer: bool,
}

impl PktHandler for Deliver {
    fn process(_worker: &PktWorker<Self>, pkts: &mut SkbList) {
        // Each packet comes from the namespace of its sender; the common
        // module accounts it as sent and feeds the taps just before it
        // delivers it.
        Loopback::desc().recv_pkts(pkts, Origin::Loopback);
    }
}

/// The loopback transport.
struct Loopback;

crate::vsock_rs_transport!(loopback_transport, Loopback);

impl TransportOps for Loopback {
    type Dev = PktWorker<Deliver>;
    const FEATURES: u32 = b::VRS_VSOCK_TRANSPORT_F_LOCAL;

    fn desc() -> &'static TransportDesc<Self> {
        &loopback_transport
    }

    fn local_cid(_dev: Option<&PktWorker<Deliver>>) -> u32 {
        b::VRS_VMADDR_CID_LOCAL
    }

    fn send_pkt(dev: Option<&PktWorker<Deliver>>, skb: SkbBox, _net: Option<&Net>) -> Result<u32> {
        let dev = dev.ok_or(ENODEV)?;
        let len = skb.len();
        // Delivered next to the reader (receive steering): on the sender's
        // CPU the worker would preempt the sender every few packets.
        let cpu = if dev.handler().steer {
            common::steer_cpu(&skb)
        } else {
            None
        };
        dev.push_on(cpu, skb);
        Ok(len)
    }

    fn cancel_pkt(dev: Option<&PktWorker<Deliver>>, vsk: &VsockSock) -> Result {
        if let Some(dev) = dev {
            common::purge_skbs(vsk, dev.queue());
        }
        Ok(())
    }

    fn stream_allow(
        _dev: Option<&PktWorker<Deliver>>,
        _vsk: &VsockSock,
        _cid: u32,
        _port: u32,
    ) -> bool {
        true
    }

    fn seqpacket_allow(
        _dev: Option<&PktWorker<Deliver>>,
        vsk: &VsockSock,
        _remote_cid: u32,
    ) -> bool {
        vsk.net_mode_global()
    }

    fn msgzerocopy_allow() -> bool {
        true
    }
}

/// A new device (worker); `held` until the one it replaces is drained.
fn new_device(steer: bool, held: bool) -> Result<impl PinInit<PktWorker<Deliver>, Error>> {
    PktWorker::new(c"vsock-loopback", Deliver { steer }, held)
}

/// Replaces the device every `period` jiffies (the `swap_ms` test).
#[pin_data]
struct Swapper {
    #[pin]
    dev: Mutex<Published<Loopback>>,
    steer: bool,
    period: time::Jiffies,
    swaps: AtomicU64,
    stop: AtomicBool,
    #[pin]
    stopped: Completion,
    #[pin]
    work: DelayedWork<Swapper>,
}

impl_has_delayed_work! {
    impl HasDelayedWork<Self> for Swapper { self.work }
}

impl Swapper {
    /// Swaps once: the new device queues packets from the moment it is
    /// published, but delivers them only once every packet queued on the
    /// old one is delivered, so each connection's packets keep their order.
    fn swap(&self) -> Result {
        let new = KBox::pin_init(new_device(self.steer, true)?, GFP_KERNEL)?;
        let mut dev = self.dev.lock();
        // After a grace period no sender reaches the old device; dropping
        // it drains its workqueue.
        drop(dev.replace(new));
        dev.dev().start();
        self.swaps.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl WorkItem for Swapper {
    type Pointer = Arc<Swapper>;

    fn run(this: Arc<Swapper>) {
        if this.stop.load(Ordering::Acquire) {
            this.stopped.complete_all();
            return;
        }
        if this.swap().is_err() {
            pr_warn!("device swap failed\n");
        }
        let period = this.period;
        // Not queued while it runs: this cannot fail.
        let _ = workqueue::system_long().enqueue_delayed(this, period);
    }
}

/// The device, fixed or swapped.
enum Device {
    Fixed { _dev: Published<Loopback> },
    Swapped(Arc<Swapper>),
}

struct VsockRsLoopback {
    // Unregistered first, then the device goes, as upstream's exit.
    _reg: Registration<Loopback>,
    dev: Device,
}

impl kernel::Module for VsockRsLoopback {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let steer = *module_parameters::steer.value() != 0;
        let swap_ms = *module_parameters::swap_ms.value();
        let published = Published::new(new_device(steer, false)?)?;
        let dev = if swap_ms == 0 {
            Device::Fixed { _dev: published }
        } else {
            let swapper = Arc::pin_init(
                pin_init!(Swapper {
                    dev <- new_mutex!(published, "vsock_rs_loopback_dev"),
                    steer,
                    period: time::msecs_to_jiffies(swap_ms).max(1),
                    swaps: AtomicU64::new(0),
                    stop: AtomicBool::new(false),
                    stopped <- Completion::new(),
                    work <- new_delayed_work!("vsock_rs_loopback_swap"),
                }),
                GFP_KERNEL,
            )?;
            let _ = workqueue::system_long().enqueue_delayed(swapper.clone(), swapper.period);
            Device::Swapped(swapper)
        };
        Ok(VsockRsLoopback {
            _reg: Registration::new()?,
            dev,
        })
    }
}

impl Drop for VsockRsLoopback {
    fn drop(&mut self) {
        if let Device::Swapped(swapper) = &self.dev {
            // The work always queues itself again until it sees `stop`.
            swapper.stop.store(true, Ordering::Release);
            swapper.stopped.wait_for_completion();
            pr_info!("{} device swaps\n", swapper.swaps.load(Ordering::Relaxed));
        }
    }
}
