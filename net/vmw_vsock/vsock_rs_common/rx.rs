// SPDX-License-Identifier: GPL-2.0

//! The receive queue: enqueue with small-packet merging and collapsing,
//! stream and SEQPACKET dequeue and peek.

use super::{Common, Rx, VvSock};
use crate::vsock::bindings as b;
use crate::vsock::msg::MsgHdr;
use crate::vsock::proto::hdr::{Hdr, SEQ_EOM, SEQ_EOR};
use crate::vsock::proto::rules;
use crate::vsock::skb::{Skb, SkbBox, SkbList};
use crate::vsock::sock::VsockSock;
use kernel::prelude::*;

/// Whether a queued skb may be merged with others under queue pressure
/// (`virtio_transport_can_collapse`).
fn can_collapse(skb: &Skb) -> bool {
    rules::can_collapse(
        skb.offset(),
        skb.hdr_flags(),
        skb.len(),
        b::VRS_MAX_COLLAPSE_LEN,
    )
}

/// Bytes that one collapsed skb starting with `first` (the queue's front)
/// would hold (`virtio_transport_collapse_size`).
fn collapse_size(queue: &SkbList) -> u32 {
    let mut it = queue.iter();
    let Some(first) = it.next() else {
        return 0;
    };
    let mut target = first.len().wrapping_sub(first.offset());
    for skb in it {
        if !can_collapse(skb) {
            break;
        }
        let len = skb.len().wrapping_sub(skb.offset());
        if len > b::VRS_MAX_COLLAPSE_LEN.saturating_sub(target) {
            return target;
        }
        target += len;
    }
    target
}

/// Compacts the receive queue by merging small skbs, eliminating at least
/// `min_to_free` of them if it can (`virtio_transport_collapse_rx_queue`).
fn collapse(rx: &mut Rx, min_to_free: u32) {
    let Ok(mut new_queue) = SkbList::new() else {
        return;
    };
    let mut new_skb: Option<SkbBox> = None;
    let mut saved: i64 = 0;

    while let Some(skb) = rx.queue.front() {
        let src_off = skb.offset();
        let src_len = skb.len().wrapping_sub(src_off);

        let mut keep = !can_collapse(skb);
        if keep {
            // Finalise the pending collapsed skb to keep packets in order.
            if let Some(n) = new_skb.take() {
                new_queue.push_back(n);
                saved -= 1;
            }
        } else {
            // Finalise if this packet does not fit the remaining room.
            if new_skb.as_ref().is_some_and(|n| src_len > n.tailroom()) {
                if let Some(n) = new_skb.take() {
                    new_queue.push_back(n);
                    saved -= 1;
                }
            }
            if new_skb.is_none() {
                if saved >= i64::from(min_to_free) {
                    break;
                }
                let alloc_size = collapse_size(&rx.queue);
                if alloc_size <= src_len {
                    // Nothing to merge with: keep it as it is.
                    keep = true;
                } else {
                    let Ok(mut n) = SkbBox::alloc(alloc_size, true) else {
                        break;
                    };
                    let mut h = skb.hdr();
                    h.len = 0;
                    n.set_hdr(&h);
                    new_skb = Some(n);
                }
            }
            if !keep {
                let Some(n) = new_skb.as_mut() else {
                    break;
                };
                if n.append_bits_from(skb, src_off, src_len).is_err() {
                    // Cannot happen (bounds checked); drop the partial skb
                    // rather than queue corrupted data.
                    new_skb = None;
                    break;
                }
                let flags = n.hdr_flags() | skb.hdr_flags();
                n.set_hdr_flags(flags);
                let len = n.hdr_len().wrapping_add(src_len);
                n.set_hdr_len(len);
            }
        }

        let Some(skb) = rx.queue.pop_front() else {
            break;
        };
        if keep {
            new_queue.push_back(skb);
        } else {
            skb.consume();
            saved += 1;
        }
    }

    if let Some(n) = new_skb {
        new_queue.push_back(n);
    }
    rx.queue.splice_front(&mut new_queue);
}

