// SPDX-License-Identifier: GPL-2.0

//! KUnit suite of the receive queue and packet building, on real skbs and
//! per-socket state (no socket needed).

use super::{recv, rx, tx, VvSock};
use crate::vsock::bindings as b;
use crate::vsock::iov::{Kvec, KvecIter};
use crate::vsock::proto::credit::Credit;
use crate::vsock::proto::hdr::{Hdr, Op, SockType, HDR_LEN, MON_HDR_LEN, SEQ_EOM};
use crate::vsock::skb::SkbBox;
use crate::vsock::tap;
use crate::vsock::transport::CommonOps;
use kernel::prelude::*;

fn hdr(op: Op, len: u32, flags: u32) -> Hdr {
    Hdr {
        src_cid: 1,
        dst_cid: 1,
        src_port: 1025,
        dst_port: 1234,
        len,
        ty: SockType::Stream as u16,
        op: op as u16,
        flags,
        buf_alloc: 262_144,
        fwd_cnt: 0,
    }
}

/// A received RW packet carrying `data`.
fn pkt(data: &[u8], flags: u32) -> Result<SkbBox> {
    let len = u32::try_from(data.len()).map_err(|_| EINVAL)?;
    let mut skb = SkbBox::alloc(len, true)?;
    skb.set_hdr(&hdr(Op::Rw, len, flags));
    skb.put_slice(data)?;
    Ok(skb)
}

/// Queues a received packet as `recv_connected` does.
fn enq(v: &VvSock, skb: SkbBox) -> bool {
    let h = skb.hdr();
    rx::enqueue(v, skb, &h).accepted
}

fn vvs(buf_alloc: u32) -> Result<Pin<KBox<VvSock>>> {
    KBox::pin_init(VvSock::new(buf_alloc, 0)?, GFP_KERNEL)
}

/// The payload of the whole receive queue, in order.
fn queued_bytes(v: &VvSock) -> Result<KVec<u8>> {
    let rx = v.rx.lock();
    let mut out = KVec::new();
    for skb in rx.queue.iter() {
        let mut buf = KVec::from_elem(0u8, (skb.len() - skb.offset()) as usize, GFP_KERNEL)?;
        skb.copy_bits(skb.offset(), &mut buf)?;
        out.extend_from_slice(&buf, GFP_KERNEL)?;
    }
    Ok(out)
}

#[kunit_tests(vsock_rs_common_rx)]
mod suite {
    use super::*;

    #[test]
    fn header_fields_match_decoding() -> Result {
        let mut skb = pkt(&[5; 33], SEQ_EOM)?;
        assert_eq!(skb.hdr_len(), 33);
        assert_eq!(skb.hdr_flags(), SEQ_EOM);
        skb.set_hdr_len(0x0102_0304);
        skb.set_hdr_flags(0x8000_0003);
        skb.set_hdr_credit(0xdead_beef, 0x1234_5678);
        let h = skb.hdr();
        let mut want = hdr(Op::Rw, 0x0102_0304, 0x8000_0003);
        want.buf_alloc = 0xdead_beef;
        want.fwd_cnt = 0x1234_5678;
        assert_eq!(h, want);
        assert_eq!(skb.len(), 33);
        assert!(!skb.is_nonlinear());
        Ok(())
    }

    #[test]
    fn small_packets_merge_into_tail() -> Result {
        let v = vvs(262_144)?;
        assert!(enq(&v, pkt(&[1; 100], 0)?));
        assert!(enq(&v, pkt(&[2; 100], 0)?));
        assert_eq!(v.rx.lock().queue.len(), 1);
        let c = *v.credit.lock();
        assert_eq!((c.rx_bytes, c.buf_used), (200, 200));
        let front_len = v.rx.lock().queue.front().map(|s| s.hdr().len);
        assert_eq!(front_len, Some(200));
        Ok(())
    }

    #[test]
    fn message_boundaries_are_kept() -> Result {
        let v = vvs(262_144)?;
        assert!(enq(&v, pkt(&[1; 10], SEQ_EOM)?));
        assert!(enq(&v, pkt(&[2; 10], 0)?));
        assert_eq!((v.rx.lock().queue.len(), v.msg_count()), (2, 1));
        Ok(())
    }

    #[test]
    fn large_packets_are_not_merged() -> Result {
        let v = vvs(262_144)?;
        assert!(enq(&v, pkt(&[1; 200], 0)?));
        assert!(enq(&v, pkt(&[2; 129], 0)?));
        assert_eq!(v.rx.lock().queue.len(), 2);
        Ok(())
    }

