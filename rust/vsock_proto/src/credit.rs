// SPDX-License-Identifier: GPL-2.0

//! Per-socket credit accounting (the counters of `struct virtio_vsock_sock`).
//!
//! All counters are free-running `u32`s that wrap, exactly as on the wire, so
//! every update uses wrapping arithmetic.  The lock that protects them in the
//! kernel (`tx_lock` for the TX side, `rx_lock` for the RX side) is the
//! caller's business.

use super::hdr::{MAX_BUF_SIZE, MAX_PKT_BUF_SIZE};

/// Credit state of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credit {
    /// Our receive buffer size, advertised to the peer.
    pub buf_alloc: u32,
    /// Bytes consumed from our receive buffer, advertised to the peer.
    pub fwd_cnt: u32,
    /// `fwd_cnt` as last advertised.
    pub last_fwd_cnt: u32,
    /// Bytes queued for the reader (not yet read).
    pub rx_bytes: u32,
    /// Bytes of received packets still held (counted until the packet is
    /// fully dequeued).
    pub buf_used: u32,
    /// The peer's receive buffer size.
    pub peer_buf_alloc: u32,
    /// The peer's consumed-bytes counter.
    pub peer_fwd_cnt: u32,
    /// Bytes we have sent (wrapping).
    pub tx_cnt: u32,
    /// Bytes given credit but not yet handed to the device (`SIOCOUTQ`).
    pub bytes_unsent: u32,
}

impl Credit {
    /// A fresh socket with receive buffer `buf_alloc`.
    pub const fn new(buf_alloc: u32) -> Credit {
        Credit {
            buf_alloc,
            fwd_cnt: 0,
            last_fwd_cnt: 0,
            rx_bytes: 0,
            buf_used: 0,
            peer_buf_alloc: 0,
            peer_fwd_cnt: 0,
            tx_cnt: 0,
            bytes_unsent: 0,
        }
    }

    /// The TX window size: the peer's buffer, capped by our own so that a
    /// peer cannot make us queue more than our configuration allows.
    pub fn tx_buf_size(&self) -> u32 {
        self.peer_buf_alloc.min(self.buf_alloc)
    }

    /// Bytes we may still send: `tx_buf_size - (tx_cnt - peer_fwd_cnt)`,
    /// clamped at zero (the peer may shrink its buffer with data in flight).
    pub fn has_space(&self) -> u32 {
        let in_flight = i64::from(self.tx_cnt.wrapping_sub(self.peer_fwd_cnt));
        let bytes = i64::from(self.tx_buf_size()) - in_flight;
        // `bytes` is at most `tx_buf_size`, so it fits once clamped.
        u32::try_from(bytes.max(0)).unwrap_or(0)
    }

    /// Takes up to `want` bytes of credit (`virtio_transport_get_credit`).
    pub fn get_credit(&mut self, want: u32) -> u32 {
        if want == 0 {
            return 0;
        }
        let got = want.min(self.has_space());
        self.tx_cnt = self.tx_cnt.wrapping_add(got);
        self.bytes_unsent = self.bytes_unsent.wrapping_add(got);
        got
    }

    /// Returns credit that was taken but not used (`virtio_transport_put_credit`).
    pub fn put_credit(&mut self, credit: u32) {
        self.tx_cnt = self.tx_cnt.wrapping_sub(credit);
        self.bytes_unsent = self.bytes_unsent.wrapping_sub(credit);
    }

    /// `len` payload bytes left for the device (`virtio_transport_consume_skb_sent`).
    pub fn sent(&mut self, len: u32) {
        self.bytes_unsent = self.bytes_unsent.wrapping_sub(len);
    }

    /// Records the peer's credit from a received header and tells whether
    /// we may send now (`virtio_transport_space_update`).
    pub fn update_peer(&mut self, buf_alloc: u32, fwd_cnt: u32) -> bool {
        self.peer_buf_alloc = buf_alloc;
        self.peer_fwd_cnt = fwd_cnt;
        self.has_space() > 0
    }