/// What [`enqueue`] did with a packet.
pub(super) struct Enqueued {
    /// The peer's credit leaves room for our data: wake writers.
    pub(super) space_available: bool,
    /// The packet was queued; false when the peer overran our credit.
    pub(super) accepted: bool,
}

/// Records the peer's credit from `hdr` (`virtio_transport_space_update`)
/// and queues the received RW packet for the reader
/// (`virtio_transport_recv_enqueue`), in one credit section.
pub(super) fn enqueue(vvs: &VvSock, skb: SkbBox, hdr: &Hdr) -> Enqueued {
    let len = hdr.len;
    let truesize = b::VRS_SKB_TRUESIZE0;
    let mut rx = vvs.rx.lock();

    // Packets are refused once the per-skb overhead exceeds buf_alloc:
    // collapse the queue before that happens, freeing room for this packet
    // and the next one.  One credit section in the common case.
    let mut credit = vvs.credit.lock();
    let space_available = credit.update_peer(hdr.buf_alloc, hdr.fwd_cnt);
    let queue_max = credit.buf_alloc / truesize;
    let queue_len = rx.queue.len();
    if queue_len >= queue_max {
        drop(credit);
        collapse(&mut rx, queue_len + 2 - queue_max);
        credit = vvs.credit.lock();
    }
    let accepted = credit.rx_enqueue(len, rx.queue.len(), truesize);
    drop(credit);
    let done = Enqueued {
        space_available,
        accepted,
    };
    if !accepted {
        return done;
    }
    if hdr.flags & SEQ_EOM != 0 {
        vvs.msg_added();
    }

    // Copy small packets into the tail skb rather than queueing a whole
    // buffer for a few bytes; never past a SEQPACKET message boundary and
    // never for non-linear (zerocopy) skbs.
    if let Some(last) = rx.queue.back_mut() {
        let last_flags = last.hdr_flags();
        if rules::can_merge_into_tail(
            len,
            skb.len(),
            skb.is_nonlinear(),
            last.tailroom(),
            last_flags,
        ) && last.append_from(&skb).is_ok()
        {
            last.set_hdr_flags(last_flags | hdr.flags);
            let merged = last.hdr_len().wrapping_add(len);
            last.set_hdr_len(merged);
            return done;
        }
    }
    rx.queue.push_back(skb);
    done
}

/// `virtio_transport_stream_do_peek`.
pub(super) fn stream_peek(vvs: &VvSock, msg: &mut MsgHdr, len: usize) -> Result<usize> {
    let rx = vvs.rx.lock();
    let mut total = 0usize;
    for skb in rx.queue.iter() {
        let off = skb.offset();
        let bytes = (len - total).min(skb.len().wrapping_sub(off) as usize);
        if let Err(e) = skb.copy_to_msg(off, msg, bytes) {
            return if total > 0 { Ok(total) } else { Err(e) };
        }
        total += bytes;
        if total == len {
            break;
        }
    }
    Ok(total)
}

