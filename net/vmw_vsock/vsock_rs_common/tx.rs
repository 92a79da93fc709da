// SPDX-License-Identifier: GPL-2.0

//! Sending: packet building, credit and MSG_ZEROCOPY
//! (`virtio_transport_send_pkt_info` and friends).

use super::{sock_type, VvSock};
use crate::vsock::bindings as b;
use crate::vsock::msg::MsgHdr;
use crate::vsock::net::Net;
use crate::vsock::proto::hdr::{Hdr, Op, SockType, MAX_PKT_BUF_SIZE, SEQ_EOM, SEQ_EOR};
use crate::vsock::skb::{Skb, SkbBox, ZcArg};
use crate::vsock::sock::VsockSock;
use crate::vsock::transport::VirtioTransport;
use kernel::prelude::*;

/// What to send (`struct virtio_vsock_pkt_info`).
pub(crate) struct PktInfo<'a> {
    /// The operation.
    pub(crate) op: Op,
    /// Header flags (shutdown directions).
    pub(crate) flags: u32,
    /// The destination, when not the socket's peer.
    pub(crate) remote: Option<(u32, u32)>,
    /// The payload source, for `Op::Rw`.
    pub(crate) msg: Option<&'a mut MsgHdr>,
    /// Payload bytes wanted.
    pub(crate) pkt_len: u32,
    /// Whether this answers a packet of the peer.
    pub(crate) reply: bool,
}

impl PktInfo<'_> {
    /// A control packet without payload.
    pub(crate) fn new(op: Op) -> Self {
        PktInfo {
            op,
            flags: 0,
            remote: None,
            msg: None,
            pkt_len: 0,
            reply: false,
        }
    }
}

/// Puts our credit into an outgoing header (`virtio_transport_inc_tx_pkt`).
pub(crate) fn stamp_credit(vvs: &VvSock, skb: &mut Skb) {
    let (buf_alloc, fwd_cnt) = vvs.credit.lock().stamp_tx();
    skb.set_hdr_credit(buf_alloc, fwd_cnt);
}

/// Takes back a stamp that no packet carried: the peer has not seen those
/// counters, so a later read must still find a credit update due.
fn unstamp(vvs: &VvSock, stamp: Option<((u32, u32), u32)>) {
    if let Some(((_, fwd_cnt), last)) = stamp {
        let mut credit = vvs.credit.lock();
        if credit.last_fwd_cnt == fwd_cnt {
            credit.last_fwd_cnt = last;
        }
    }
}

/// Whether the message can go out as zerocopy
/// (`virtio_transport_can_zcopy`).
fn can_zcopy(t: &VirtioTransport, msg: &MsgHdr, pkt_len: u32) -> bool {
    let Some(pages) = msg.zerocopy_pages(pkt_len) else {
        return false;
    };
    // +1 for the packet header.
    t.can_msgzerocopy(pages.saturating_add(1)).unwrap_or(true)
}

/// Builds one packet (`virtio_transport_alloc_skb`).
pub(crate) fn alloc_pkt(
    hdr: &Hdr,
    owner: Option<&VsockSock>,
    msg: Option<&mut MsgHdr>,
    zcopy: bool,
    uarg: Option<&ZcArg>,
    reply: bool,
) -> Result<SkbBox> {
    let payload_len = hdr.len;
    let mut skb = SkbBox::alloc(if zcopy { 0 } else { payload_len }, false)?;
    skb.set_hdr(hdr);
    // The owner must be set before zerocopy filling, which charges it.
    if let Some(vsk) = owner {
        skb.set_owner_w(vsk);
    }
    if let Some(msg) = msg {
        if payload_len > 0 {
            if let Some(uarg) = uarg {
                skb.zerocopy_set(uarg);
            }
            if zcopy {
                skb.zerocopy_fill(msg, payload_len)?;
            } else {
                skb.fill_from_msg(msg, payload_len)?;
            }
            if msg.data_left() == 0 && hdr.ty == SockType::Seqpacket as u16 {
                let mut flags = hdr.flags | SEQ_EOM;
                if msg.flags() & b::VRS_MSG_EOR != 0 {
                    flags |= SEQ_EOR;
                }
                skb.set_hdr_flags(flags);
            }
        }
    }
    if reply {
        skb.set_reply();
    }
    Ok(skb)
}

