// SPDX-License-Identifier: GPL-2.0

//! Receive steering: on which CPU a flow's reader last read.
//!
//! Like RFS (`rps_sock_flow_table`, Documentation/networking/scaling.rst),
//! a reader records its CPU under the hash of the flow it reads, and the
//! sender of the flow's next packet looks the CPU up.  The loopback
//! transport delivers there, so the receiving worker runs next to the
//! reader and not on the sender's CPU, where it preempts the sender for
//! every few packets.
//!
//! The table is a hint: entries are lock-free, collisions and stale
//! entries only send a packet's delivery to another CPU.

use core::sync::atomic::{AtomicU32, Ordering};

/// Entries in a [`FlowTable`] (a power of two).
pub const FLOW_ENTRIES: usize = 256;

/// A flow: the ports of its packets, as in their header.
///
/// Only the ports: on the loopback every CID is local, and a socket may
/// know its peer by another CID than the one its packets carry (a socket
/// connected to the guest's own CID gets packets from CID 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Source (the sender's) port.
    pub src_port: u32,
    /// Destination (the reader's) port.
    pub dst_port: u32,
}

impl Flow {
    /// The table slot of the flow.
    pub fn slot(&self) -> usize {
        // Multiplicative (Fibonacci) hashing; the top bits are the slot.
        let ports = (u64::from(self.src_port) << 32) | u64::from(self.dst_port);
        let h = ports.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> (64 - FLOW_ENTRIES.trailing_zeros())) as usize
    }
}

/// CPUs of flows' readers.
///
/// # Invariants
///
/// An entry is 0 (no reader recorded) or the reader's CPU plus one.
pub struct FlowTable {
    cpus: [AtomicU32; FLOW_ENTRIES],
}

impl Default for FlowTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowTable {
    /// An empty table.
    pub const fn new() -> Self {
        FlowTable {
            cpus: [const { AtomicU32::new(0) }; FLOW_ENTRIES],
        }
    }

    /// The reader of `flow` reads on `cpu`.
    pub fn record(&self, flow: &Flow, cpu: u32) {
        let e = &self.cpus[flow.slot()];
        let v = cpu.wrapping_add(1);
        // Written only when it changes, so that readers that stay on their
        // CPU do not bounce the cache line (as `sock_rps_record_flow_hash`).
        if v != 0 && e.load(Ordering::Relaxed) != v {
            e.store(v, Ordering::Relaxed);
        }
    }

    /// The CPU of `flow`'s reader, if one was recorded.
    pub fn lookup(&self, flow: &Flow) -> Option<u32> {
        self.cpus[flow.slot()]
            .load(Ordering::Relaxed)
            .checked_sub(1)
    }

    /// Forgets every flow.
    pub fn clear(&self) {
        for e in &self.cpus {
            e.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;

    fn flow(src_port: u32, dst_port: u32) -> Flow {
        Flow { src_port, dst_port }
    }

    #[test]
    fn unknown_flow_has_no_cpu() {
        let t = FlowTable::new();
        assert_eq!(t.lookup(&flow(1024, 5000)), None);
    }

    #[test]
    fn records_and_moves() {
        let t = FlowTable::new();
        let f = flow(1024, 5000);
        t.record(&f, 0);
        assert_eq!(t.lookup(&f), Some(0));
        t.record(&f, 7);
        assert_eq!(t.lookup(&f), Some(7));
        t.clear();
        assert_eq!(t.lookup(&f), None);
    }

    #[test]
    fn cpu_u32_max_is_not_recorded() {
        let t = FlowTable::new();
        let f = flow(1, 2);
        t.record(&f, u32::MAX);
        assert_eq!(t.lookup(&f), None);
    }

    #[test]
    fn direction_matters() {
        // A connection's two flows are steered apart: each to its reader.
        let t = FlowTable::new();
        let a = flow(1024, 5000);
        let b = flow(5000, 1024);
        assert_ne!(a.slot(), b.slot());
        t.record(&a, 1);
        t.record(&b, 0);
        assert_eq!(t.lookup(&a), Some(1));
        assert_eq!(t.lookup(&b), Some(0));
    }

    #[test]
    fn consecutive_ports_spread() {
        // Ephemeral ports are handed out in sequence; their flows to one
        // listener must not pile up in a few slots.
        let mut used = std::collections::BTreeSet::new();
        for p in 0..64u32 {
            used.insert(flow(49152 + p, 1234).slot());
        }
        assert!(used.len() >= 48, "{} slots for 64 flows", used.len());
    }

    proptest! {
        #[test]
        fn slot_in_range(sp in any::<u32>(), dp in any::<u32>()) {
            let f = Flow { src_port: sp, dst_port: dp };
            prop_assert!(f.slot() < FLOW_ENTRIES);
        }

        #[test]
        fn last_record_wins(cpus in proptest::collection::vec(0u32..4096, 1..16), sp in any::<u32>()) {
            let t = FlowTable::new();
            let f = flow(sp, 80);
            for &c in &cpus {
                t.record(&f, c);
            }
            prop_assert_eq!(t.lookup(&f), cpus.last().copied());
        }
    }
}