    /// The `(buf_alloc, fwd_cnt)` to put in an outgoing header; marks the
    /// counter as advertised (`virtio_transport_inc_tx_pkt`).
    pub fn stamp_tx(&mut self) -> (u32, u32) {
        self.last_fwd_cnt = self.fwd_cnt;
        (self.buf_alloc, self.fwd_cnt)
    }

    /// Accounts a received packet of `len` payload bytes, when `queued_skbs`
    /// packets of `skb_overhead` bytes each are already queued
    /// (`virtio_transport_inc_rx_pkt`).  `false` means the peer ignored our
    /// credit (or flooded us with tiny packets): the packet must be dropped
    /// and the connection reset.
    pub fn rx_enqueue(&mut self, len: u32, queued_skbs: u32, skb_overhead: u32) -> bool {
        let overhead = (u64::from(queued_skbs) + 1) * u64::from(skb_overhead);
        if u64::from(self.buf_used) + u64::from(len) > u64::from(self.buf_alloc)
            || overhead > u64::from(self.buf_alloc)
        {
            return false;
        }
        self.rx_bytes = self.rx_bytes.wrapping_add(len);
        self.buf_used = self.buf_used.wrapping_add(len);
        true
    }

    /// Accounts a read of `bytes_read` bytes that fully consumed packets
    /// carrying `bytes_dequeued` bytes (`virtio_transport_dec_rx_pkt`).
    pub fn rx_dequeue(&mut self, bytes_read: u32, bytes_dequeued: u32) {
        self.rx_bytes = self.rx_bytes.wrapping_sub(bytes_read);
        self.buf_used = self.buf_used.wrapping_sub(bytes_dequeued);
        self.fwd_cnt = self.fwd_cnt.wrapping_add(bytes_dequeued);
    }

    /// Whether a read should be followed by a credit update
    /// (`virtio_transport_stream_do_dequeue`): something was consumed since
    /// the last advertisement, and either less than one maximum packet of
    /// window is left, or fewer bytes are queued than wake the reader
    /// (`rcvlowat`, 1 by default: every read that empties the queue).
    ///
    /// This is upstream's rule, unchanged.  A sender's window is
    /// `min(peer_buf_alloc, own buf_alloc) - in_flight` since 7.2 (older
    /// senders and other implementations use `peer_buf_alloc` alone or
    /// wait differently), so a sender whose own buffer is far smaller than
    /// ours runs out of credit long before our free space gets low: only
    /// the update on an emptied queue reopens its window
    /// (`credit_flow_never_stalls` checks both kinds of sender).
    pub fn needs_credit_update(&self, rcvlowat: u32) -> bool {
        let delta = self.fwd_cnt.wrapping_sub(self.last_fwd_cnt);
        let free_space = self.buf_alloc.wrapping_sub(delta);
        delta != 0 && (free_space < MAX_PKT_BUF_SIZE || self.rx_bytes < rcvlowat)
    }