/// Sends as much of `info` as the peer's credit allows; returns the
/// payload bytes sent (`virtio_transport_send_pkt_info`).  Only for sockets
/// assigned to a transport (not listeners).
pub(crate) fn send_pkt_info(vsk: &VsockSock, mut info: PktInfo<'_>) -> Result<u32> {
    let ty = sock_type(vsk) as u16;
    let (vvs, t) = VirtioTransport::of::<VvSock>(vsk).ok_or(EFAULT)?;
    let src = (t.local_cid(), vsk.local_addr().1);
    let dst = info.remote.unwrap_or_else(|| vsk.remote_addr());
    let net = vsk.net();

    // We may get less credit than asked for.  Our own counters go into the
    // first packet's header from the same section: they only change under
    // the socket lock, which we hold, so they are what a later stamp would
    // read.
    let (pkt_len, first_stamp) = {
        let mut credit = vvs.credit.lock();
        let last = credit.last_fwd_cnt;
        let n = credit.get_credit(info.pkt_len);
        (n, (credit.stamp_tx(), last))
    };
    let mut first_stamp = Some(first_stamp);
    // Never send an empty RW packet.
    if pkt_len == 0 && info.op == Op::Rw {
        unstamp(vvs, first_stamp);
        return Ok(0);
    }

    let mut max_skb_len = MAX_PKT_BUF_SIZE;
    let mut zcopy = false;
    let mut uarg: Option<ZcArg> = None;
    if let Some(msg) = info.msg.as_deref_mut() {
        // Without SO_ZEROCOPY, MSG_ZEROCOPY is ignored.
        if !vsk.zerocopy_enabled() {
            msg.set_flags(msg.flags() & !b::VRS_MSG_ZEROCOPY);
        }
        let wants_zc = msg.flags() & b::VRS_MSG_ZEROCOPY != 0;
        if wants_zc {
            zcopy = can_zcopy(t, msg, pkt_len);
        }
        if zcopy {
            let frags = u64::from(b::VRS_MAX_SKB_FRAGS) * (b::VRS_PAGE_SIZE as u64);
            max_skb_len = max_skb_len.min(u32::try_from(frags).unwrap_or(u32::MAX));
        }
        if wants_zc && info.op == Op::Rw {
            match ZcArg::prepare(vsk, msg, pkt_len, zcopy) {
                Ok(u) => uarg = Some(u),
                Err(e) => {
                    vvs.credit.lock().put_credit(pkt_len);
                    unstamp(vvs, first_stamp);
                    return Err(e);
                }
            }
        }
    }

    let mut rest = pkt_len;
    let mut ret: Result<u32>;
    loop {
        let skb_len = max_skb_len.min(rest);
        let hdr = Hdr {
            src_cid: u64::from(src.0),
            dst_cid: u64::from(dst.0),
            src_port: src.1,
            dst_port: dst.1,
            len: skb_len,
            ty,
            op: info.op as u16,
            flags: info.flags,
            buf_alloc: 0,
            fwd_cnt: 0,
        };
        let mut skb = match alloc_pkt(
            &hdr,
            Some(vsk),
            info.msg.as_deref_mut(),
            zcopy,
            uarg.as_ref(),
            info.reply,
        ) {
            Ok(skb) => skb,
            Err(_) => {
                ret = Err(ENOMEM);
                unstamp(vvs, first_stamp.take());
                break;
            }
        };
        match first_stamp.take() {
            Some(((buf_alloc, fwd_cnt), _)) => skb.set_hdr_credit(buf_alloc, fwd_cnt),
            None => stamp_credit(vvs, &mut skb),
        }
        match t.send_pkt(skb, Some(net)) {
            Err(e) => {
                ret = Err(e);
                break;
            }
            Ok(n) => {
                rest = rest.saturating_sub(n);
                ret = Ok(n);
                if n != skb_len {
                    pr_warn!("send_pkt() returns {}, but {} expected\n", n, skb_len);
                    break;
                }
            }
        }
        if rest == 0 {
            break;
        }
    }

    if rest != 0 {
        vvs.credit.lock().put_credit(rest);
    }

    // The zerocopy notification starts with one reference, and each skb
    // took its own: drop ours, or abort the notification if nothing went.
    if let Some(uarg) = uarg {
        uarg.finish(rest == pkt_len);
    }

    if rest != pkt_len {
        return Ok(pkt_len - rest);
    }
    ret
}

/// Answers a packet that has no socket (or a wrong one) with a reset
/// (`virtio_transport_reset_no_sock`).  `net` is the namespace of the
/// sender of `skb`.
pub(crate) fn reset_no_sock(t: &VirtioTransport, skb: &Skb, net: Option<&Net>) -> Result<u32> {
    let hdr = skb.hdr();
    let Some(reply) = hdr.reset_reply() else {
        return Ok(0);
    };
    // Keep a reference on the socket we answer (loopback) and its netns
    // until the reply is freed.
    let mut reply = alloc_pkt(&reply, None, None, false, None, true)?;
    reply.charge_like(skb);
    t.send_pkt(reply, net)
}
