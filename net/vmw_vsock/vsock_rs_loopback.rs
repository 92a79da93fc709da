// SPDX-License-Identifier: GPL-2.0

//! vsock_rs_loopback: the loopback transport (CID 1) in Rust.
//!
//! The counterpart of upstream `vsock_loopback`: packets sent by a socket
//! are queued and handed back to the common module by a worker on the
//! "vsock-loopback" workqueue, as if they had arrived from a device.

use kernel::prelude::*;

#[path = "../../rust/vsock/mod.rs"]
mod vsock;

use vsock::bindings as b;
use vsock::pktq::{PktHandler, PktWorker};
use vsock::skb::{SkbBox, SkbList};
use vsock::sock::VsockSock;
use vsock::transport::{common, Registration, TransportDesc, TransportOps};

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
    },
}

/// The worker: delivers queued packets to their receivers.
struct Deliver {
    /// Receive steering is on (the `steer` parameter at load).
    steer: bool,
}

impl PktHandler for Deliver {
    fn process(_worker: &PktWorker<Self>, pkts: &mut SkbList) {
        pkts.for_each_mut(|skb| {
            // The payload left the sender; the receiver frees the skb.
            common::consume_skb_sent(skb);
            common::deliver_tap_pkt(skb);
        });
        // Each packet comes from the namespace of its sender (null `net`).
        Loopback::desc().recv_pkts(pkts, core::ptr::null_mut());
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

    fn local_cid() -> u32 {
        b::VRS_VMADDR_CID_LOCAL
    }

    fn send_pkt(dev: &PktWorker<Deliver>, skb: SkbBox, _net: *mut b::net) -> Result<u32> {
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

    fn cancel_pkt(dev: &PktWorker<Deliver>, vsk: &VsockSock) -> Result {
        common::purge_skbs(vsk, dev.queue());
        Ok(())
    }

    fn stream_allow(_vsk: &VsockSock, _cid: u32, _port: u32) -> bool {
        true
    }

    fn seqpacket_allow(vsk: &VsockSock, _remote_cid: u32) -> bool {
        vsk.net_mode_global()
    }

    fn msgzerocopy_allow() -> bool {
        true
    }
}

struct VsockRsLoopback {
    _reg: Registration<Loopback>,
}

impl kernel::Module for VsockRsLoopback {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let steer = *module_parameters::steer.value() != 0;
        let worker = PktWorker::new(c"vsock-loopback", Deliver { steer })?;
        Ok(VsockRsLoopback {
            _reg: Registration::new(worker)?,
        })
    }
}
