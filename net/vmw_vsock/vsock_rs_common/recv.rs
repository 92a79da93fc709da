// SPDX-License-Identifier: GPL-2.0

//! The receive dispatcher: finds the socket of a packet and runs the
//! per-state rules of `rust/vsock_proto` on it
//! (`virtio_transport_recv_pkt` and its per-state helpers).

use super::tx::{reset_no_sock, send_pkt_info, PktInfo};
use super::{rx, sock_type, Common, VvSock};
use crate::vsock::bindings as b;
use crate::vsock::proto::hdr::{Hdr, Op};
use crate::vsock::proto::rules::{self, ConnectedAction, ConnectingAction, ListenAction, ENOBUFS};
use crate::vsock::skb::{Skb, SkbBox, SkbListMut};
use crate::vsock::sock::{find_socket, State, VsockSock};
use crate::vsock::transport::VirtioTransport;
use kernel::prelude::*;

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
fn recv_connecting(vsk: &VsockSock, hdr: &Hdr) {
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

/// Wakeups owed to the socket's waiters, issued once after the packets of
/// a batch (still under the socket lock, as upstream issues them).
#[derive(Default)]
struct Wakeups {
    data_ready: bool,
    write_space: bool,
}

impl Wakeups {
    fn flush(self, vsk: &VsockSock) {
        if self.write_space {
            vsk.write_space();
        }
        if self.data_ready {
            vsk.data_ready();
        }
    }
}

/// An established socket (`virtio_transport_recv_connected`).
fn recv_connected(vsk: &VsockSock, skb: SkbBox, hdr: &Hdr, wake: &mut Wakeups) {
    match rules::on_connected(hdr, vsk.peer_shutdown()) {
        ConnectedAction::Enqueue => {
            let Some(vvs) = vsk.trans::<VvSock>() else {
                return;
            };
            if rx::enqueue(vvs, skb, hdr) {
                wake.data_ready = true;
            } else {
                // No room to queue the packet: close the connection
                // rather than lose data.
                let _ = Common::reset(vsk, Some(hdr));
                Common::do_close(vsk, true);
                vsk.report_error(ENOBUFS);
                vsk.remove_sock();
            }
        }
        ConnectedAction::SendCreditUpdate => {
            let _ = Common::send_credit_update(vsk);
        }
        ConnectedAction::WriteSpace => wake.write_space = true,
        ConnectedAction::Shutdown {
            peer_shutdown,
            notify,
        } => {
            vsk.set_peer_shutdown(peer_shutdown);
            if peer_shutdown == b::VRS_SHUTDOWN_MASK {
                if vsk.stream_has_data() <= 0 && !vsk.is_done() {
                    let _ = Common::reset(vsk, None);
                    Common::do_close(vsk, true);
                }
                // Remove the socket anyway: a new connection from the same
                // peer port must succeed even if this one is unreleased.
                vsk.remove_sock();
            }
            if notify {
                vsk.state_change();
            }
        }
        ConnectedAction::Close => Common::do_close(vsk, true),
        ConnectedAction::Drop => {}
    }
}

/// A listening socket (`virtio_transport_recv_listen`).
fn recv_listen(sk: &VsockSock, skb: &SkbBox, hdr: &Hdr, t: &VirtioTransport) {
    let fully_shut_down = sk.shutdown_flags() == b::VRS_SHUTDOWN_MASK;
    if let ListenAction::Reset(_) = rules::on_listen(hdr, sk.acceptq_is_full(), fully_shut_down) {
        let _ = reset_no_sock(t, skb, sk.net());
        return;
    }
    let Some(child) = sk.create_connected() else {
        let _ = reset_no_sock(t, skb, sk.net());
        return;
    };
    let guard = child.lock_nested();
    guard.set_state(State::Established);
    guard.init_addrs(
        (hdr.dst_cid as u32, hdr.dst_port),
        (hdr.src_cid as u32, hdr.src_port),
    );
    // The transport assigned (from the remote address) must be the one the
    // request came in on.
    if guard.assign_transport(sk).is_err() || guard.transport_ptr() != t.vsock_transport() {
        drop(guard);
        let _ = reset_no_sock(t, skb, sk.net());
        return;
    }
    if space_update(&guard, hdr) {
        guard.write_space();
    }
    guard.insert_connected();
    sk.enqueue_accept(&guard);
    let mut info = PktInfo::new(Op::Response);
    info.remote = Some((hdr.src_cid as u32, hdr.src_port));
    info.reply = true;
    let _ = send_pkt_info(&guard, info);
    drop(guard);
    // The child keeps its initial reference until it is released.
    child.keep();
    sk.data_ready_raw();
}

/// The namespace of a packet's sender: `net`, or for loopback (null
/// `net`) that of the socket owning the packet.
fn pkt_net(skb: &Skb, net: *mut b::net) -> *mut b::net {
    if net.is_null() {
        skb.sk().map_or(core::ptr::null_mut(), |s| s.net())
    } else {
        net
    }
}

/// Whether two packets belong to the same connection.
fn same_flow(a: &Hdr, b: &Hdr) -> bool {
    a.src_cid == b.src_cid
        && a.src_port == b.src_port
        && a.dst_cid == b.dst_cid
        && a.dst_port == b.dst_port
        && a.ty == b.ty
}

/// A packet from transport `t`, sent from namespace `net`.
pub(super) fn recv_pkt(t: &VirtioTransport, skb: SkbBox, net: *mut b::net) {
    recv(t, skb, net, None);
}

/// Packets from transport `t`, in order (`net` as in [`pkt_net`]).
///
/// Upstream handles each packet on its own: socket lookup, `lock_sock`,
/// wakeups, `release_sock`.  Here the packets that follow one for an
/// established connection, on the same connection, are handled under the
/// same lock with the same rules, and the reader and writer are woken once:
/// a loopback sender queues up to a socket buffer's worth of packets before
/// the worker runs.
pub(super) fn recv_pkts(t: &VirtioTransport, mut pkts: SkbListMut<'_>, net: *mut b::net) {
    while let Some(skb) = pkts.pop_front() {
        let skb_net = pkt_net(&skb, net);
        recv(t, skb, skb_net, Some((&mut pkts, net)));
    }
}

/// One packet, and when `more` is given, the packets of the same
/// established connection that follow it on that list.
fn recv(
    t: &VirtioTransport,
    mut skb: SkbBox,
    net: *mut b::net,
    more: Option<(&mut SkbListMut<'_>, *mut b::net)>,
) {
    let hdr = skb.hdr();
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

    let space_available = space_update(&guard, &hdr);
    // The CID may have changed after a transport reset event.
    if guard.local_addr().0 != b::VRS_VMADDR_CID_ANY {
        guard.set_local_cid(dst.0);
    }
    let state = guard.state();
    let mut wake = Wakeups::default();
    if state == State::Established {
        wake.write_space = space_available;
    } else if space_available {
        guard.write_space();
    }

    match state {
        State::Listen => recv_listen(&guard, &skb, &hdr, t),
        State::SynSent => recv_connecting(&guard, &hdr),
        State::Established => {
            recv_connected(&guard, skb, &hdr, &mut wake);
            let Some((list, list_net)) = more else {
                wake.flush(&guard);
                return;
            };
            // The same checks as for the first packet, without the lookup.
            while guard.state() == State::Established
                && !guard.is_done()
                && guard.transport_ptr() == t.vsock_transport()
            {
                let Some(next) = list.front() else {
                    break;
                };
                let next_hdr = next.hdr();
                if !same_flow(&next_hdr, &hdr) || pkt_net(next, list_net) != net {
                    break;
                }
                let Some(mut next) = list.pop_front() else {
                    break;
                };
                // We hold a reference, so this cannot fail; if it did, the
                // packet is dropped as upstream drops it.
                if !next.set_owner_sk_safe(&sk) {
                    continue;
                }
                if space_update(&guard, &next_hdr) {
                    wake.write_space = true;
                }
                recv_connected(&guard, next, &next_hdr, &mut wake);
            }
        }
        State::Closing => {
            if rules::on_closing(&hdr) {
                Common::do_close(&guard, true);
            }
        }
        _ => {
            let _ = reset_no_sock(t, &skb, net);
        }
    }
    wake.flush(&guard);
}