/// `virtio_transport_stream_do_dequeue`.
pub(super) fn stream_dequeue(
    vsk: &VsockSock,
    vvs: &VvSock,
    msg: &mut MsgHdr,
    len: usize,
) -> Result<usize> {
    let mut rx = vvs.rx.lock();
    // Bytes accounted with nothing queued would never be read: refuse
    // rather than report a stuck POLLIN (upstream's WARN_ONCE guard).
    if rx.queue.is_empty() && vvs.credit.lock().rx_bytes != 0 {
        kernel::pr_warn_once!("rx_queue is empty, but rx_bytes is non-zero\n");
        return Err(EFAULT);
    }
    let mut total = 0usize;
    let mut err = None;
    // Credit is accounted once for the whole call (the sums are what
    // upstream's per-skb updates add up to; lock_sock keeps other
    // dequeuers out meanwhile).
    let mut read: u32 = 0;
    let mut freed: u32 = 0;
    while total < len {
        let Some(skb) = rx.queue.front_mut() else {
            break;
        };
        let off = skb.offset();
        let bytes = (len - total).min(skb.len().wrapping_sub(off) as usize);
        if let Err(e) = skb.copy_to_msg(off, msg, bytes) {
            err = Some(e);
            break;
        }
        total += bytes;
        // `bytes` is at most the skb's remaining length, a u32.
        let new_off = off.wrapping_add(bytes as u32);
        skb.set_offset(new_off);
        read = read.wrapping_add(bytes as u32);
        if new_off == skb.len() {
            freed = freed.wrapping_add(skb.hdr_len());
            if let Some(done) = rx.queue.pop_front() {
                done.consume();
            }
        }
    }
    let update = {
        let mut credit = vvs.credit.lock();
        credit.rx_dequeue(read, freed);
        credit.needs_credit_update(vsk.rcvlowat())
    };
    drop(rx);

    if let Some(e) = err {
        return if total > 0 { Ok(total) } else { Err(e) };
    }
    // Few credit updates while lots of space is left; always one when the
    // queued bytes cannot wake the reader.
    if update {
        let _ = Common::send_credit_update(vsk);
    }
    Ok(total)
}

/// `virtio_transport_seqpacket_do_peek`.
pub(super) fn seqpacket_peek(vvs: &VvSock, msg: &mut MsgHdr) -> Result<usize> {
    let rx = vvs.rx.lock();
    if vvs.msg_count() == 0 {
        return Ok(0);
    }
    let len = msg.data_left();
    let mut total = 0usize;
    for skb in rx.queue.iter() {
        if total < len {
            let bytes = (len - total).min(skb.len() as usize);
            skb.copy_to_msg(skb.offset(), msg, bytes)?;
        }
        total += skb.len() as usize;
        let flags = skb.hdr_flags();
        if flags & SEQ_EOM != 0 {
            if flags & SEQ_EOR != 0 {
                msg.set_flags(msg.flags() | b::VRS_MSG_EOR);
            }
            break;
        }
    }
    Ok(total)
}

/// `virtio_transport_seqpacket_do_dequeue`: one whole message; returns
/// its full length (the reader may have got less: MSG_TRUNC).
pub(super) fn seqpacket_dequeue(vsk: &VsockSock, vvs: &VvSock, msg: &mut MsgHdr) -> Result<usize> {
    let mut rx = vvs.rx.lock();
    if vvs.msg_count() == 0 {
        return Ok(0);
    }
    let mut user_buf_len = msg.data_left();
    let mut dequeued: Result<usize> = Ok(0);
    let mut msg_ready = false;
    while !msg_ready {
        let Some(skb) = rx.queue.pop_front() else {
            break;
        };
        let (hdr_len, flags) = (skb.hdr_len(), skb.hdr_flags());
        let pkt_len = hdr_len as usize;
        if let Ok(n) = dequeued {
            let bytes = user_buf_len.min(pkt_len);
            // After a failed copy, the rest of the message is freed
            // without copying.
            dequeued = if bytes == 0 {
                Ok(n + pkt_len)
            } else {
                match skb.copy_to_msg(0, msg, bytes) {
                    Ok(()) => {
                        user_buf_len -= bytes;
                        Ok(n + pkt_len)
                    }
                    Err(e) => Err(e),
                }
            };
        }
        if flags & SEQ_EOM != 0 {
            msg_ready = true;
            vvs.msg_taken();
            if flags & SEQ_EOR != 0 {
                msg.set_flags(msg.flags() | b::VRS_MSG_EOR);
            }
        }
        vvs.credit.lock().rx_dequeue(hdr_len, hdr_len);
        drop(skb);
    }
    drop(rx);
    let _ = Common::send_credit_update(vsk);
    dequeued
}