    #[test]
    fn credit_overrun_is_refused() -> Result {
        let v = vvs(1000)?;
        assert!(enq(&v, pkt(&[0; 800], 0)?));
        assert!(!enq(&v, pkt(&[0; 300], 0)?));
        assert_eq!(v.credit.lock().rx_bytes, 800);
        // What stream_has_data reads without the lock follows.
        assert_eq!(v.credit.rx_bytes(), 800);
        Ok(())
    }

    #[test]
    fn collapse_under_queue_pressure_keeps_data() -> Result {
        // A 64 KiB buffer allows buf_alloc / SKB_TRUESIZE(0) queued skbs;
        // 200-byte packets are too big to merge, so the queue fills up and
        // must be collapsed, without losing or reordering a byte.
        let buf = 65_536u32;
        let v = vvs(buf)?;
        let queue_max = buf / b::VRS_SKB_TRUESIZE0;
        let n = queue_max + 20;
        let mut expect = KVec::new();
        for i in 0..n {
            let data = [(i % 251) as u8; 200];
            expect.extend_from_slice(&data, GFP_KERNEL)?;
            if !enq(&v, pkt(&data, 0)?) {
                break;
            }
        }
        assert!(v.rx.lock().queue.len() <= queue_max);
        let got = queued_bytes(&v)?;
        assert_eq!(got.len() as u32, v.credit.lock().rx_bytes);
        assert_eq!(v.credit.rx_bytes(), v.credit.lock().rx_bytes);
        assert_eq!(&got[..], &expect[..got.len()]);
        Ok(())
    }

    #[test]
    fn tx_packets_carry_our_credit() -> Result {
        let v = vvs(4096)?;
        assert!(enq(&v, pkt(&[7; 50], 0)?));
        assert_eq!(v.credit.rx_bytes(), 50);
        v.credit.lock().rx_dequeue(50, 50);
        assert_eq!(v.credit.rx_bytes(), 0);
        let mut skb = tx::alloc_pkt(&hdr(Op::CreditUpdate, 0, 0), None, None, false, None, true)?;
        tx::stamp_credit(&v, &mut skb);
        let h = skb.hdr();
        assert_eq!((h.buf_alloc, h.fwd_cnt, h.len), (4096, 50, 0));
        assert!(skb.is_reply());
        assert_eq!(v.credit.lock().last_fwd_cnt, 50);
        Ok(())
    }

    #[test]
    fn steering_follows_the_reader() -> Result {
        // A packet of flow 1025 -> 1234 is steered to where the reader of
        // port 1234 (peer 1025) last read, and the reverse flow is not.
        let skb = pkt(&[1; 8], 0)?;
        let back = tx::alloc_pkt(
            &Hdr {
                src_port: 1234,
                dst_port: 1025,
                ..hdr(Op::Rw, 0, 0)
            },
            None,
            None,
            false,
            None,
            true,
        )?;
        super::super::record_flow_cpu(1234, 1025, 3);
        assert_eq!(
            <super::super::Common as CommonOps>::steer_cpu(&skb),
            Some(3)
        );
        assert_ne!(
            <super::super::Common as CommonOps>::steer_cpu(&back),
            Some(3)
        );
        super::super::record_flow_cpu(1234, 1025, 0);
        assert_eq!(
            <super::super::Common as CommonOps>::steer_cpu(&skb),
            Some(0)
        );
        Ok(())
    }

    /// A peer's `hdr.len` that disagrees with the payload the packet holds
    /// (longer, shorter, or absurd) gets the packet dropped before any
    /// credit is accounted.
    #[test]
    fn header_length_must_match_payload() -> Result {
        let mut skb = pkt(&[9; 100], 0)?;
        assert!(recv::payload_matches(&skb, &skb.hdr()));
        for bad in [101, 99, 0, 4096, 65_536, u32::MAX] {
            skb.set_hdr_len(bad);
            assert!(!recv::payload_matches(&skb, &skb.hdr()));
        }
        // A control packet claiming a payload it does not carry.
        let mut ctl = tx::alloc_pkt(&hdr(Op::CreditUpdate, 0, 0), None, None, false, None, true)?;
        assert!(recv::payload_matches(&ctl, &ctl.hdr()));
        ctl.set_hdr_len(16);
        assert!(!recv::payload_matches(&ctl, &ctl.hdr()));
        // Part of the payload already consumed: not a fresh packet.
        skb.set_hdr_len(100);
        skb.set_offset(1);
        assert!(!recv::payload_matches(&skb, &skb.hdr()));
        Ok(())
    }

