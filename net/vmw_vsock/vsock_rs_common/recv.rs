// SPDX-License-Identifier: GPL-2.0

//! The receive dispatcher: finds the socket of a packet and runs the
//! per-state rules of `rust/vsock_proto` on it
//! (`virtio_transport_recv_pkt` and its per-state helpers).

use super::tx::{reset_no_sock, send_pkt_info, PktInfo};
use super::{rx, sock_type, CloseCancel, Common, VvSock};
use crate::vsock::bindings as b;
use crate::vsock::net::{self, Net};
use crate::vsock::proto::hdr::{Hdr, Op};
use crate::vsock::proto::rules::{self, ConnectedAction, ConnectingAction, ListenAction, ENOBUFS};
use crate::vsock::skb::{Skb, SkbBox, SkbListMut};
use crate::vsock::sock::{find_socket, LockedSock, State, VsockSock};
use crate::vsock::tap;
use crate::vsock::transport::{CommonOps, Origin, VirtioTransport};
use kernel::prelude::*;

/// Whether the header's payload length is the payload the packet really
/// holds.  Credit is accounted with `hdr.len` and data is copied with
/// `skb->len`: a peer whose header disagrees with what it sent could bypass
/// our credit or make `rx_bytes` drift.  Upstream's transports drop such
/// packets before handing them over (CVE-2025-39718); the common module
/// drops them too, whatever the transport checked.
pub(super) fn payload_matches(skb: &Skb, hdr: &Hdr) -> bool {
    skb.len() == hdr.len && skb.offset() == 0
}

/// Records the peer's credit from a header; true when we may send
/// (`virtio_transport_space_update`).  Listeners have no transport state
/// and always have room.
fn space_update(vsk: &VsockSock, hdr: &Hdr) -> bool {
    match vsk.trans::<VvSock>() {
        Some(vvs) => vvs.credit.lock().update_peer(hdr.buf_alloc, hdr.fwd_cnt),
        None => true,
    }
}

/// A connecting socket (`virtio_transport_recv_connecting`).
fn recv_connecting(vsk: &LockedSock, hdr: &Hdr) {
    match rules::on_connecting(hdr) {
        ConnectingAction::Established => {
            vsk.set_connected();
            vsk.insert_connected();
            vsk.state_change();
        }
        ConnectingAction::Ignore => {}
        ConnectingAction::Fail { sk_err, .. } => {
            let _ = Common::reset(vsk, Some(hdr));
            vsk.set_state(State::Close);
            vsk.report_error(sk_err);
        }
    }
}

/// An established socket: the peer's credit recorded (for data,
/// [`recv_data`] does that), then `virtio_transport_recv_connected`.
/// Returns whether the packet left the socket's state and its place in
/// the connected table as they were (data, credit and unknown-op
/// packets), so that the next packet of the connection may be handled
/// without a new lookup.
fn recv_connected(vsk: &LockedSock, skb: SkbBox, hdr: &Hdr) -> bool {
    let action = rules::on_connected(hdr, vsk.peer_shutdown());
    if action == ConnectedAction::Enqueue {
        if let Some(vvs) = vsk.trans::<VvSock>() {
            return recv_data(vsk, vvs, skb, hdr);
        }
    }
    if space_update(vsk, hdr) {
        vsk.write_space();
    }
    match action {
        // Data for a socket without transport state: dropped.  Defensive
        // only: `recv` has checked the socket's transport, and upstream
        // has no such case.
        ConnectedAction::Enqueue => false,
        ConnectedAction::SendCreditUpdate => {
            let _ = Common::send_credit_update(vsk);
            true
        }
        ConnectedAction::WriteSpace => {
            vsk.write_space();
            true
        }
        ConnectedAction::Shutdown {
            peer_shutdown,
            notify,
        } => {
            vsk.set_peer_shutdown(peer_shutdown);
            if peer_shutdown == b::VRS_SHUTDOWN_MASK {
                if vsk.stream_has_data() <= 0 && !vsk.is_done() {
                    let _ = Common::reset(vsk, None);
                    Common::do_close(vsk, CloseCancel::Timeout);
                }
                // Remove the socket anyway: a new connection from the same
                // peer port must succeed even if this one is unreleased.
                vsk.remove_sock();
            }
            if notify {
                vsk.state_change();
            }
            false
        }
        ConnectedAction::Close => {
            Common::do_close(vsk, CloseCancel::Timeout);
            false
        }
        ConnectedAction::Drop => true,
    }
}

