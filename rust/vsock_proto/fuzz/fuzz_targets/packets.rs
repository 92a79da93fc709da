// SPDX-License-Identifier: GPL-2.0

//! Fuzz target: arbitrary byte streams as sequences of packets.
//!
//! The input is a 4-byte receive buffer size followed by records of a
//! 44-byte virtio-vsock header and one action byte.  Every header goes
//! through decoding, the receive rules of every socket state and the credit
//! accounting; the properties the kernel relies on are asserted: headers
//! round-trip, a reset is never answered, our receive budget is never
//! exceeded and the send window never over-commits the peer's buffer.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vsock_proto::credit::Credit;
use vsock_proto::hdr::{Hdr, HdrError, Op, HDR_LEN};
use vsock_proto::rules::{self, ListenAction};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let buf_alloc = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let mut c = Credit::new(buf_alloc);
    let mut peer_shutdown = 0u32;
    // Bytes given credit and not yet consumed by the peer, as the peer's
    // own counters say.
    for rec in data[4..].chunks(HDR_LEN + 1) {
        let h = match Hdr::decode(rec) {
            Ok(h) => h,
            Err(e) => {
                assert_eq!(e, HdrError::Short);
                assert!(rec.len() < HDR_LEN);
                break;
            }
        };
        assert_eq!(Hdr::decode(&h.encode()), Ok(h));
        let _ = h.vsockmon_hdr();

        // Receive rules: never panic, never answer a reset.
        match h.reset_reply() {
            Some(r) => {
                assert_ne!(h.op, Op::Rst as u16);
                assert_eq!((r.src_cid, r.dst_port), (h.dst_cid, h.src_port));
            }
            None => assert_eq!(h.op, Op::Rst as u16),
        }
        let action = rec.get(HDR_LEN).copied().unwrap_or(0);
        if let ListenAction::Accept = rules::on_listen(&h, action & 1 != 0, action & 2 != 0) {
            assert_eq!(h.op, Op::Request as u16);
        }
        let _ = rules::on_connecting(&h);
        if let rules::ConnectedAction::Shutdown {
            peer_shutdown: ps, ..
        } = rules::on_connected(&h, peer_shutdown)
        {
            assert_eq!(ps & peer_shutdown, peer_shutdown);
            peer_shutdown = ps & 3;
        }
        let _ = rules::on_closing(&h);

        // Credit: the header is a credit update from the peer, then one
        // local action.
        c.update_peer(h.buf_alloc, h.fwd_cnt);
        match action >> 2 & 3 {
            0 => {
                let space = c.has_space();
                let got = c.get_credit(h.len);
                assert!(got <= space && got <= h.len);
                // In flight never exceeds the window when credit was taken.
                if got > 0 {
                    assert!(c.tx_cnt.wrapping_sub(c.peer_fwd_cnt) <= c.tx_buf_size());
                }
            }
            1 => {
                let before = c.buf_used;
                if c.rx_enqueue(h.len, u32::from(action >> 4), 256) {
                    assert!(c.buf_used <= c.buf_alloc);
                    assert_eq!(c.buf_used, before + h.len);
                } else {
                    assert_eq!(c.buf_used, before);
                }
            }
            2 => {
                let n = h.len.min(c.rx_bytes).min(c.buf_used);
                c.rx_dequeue(n, n);
                let _ = c.needs_credit_update(h.src_port);
            }
            _ => {
                let n = h.len.min(c.bytes_unsent);
                c.put_credit(n);
                let _ = c.stamp_tx();
            }
        }
        assert!(c.has_space() <= c.tx_buf_size());
    }
});