    /// Sets our buffer size from `SO_VM_SOCKETS_BUFFER_SIZE`, clamped as
    /// upstream does; returns the value the socket keeps.
    pub fn set_buf_alloc(&mut self, val: u64) -> u64 {
        let val = val.min(MAX_BUF_SIZE);
        // Clamped to u32::MAX just above.
        self.buf_alloc = u32::try_from(val).unwrap_or(u32::MAX);
        val
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn window_is_min_of_both_buffers() {
        let mut c = Credit::new(4096);
        assert!(c.update_peer(1 << 20, 0));
        assert_eq!(c.has_space(), 4096);
        assert!(c.update_peer(1000, 0));
        assert_eq!(c.has_space(), 1000);
    }

    #[test]
    fn credit_is_clamped_when_peer_shrinks() {
        let mut c = Credit::new(1 << 20);
        c.update_peer(8192, 0);
        assert_eq!(c.get_credit(8192), 8192);
        assert!(!c.update_peer(4096, 0));
        assert_eq!(c.has_space(), 0);
        assert_eq!(c.get_credit(1), 0);
    }

    #[test]
    fn counters_wrap() {
        let mut c = Credit::new(65536);
        c.tx_cnt = u32::MAX - 100;
        c.update_peer(65536, u32::MAX - 100);
        assert_eq!(c.get_credit(1000), 1000);
        assert_eq!(c.tx_cnt, 899);
        assert_eq!(c.has_space(), 64536);
        c.update_peer(65536, 899);
        assert_eq!(c.has_space(), 65536);
    }

    #[test]
    fn put_credit_returns_unused_credit() {
        let mut c = Credit::new(4096);
        c.update_peer(4096, 0);
        assert_eq!(c.get_credit(3000), 3000);
        c.put_credit(1000);
        assert_eq!(
            (c.tx_cnt, c.bytes_unsent, c.has_space()),
            (2000, 2000, 2096)
        );
        c.sent(2000);
        assert_eq!(c.bytes_unsent, 0);
    }

    #[test]
    fn rx_overflow_is_refused() {
        let mut c = Credit::new(1000);
        assert!(c.rx_enqueue(600, 0, 0));
        assert!(!c.rx_enqueue(401, 1, 0));
        assert!(c.rx_enqueue(400, 1, 0));
        assert_eq!(c.rx_bytes, 1000);
        // Queue overhead alone can exhaust the budget.
        let mut c = Credit::new(1000);
        assert!(!c.rx_enqueue(1, 3, 256));
    }

    #[test]
    fn credit_update_rules() {
        let mut c = Credit::new(256 * 1024);
        assert!(!c.needs_credit_update(1));
        assert!(c.rx_enqueue(100, 0, 0));
        // Nothing consumed yet: no update, whatever is queued.
        assert!(!c.needs_credit_update(1000));
        c.rx_dequeue(100, 100);
        // The queue ran empty (upstream's `rx_bytes < SO_RCVLOWAT` with
        // the default of 1): update, however much window is left.
        assert!(c.needs_credit_update(1));
        // SO_RCVLOWAT 0 is read as 1 by sock_rcvlowat(); with 0 itself
        // only the low-window rule is left.
        assert!(!c.needs_credit_update(0));
        c.stamp_tx();
        // Advertised: nothing new to tell.
        assert!(!c.needs_credit_update(1));
        assert!(!c.needs_credit_update(200));
        // Data still queued, below a larger SO_RCVLOWAT: update.
        assert!(c.rx_enqueue(300, 0, 0));
        c.rx_dequeue(150, 150);
        assert!(c.needs_credit_update(200));
        assert!(!c.needs_credit_update(100));
        c.rx_dequeue(150, 150);
        c.stamp_tx();
        // Still queued data: only the low-window rule applies.
        // Consume until less than 64 KiB of window is left, keeping one
        // byte queued.
        assert!(c.rx_enqueue(1, 0, 0));
        for _ in 0..4 {
            assert!(c.rx_enqueue(48 * 1024, 0, 0));
            c.rx_dequeue(48 * 1024, 48 * 1024);
        }
        // Exactly 64 KiB left: not yet.
        assert!(!c.needs_credit_update(1));
        assert!(c.rx_enqueue(1, 0, 0));
        c.rx_dequeue(1, 1);
        assert!(c.needs_credit_update(1));
    }

    /// The reported hang: a 7.2 sender with a 16 KiB buffer against a
    /// 256 KiB reader stalls after 16 KiB unless the read that empties the
    /// queue sends an update.
    #[test]
    fn small_capping_sender_gets_credit_back() {
        let mut rx = Credit::new(256 * 1024);
        let mut tx = Credit::new(16 * 1024);
        tx.update_peer(256 * 1024, 0);
        assert_eq!(tx.get_credit(64 * 1024), 16 * 1024);
        assert_eq!(tx.get_credit(1), 0);
        assert!(rx.rx_enqueue(16 * 1024, 0, 0));
        rx.rx_dequeue(16 * 1024, 16 * 1024);
        assert!(rx.needs_credit_update(1));
        let (b, f) = rx.stamp_tx();
        assert!(tx.update_peer(b, f));
        assert_eq!(tx.get_credit(64 * 1024), 16 * 1024);
    }

    #[test]
    fn buffer_size_is_clamped() {
        let mut c = Credit::new(0);
        assert_eq!(c.set_buf_alloc(1 << 40), MAX_BUF_SIZE);
        assert_eq!(c.buf_alloc, u32::MAX);
        assert_eq!(c.set_buf_alloc(4096), 4096);
    }

    #[derive(Clone, Debug)]
    enum Step {
        Send(u32),
        PeerReads(u32),
        PeerResizes(u32),
        Unsend(u32),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u32..200_000).prop_map(Step::Send),
            (0u32..200_000).prop_map(Step::PeerReads),
            (0u32..600_000).prop_map(Step::PeerResizes),
            (0u32..200_000).prop_map(Step::Unsend),
        ]
    }

    /// Buffer sizes from the 128-byte minimum to 2 MiB, with the sizes
    /// around one packet (64 KiB) and the defaults often.
    fn buf_size() -> impl Strategy<Value = u32> {
        prop_oneof![
            128u32..2_097_152,
            Just(128u32),
            Just(16 * 1024),
            Just(32 * 1024),
            Just(64 * 1024),
            Just(256 * 1024),
            Just(2 * 1024 * 1024),
        ]
    }

    proptest! {
        /// However sends, peer reads, peer buffer changes and returned credit
        /// interleave, and wherever the counters start, bytes in flight never
        /// exceed the window that was in force when they were granted, and
        /// the peer never receives more than its buffer can hold.
        #[test]
        fn credit_never_overcommits(start in any::<u32>(), buf in 1u32..600_000,
                                    steps in proptest::collection::vec(step(), 1..200)) {
            let mut c = Credit::new(buf);
            c.tx_cnt = start;
            c.update_peer(buf, start);
            // What the peer has received but not consumed.
            let mut peer_queued: u64 = 0;
            let mut peer_fwd = start;
            let mut peer_buf = buf;
            for s in steps {
                match s {
                    Step::Send(n) => {
                        let got = c.get_credit(n);
                        prop_assert!(got <= n);
                        peer_queued += u64::from(got);
                        if got > 0 {
                            prop_assert!(peer_queued <= u64::from(c.tx_buf_size()));
                            prop_assert!(peer_queued <= u64::from(peer_buf));
                        }
                        c.sent(got);
                    }
                    Step::PeerReads(n) => {
                        let n = n.min(u32::try_from(peer_queued).unwrap());
                        peer_queued -= u64::from(n);
                        peer_fwd = peer_fwd.wrapping_add(n);
                        c.update_peer(peer_buf, peer_fwd);
                    }
                    Step::PeerResizes(b) => {
                        peer_buf = b;
                        c.update_peer(peer_buf, peer_fwd);
                    }
                    Step::Unsend(n) => {
                        // Only credit taken by this very send can go back.
                        let got = c.get_credit(n);
                        c.put_credit(got);
                    }
                }
                let in_flight = c.tx_cnt.wrapping_sub(c.peer_fwd_cnt);
                prop_assert_eq!(u64::from(in_flight), peer_queued);
                prop_assert!(c.has_space() <= c.tx_buf_size());
                if u64::from(c.tx_buf_size()) >= peer_queued {
                    prop_assert_eq!(u64::from(c.has_space()),
                                    u64::from(c.tx_buf_size()) - peer_queued);
                } else {
                    prop_assert_eq!(c.has_space(), 0);
                }
                prop_assert_eq!(c.bytes_unsent, 0);
            }
        }

        /// A sender and a reader that follow the credit rules always finish
        /// a transfer, whatever the two ends' buffer sizes, SO_RCVLOWAT and
        /// read sizes: the reader's credit updates never leave both sides
        /// waiting.  The sender either caps its window by its own buffer
        /// (7.2, `min(peer_buf_alloc, buf_alloc)`) or does not (older
        /// kernels and other implementations: `peer_buf_alloc`).  Packets
        /// carry at most 64 KiB; the reader's buffer may change mid-way
        /// (`SO_VM_SOCKETS_BUFFER_SIZE`, which sends an update).
        #[test]
        fn credit_flow_never_stalls(rx_buf in buf_size(), tx_buf in buf_size(),
                                    capping in any::<bool>(),
                                    lowat_pct in 0u32..=100,
                                    total in 1u64..3_000_000, chunk in 1u32..200_000,
                                    reads in proptest::collection::vec(1u32..300_000, 1..50)) {
            let mut rx = Credit::new(rx_buf);
            // A sender that does not cap has, in effect, an unlimited own
            // buffer in the window computation.
            let mut tx = Credit::new(if capping { tx_buf } else { u32::MAX });
            tx.update_peer(rx_buf, 0);
            // SO_RCVLOWAT is at most the buffer size (vsock_set_rcvlowat),
            // and sock_rcvlowat() reads it as at least 1.  Above the window
            // the sender can ever fill (a capping sender's own buffer), this
            // model's reader (which waits for SO_RCVLOWAT bytes) would wait
            // for bytes that cannot come; the kernel's reader then depends
            // on timing (vsock_data_ready wakes it only at SO_RCVLOWAT), with
            // upstream as with us.  The bufmatrix VM suite runs those sizes.
            let window = if capping { rx_buf.min(tx_buf) } else { rx_buf };
            let lowat = (u64::from(window) * u64::from(lowat_pct) / 100).max(1) as u32;
            let (mut sent, mut received) = (0u64, 0u64);
            let mut step = 0usize;
            while received < total {
                step += 1;
                prop_assert!(step < 1_000_000, "no progress");
                // The sender sends what its credit allows, in packets of at
                // most 64 KiB; packets arrive at once.
                let want = (total - sent).min(u64::from(chunk)) as u32;
                let n = tx.get_credit(want);
                let mut left = n;
                while left > 0 {
                    let pkt = left.min(MAX_PKT_BUF_SIZE);
                    tx.sent(pkt);
                    prop_assert!(rx.rx_enqueue(pkt, 0, 0), "peer overran our credit");
                    left -= pkt;
                }
                sent += u64::from(n);
                // The reader wakes once SO_RCVLOWAT bytes (or the rest of the
                // transfer) are queued, and reads some of them.
                let target = u64::from(lowat).min(total - received);
                if u64::from(rx.rx_bytes) >= target && rx.rx_bytes > 0 {
                    let r = rx.rx_bytes.min(reads[step % reads.len()].max(target as u32));
                    rx.rx_dequeue(r, r);
                    received += u64::from(r);
                    if rx.needs_credit_update(lowat) {
                        let (b, f) = rx.stamp_tx();
                        tx.update_peer(b, f);
                    }
                } else if n == 0 {
                    prop_assert!(false, "both sides wait: sent {} received {} (rx {} tx {} capping {})",
                                 sent, received, rx_buf, tx_buf, capping);
                }
            }
        }

        /// Receive accounting: rx_bytes and buf_used never exceed buf_alloc,
        /// and fwd_cnt advances by exactly what was dequeued.
        #[test]
        fn rx_accounting(buf in 0u32..300_000, start in any::<u32>(),
                         pkts in proptest::collection::vec(0u32..70_000, 0..100)) {
            let mut c = Credit::new(buf);
            c.fwd_cnt = start;
            let mut dequeued: u64 = 0;
            for len in pkts {
                if c.rx_enqueue(len, 0, 0) {
                    prop_assert!(c.buf_used <= buf && c.rx_bytes <= buf);
                    if len % 2 == 0 {
                        let used = c.buf_used;
                        c.rx_dequeue(c.rx_bytes, used);
                        dequeued += u64::from(used);
                    }
                }
            }
            prop_assert_eq!(c.fwd_cnt, start.wrapping_add((dequeued % (1u64 << 32)) as u32));
        }
    }
}