/// Data for an established connection, the common case: the peer's credit
/// (`virtio_transport_space_update`) and the packet's own are accounted in
/// one credit section ([`rx::enqueue`]), then writers and readers are
/// woken in upstream's order.  Upstream wakes the writers before it queues
/// the packet; here they are woken after, which nobody can tell apart: this
/// runs under the socket lock, and every reader, writer and poller of a
/// connected socket takes it before it looks at the queue or the credit
/// (`vsock_poll` too).
fn recv_data(vsk: &LockedSock, vvs: &VvSock, skb: SkbBox, hdr: &Hdr) -> bool {
    let rx::Enqueued {
        space_available,
        accepted,
    } = rx::enqueue(vvs, skb, hdr);
    if space_available {
        vsk.write_space();
    }
    if accepted {
        vsk.data_ready();
        true
    } else {
        // No room to queue the packet: close the connection rather than
        // lose data.
        let _ = Common::reset(vsk, Some(hdr));
        Common::do_close(vsk, CloseCancel::Timeout);
        vsk.report_error(ENOBUFS);
        vsk.remove_sock();
        false
    }
}

/// A listening socket (`virtio_transport_recv_listen`).
fn recv_listen(sk: &LockedSock, skb: &SkbBox, hdr: &Hdr, t: &VirtioTransport) {
    let fully_shut_down = sk.shutdown_flags() == b::VRS_SHUTDOWN_MASK;
    if let ListenAction::Reset(_) = rules::on_listen(hdr, sk.acceptq_is_full(), fully_shut_down) {
        let _ = reset_no_sock(t, skb, Some(sk.net()));
        return;
    }
    let Some(mut child) = sk.create_connected() else {
        let _ = reset_no_sock(t, skb, Some(sk.net()));
        return;
    };
    let mut guard = child.lock_nested();
    guard.set_state(State::Established);
    guard.init_addrs(
        (hdr.dst_cid as u32, hdr.dst_port),
        (hdr.src_cid as u32, hdr.src_port),
    );
    // The transport assigned (from the remote address) must be the one the
    // request came in on.
    if guard.assign_transport(sk).is_err() || guard.transport_ptr() != t.vsock_transport() {
        drop(guard);
        let _ = reset_no_sock(t, skb, Some(sk.net()));
        return;
    }
    if space_update(&guard, hdr) {
        guard.write_space();
    }
    guard.insert_connected();
    let mut info = PktInfo::new(Op::Response);
    info.remote = Some((hdr.src_cid as u32, hdr.src_port));
    info.reply = true;
    let _ = send_pkt_info(&guard, info);
    drop(guard);
    // Visible to accept() from here on (which the listener's lock, held,
    // still holds back), with its initial reference.
    child.enqueue_accept(sk);
    sk.data_ready_raw();
}

/// One packet for the locked socket `sk`, as upstream handles it once the
/// socket is found: follow a CID change, then record the peer's credit,
/// wake writers if there is room and dispatch on the state (for an
/// established socket, [`recv_connected`] does all three).  Returns
/// whether the next packet of the same connection may go to the same
/// socket.
fn deliver(
    sk: &LockedSock,
    t: &VirtioTransport,
    skb: SkbBox,
    hdr: &Hdr,
    net: Option<&Net>,
) -> bool {
    // The CID may have changed after a transport reset event.
    if sk.local_addr().0 != b::VRS_VMADDR_CID_ANY {
        sk.set_local_cid(hdr.dst_cid as u32);
    }
    // One read of the state, as upstream's: the resets of a device that
    // goes away change it without the socket lock.
    let state = sk.state();
    if state == State::Established {
        return recv_connected(sk, skb, hdr);
    }
    if space_update(sk, hdr) {
        sk.write_space();
    }
    match state {
        State::Listen => recv_listen(sk, &skb, hdr, t),
        State::SynSent => recv_connecting(sk, hdr),
        State::Closing => {
            if rules::on_closing(hdr) {
                Common::do_close(sk, CloseCancel::Timeout);
            }
        }
        _ => {
            let _ = reset_no_sock(t, &skb, net);
        }
    }
    false
}

/// Whether two packets belong to the same connection.
fn same_flow(a: &Hdr, b: &Hdr) -> bool {
    a.src_cid == b.src_cid
        && a.src_port == b.src_port
        && a.dst_cid == b.dst_cid
        && a.dst_port == b.dst_port
        && a.ty == b.ty
}

/// A loopback packet is about to be delivered: its payload left the
/// sender, and the taps see it now (`vsock_loopback_work`).
fn loopback_arrived(skb: &mut Skb) {
    Common::consume_skb_sent(skb);
    tap::deliver(skb);
}

/// A packet from transport `t`, sent from namespace `net`.
pub(super) fn recv_pkt(t: &VirtioTransport, skb: SkbBox, net: Option<&Net>) {
    recv(t, skb, net, None);
}