    /// The tap copy never trusts `hdr.len` beyond the packet, and its size
    /// arithmetic cannot overflow (a panic with overflow checks).
    #[test]
    fn tap_copy_is_bounded_by_the_packet() -> Result {
        let mut skb = pkt(&[3; 64], 0)?;
        let fixed = (MON_HDR_LEN + HDR_LEN) as u32;
        assert_eq!(tap::copy_size(&skb, &skb.hdr()), Some((64, fixed + 64)));
        skb.set_hdr_len(u32::MAX);
        assert_eq!(tap::copy_size(&skb, &skb.hdr()), None);
        skb.set_hdr_len(65);
        assert_eq!(tap::copy_size(&skb, &skb.hdr()), None);
        // A fragment: fewer bytes than the packet, from its offset.
        skb.set_hdr_len(32);
        skb.set_offset(32);
        assert_eq!(tap::copy_size(&skb, &skb.hdr()), Some((32, fixed + 32)));
        skb.set_offset(33);
        assert_eq!(tap::copy_size(&skb, &skb.hdr()), None);
        Ok(())
    }

    /// Receive accounting with lengths at the top of the range refuses
    /// them instead of overflowing.
    #[test]
    fn huge_lengths_are_refused_without_overflow() {
        let mut c = Credit::new(u32::MAX);
        assert!(c.rx_enqueue(u32::MAX, 0, 0));
        assert!(!c.rx_enqueue(1, 0, 0));
        assert!(!c.rx_enqueue(u32::MAX, u32::MAX, u32::MAX));
        assert_eq!(c.rx_bytes, u32::MAX);
        let mut c = Credit::new(4096);
        assert!(!c.rx_enqueue(u32::MAX, 0, 0));
        assert_eq!((c.rx_bytes, c.buf_used), (0, 0));
    }

    /// The vhost copies: a packet filled from a guest buffer and copied
    /// out to another, header and payload, bounded by what each side holds.
    #[test]
    fn skb_iov_copies() -> Result {
        let data: [u8; 300] = core::array::from_fn(|i| (i % 253) as u8);
        let mut skb = SkbBox::alloc(300, true)?;
        skb.set_hdr(&hdr(Op::Rw, 300, 0));
        {
            // A source shorter than asked: nothing is reserved.
            let mut kv = Kvec::new();
            let mut it = KvecIter::source(&data[..100], &mut kv);
            let src = it.as_source().ok_or(EINVAL)?;
            assert_eq!(skb.fill_from_iter(src, 300), Err(EFAULT));
            assert!(skb.is_empty());
        }
        {
            let mut kv = Kvec::new();
            let mut it = KvecIter::source(&data, &mut kv);
            let src = it.as_source().ok_or(EINVAL)?;
            skb.fill_from_iter(src, 300)?;
        }
        assert_eq!(skb.len(), 300);
        // More payload than was allocated: refused.
        let mut small = SkbBox::alloc(10, true)?;
        {
            let mut kv = Kvec::new();
            let mut it = KvecIter::source(&data, &mut kv);
            let src = it.as_source().ok_or(EINVAL)?;
            assert_eq!(small.fill_from_iter(src, 300), Err(ENOSPC));
        }
        let mut out = [0u8; HDR_LEN + 300];
        {
            let mut kv = Kvec::new();
            let mut it = KvecIter::dest(&mut out, &mut kv);
            let dst = it.as_dest().ok_or(EINVAL)?;
            skb.copy_hdr_to_iter(dst)?;
            skb.copy_to_iter(0, dst, 300)?;
            // Beyond the payload: refused.
            assert_eq!(skb.copy_to_iter(200, dst, 101), Err(EINVAL));
        }
        assert_eq!(Hdr::decode(&out[..HDR_LEN]), Ok(skb.hdr()));
        assert_eq!(&out[HDR_LEN..], &data[..]);
        // A destination too small for the header.
        let mut tiny = [0u8; 10];
        let mut kv = Kvec::new();
        let mut it = KvecIter::dest(&mut tiny, &mut kv);
        let dst = it.as_dest().ok_or(EINVAL)?;
        assert_eq!(skb.copy_hdr_to_iter(dst), Err(EFAULT));
        // The wrong direction is not lent.
        let mut kv2 = Kvec::new();
        let mut it = KvecIter::source(&data, &mut kv2);
        assert!(it.as_dest().is_none());
        Ok(())
    }
}
