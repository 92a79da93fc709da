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

// The transport is safe Rust: only the abstractions (rust/) allow unsafe_code.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::{new_mutex, time};

#[path = "../../rust/vsock/mod.rs"]
#[allow(unsafe_code)]
mod vsock;

use vsock::bindings as b;
use vsock::net::Net;
use vsock::periodic::{Periodic, Tick};
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

/// Replaces the device by a new one (the `swap_ms` test).
struct Swapper {
    dev: Pin<KBox<Mutex<Published<Loopback>>>>,
    steer: bool,
    swaps: AtomicU64,
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

impl Tick for Swapper {
    fn tick(&self) {
        if self.swap().is_err() {
            pr_warn!("device swap failed\n");
        }
    }
}

/// The device, fixed or swapped.
enum Device {
    Fixed { _dev: Published<Loopback> },
    Swapped(Pin<KBox<Periodic<Swapper>>>),
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
            let swapper = Swapper {
                dev: KBox::pin_init(new_mutex!(published, "vsock_rs_loopback_dev"), GFP_KERNEL)?,
                steer,
                swaps: AtomicU64::new(0),
            };
            let period = u64::try_from(time::msecs_to_jiffies(swap_ms)).unwrap_or(1);
            Device::Swapped(KBox::pin_init(Periodic::new(swapper, period), GFP_KERNEL)?)
        };
        let reg = Registration::new()?;
        // Swaps start once the transport is registered (on failure,
        // nothing was queued).
        if let Device::Swapped(p) = &dev {
            p.as_ref().start();
        }
        Ok(VsockRsLoopback { _reg: reg, dev })
    }
}

impl Drop for VsockRsLoopback {
    fn drop(&mut self) {
        if let Device::Swapped(p) = &self.dev {
            p.stop();
            pr_info!(
                "{} device swaps\n",
                p.handler().swaps.load(Ordering::Relaxed)
            );
        }
    }
}