/// Packets from transport `t`, in order.
///
/// Upstream handles each packet on its own: socket lookup, `lock_sock`,
/// `release_sock`.  Here the packets that follow a data, credit or
/// unknown-op packet for an established connection, on the same
/// connection, are handled under the same socket lock and without a new
/// lookup: a loopback sender queues up to a socket buffer's worth of
/// packets before the worker runs.  Each packet still gets upstream's
/// checks, wake-ups and taps in upstream's order; a packet that may change
/// the socket's state or its place in the tables (shutdown, reset, a
/// failed enqueue) ends the run, so the next one is looked up again.
/// Each packet goes to the taps just before it is handled, so replies it
/// causes are tapped after it, as upstream's.
pub(super) fn recv_pkts(t: &VirtioTransport, mut pkts: SkbListMut<'_>, origin: Origin<'_>) {
    while let Some(mut skb) = pkts.pop_front() {
        match origin {
            Origin::Device(net) => {
                tap::deliver(&mut skb);
                recv(t, skb, net, Some((&mut pkts, origin)));
            }
            Origin::Loopback => {
                loopback_arrived(&mut skb);
                // The sender's namespace.  The packet keeps its sender (and
                // so the namespace) alive only until it changes owner: hold
                // the namespace for the packets handled with this one.
                let Some(net) = skb.sk().and_then(|s| s.net().try_get_ref()) else {
                    // Loopback packets always have their sender; its
                    // namespace may be going away (a kernel socket's).
                    continue;
                };
                recv(t, skb, Some(&net), Some((&mut pkts, origin)));
            }
        }
    }
}

/// The namespace a packet of `origin` comes from, as a raw pointer (for
/// comparison only).
fn origin_net(skb: &Skb, origin: Origin<'_>) -> *mut b::net {
    match origin {
        Origin::Loopback => skb.sk().map_or(core::ptr::null_mut(), |s| s.net().as_ptr()),
        Origin::Device(net) => net::raw(net),
    }
}

/// One packet, and when `more` is given, the packets of the same
/// connection that follow it on that list while they may go to the same
/// socket (see [`recv_pkts`]).
fn recv(
    t: &VirtioTransport,
    mut skb: SkbBox,
    net: Option<&Net>,
    more: Option<(&mut SkbListMut<'_>, Origin<'_>)>,
) {
    let hdr = skb.hdr();
    if !payload_matches(&skb, &hdr) {
        return;
    }
    if !rules::valid_type(&hdr) {
        let _ = reset_no_sock(t, &skb, net);
        return;
    }
    // The socket must be in the connected or bound table, otherwise reset.
    let src = (hdr.src_cid as u32, hdr.src_port);
    let dst = (hdr.dst_cid as u32, hdr.dst_port);
    let Some(sk) = find_socket(src, dst, net) else {
        let _ = reset_no_sock(t, &skb, net);
        return;
    };
    if sock_type(&sk) as u16 != hdr.ty {
        let _ = reset_no_sock(t, &skb, net);
        return;
    }
    if !skb.set_owner_sk_safe(&sk) {
        pr_warn!("receiving vsock socket has sk_refcnt == 0\n");
        return;
    }

    let guard = sk.lock();
    // The socket may have been closed, or assigned to another transport,
    // before we took the lock (listeners have no transport).
    if guard.is_done()
        || (guard.state() != State::Listen && guard.transport_ptr() != t.vsock_transport())
    {
        let _ = reset_no_sock(t, &skb, net);
        return;
    }
    let mut same_socket = deliver(&guard, t, skb, &hdr, net);

    let Some((list, origin)) = more else {
        return;
    };
    // The next packets of the connection, with the checks a new lookup
    // and lock would make.
    while same_socket
        && guard.state() == State::Established
        && !guard.is_done()
        && guard.transport_ptr() == t.vsock_transport()
    {
        let Some(next) = list.front() else {
            break;
        };
        let next_hdr = next.hdr();
        if !same_flow(&next_hdr, &hdr) || origin_net(next, origin) != net::raw(net) {
            break;
        }
        let Some(mut next) = list.pop_front() else {
            break;
        };
        match origin {
            Origin::Loopback => loopback_arrived(&mut next),
            Origin::Device(_) => tap::deliver(&mut next),
        }
        if !payload_matches(&next, &next_hdr) {
            continue;
        }
        // We hold a reference, so this cannot fail; if it did, the packet
        // is dropped as upstream drops it.
        if !next.set_owner_sk_safe(&sk) {
            continue;
        }
        same_socket = deliver(&guard, t, next, &next_hdr, net);
    }
}
