// SPDX-License-Identifier: GPL-2.0

//! Receive-side rules: which packets are accepted, answered with a reset or
//! dropped, and what each socket state does with each operation.
//!
//! The functions return decisions; the kernel modules carry them out on real
//! sockets.  They mirror `virtio_transport_recv_pkt()` and its per-state
//! helpers in Linux 7.2.

use super::hdr::{Hdr, Op, SockType, SEQ_EOM, SHUTDOWN_RCV, SHUTDOWN_SEND};

/// Largest payload merged into the tail of the receive queue (`GOOD_COPY_LEN`).
pub const GOOD_COPY_LEN: u32 = 128;

/// `ECONNRESET`.
pub const ECONNRESET: i32 = 104;
/// `EPROTO`.
pub const EPROTO: i32 = 71;
/// `EINVAL`.
pub const EINVAL: i32 = 22;
/// `ENOMEM`.
pub const ENOMEM: i32 = 12;
/// `ESHUTDOWN`.
pub const ESHUTDOWN: i32 = 108;
/// `ENOBUFS`.
pub const ENOBUFS: i32 = 105;
/// `EOPNOTSUPP`.
pub const EOPNOTSUPP: i32 = 95;
/// `ENOTCONN`.
pub const ENOTCONN: i32 = 107;

/// The socket states the dispatcher distinguishes (`sk->sk_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkState {
    /// `TCP_LISTEN`.
    Listen,
    /// `TCP_SYN_SENT`: connect() in progress.
    SynSent,
    /// `TCP_ESTABLISHED`.
    Established,
    /// `TCP_CLOSING`: we sent a shutdown and wait for the peer's reset.
    Closing,
    /// Any other state (`TCP_CLOSE`, ...).
    Other,
}

/// Whether the header names a socket type this transport carries.
pub fn valid_type(hdr: &Hdr) -> bool {
    hdr.sock_type().is_some()
}

/// Whether a packet may be answered with a reset: never answer a reset.
pub fn may_reply_rst(hdr: &Hdr) -> bool {
    hdr.op != Op::Rst as u16
}

/// What a listening socket does with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenAction {
    /// Create the child socket and answer with a response.
    Accept,
    /// Answer with a reset and report the errno (negated by the caller).
    Reset(i32),
}

/// `virtio_transport_recv_listen()`: only requests are accepted, and only
/// while the accept queue has room and the listener is not shut down.
pub fn on_listen(hdr: &Hdr, acceptq_full: bool, fully_shut_down: bool) -> ListenAction {
    if hdr.op != Op::Request as u16 {
        ListenAction::Reset(EINVAL)
    } else if acceptq_full {
        ListenAction::Reset(ENOMEM)
    } else if fully_shut_down {
        ListenAction::Reset(ESHUTDOWN)
    } else {
        ListenAction::Accept
    }
}

/// What a connecting socket does with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectingAction {
    /// The peer accepted: the socket becomes established.
    Established,
    /// Ignore the packet.
    Ignore,
    /// Reset the connection (unless the packet was a reset), close the
    /// socket and report `sk_err`; `ret` is the negative errno returned.
    Fail {
        /// The socket error (`ECONNRESET` or `EPROTO`).
        sk_err: i32,
        /// The value returned to the dispatcher (`0` or `-EINVAL`).
        ret: i32,
    },
}

/// `virtio_transport_recv_connecting()`.
pub fn on_connecting(hdr: &Hdr) -> ConnectingAction {
    match hdr.op() {
        Some(Op::Response) => ConnectingAction::Established,
        Some(Op::Invalid) => ConnectingAction::Ignore,
        Some(Op::Rst) => ConnectingAction::Fail {
            sk_err: ECONNRESET,
            ret: 0,
        },
        _ => ConnectingAction::Fail {
            sk_err: EPROTO,
            ret: -EINVAL,
        },
    }
}

/// What an established socket does with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectedAction {
    /// Queue the payload for the reader.
    Enqueue,
    /// Answer with our credit.
    SendCreditUpdate,
    /// The peer's credit changed: wake writers.
    WriteSpace,
    /// The peer shut down the directions in `peer_shutdown` (kernel
    /// `RCV_SHUTDOWN`/`SEND_SHUTDOWN` bits); `notify` when any flag was set.
    Shutdown {
        /// The directions the peer has now shut down, accumulated.
        peer_shutdown: u32,
        /// Whether to call `sk_state_change`.
        notify: bool,
    },
    /// The peer reset the connection.
    Close,
    /// Unknown operation: dropped, `-EINVAL` returned, no reset sent.
    Drop,
}

/// Kernel `RCV_SHUTDOWN`.
pub const RCV_SHUTDOWN: u32 = 1;
/// Kernel `SEND_SHUTDOWN`.
pub const SEND_SHUTDOWN: u32 = 2;

/// `virtio_transport_recv_connected()`; `peer_shutdown` is the socket's
/// current `vsk->peer_shutdown`.
pub fn on_connected(hdr: &Hdr, peer_shutdown: u32) -> ConnectedAction {
    match hdr.op() {
        Some(Op::Rw) => ConnectedAction::Enqueue,
        Some(Op::CreditRequest) => ConnectedAction::SendCreditUpdate,
        Some(Op::CreditUpdate) => ConnectedAction::WriteSpace,
        Some(Op::Shutdown) => {
            let mut ps = peer_shutdown;
            if hdr.flags & SHUTDOWN_RCV != 0 {
                ps |= RCV_SHUTDOWN;
            }
            if hdr.flags & SHUTDOWN_SEND != 0 {
                ps |= SEND_SHUTDOWN;
            }
            ConnectedAction::Shutdown {
                peer_shutdown: ps,
                notify: hdr.flags != 0,
            }
        }
        Some(Op::Rst) => ConnectedAction::Close,
        _ => ConnectedAction::Drop,
    }
}

/// `virtio_transport_recv_disconnecting()`: a closing socket only listens
/// for the peer's reset; everything else is dropped silently.
pub fn on_closing(hdr: &Hdr) -> bool {
    hdr.op == Op::Rst as u16
}

/// Whether a received packet of `len` bytes (`flags` from its header) may be
/// copied into the tail packet of the receive queue instead of being queued:
/// small, linear, fits the tail's room, and the tail does not end a
/// SEQPACKET message.
pub fn can_merge_into_tail(
    len: u32,
    skb_len: u32,
    nonlinear: bool,
    tail_tailroom: u32,
    tail_flags: u32,
) -> bool {
    len <= GOOD_COPY_LEN && !nonlinear && skb_len < tail_tailroom && tail_flags & SEQ_EOM == 0
}

/// Whether a queued packet may be collapsed with its neighbours under queue
/// pressure: untouched by readers, not a message boundary, and small.
pub fn can_collapse(offset: u32, flags: u32, len: u32, max_collapse_len: u32) -> bool {
    offset == 0 && flags & SEQ_EOM == 0 && len < max_collapse_len
}

/// Whether this packet ends a SEQPACKET message.
pub fn ends_message(hdr: &Hdr) -> bool {
    hdr.sock_type() == Some(SockType::Seqpacket) && hdr.flags & SEQ_EOM != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(op: Op) -> Hdr {
        Hdr {
            op: op as u16,
            ty: SockType::Stream as u16,
            ..Hdr::default()
        }
    }

    #[test]
    fn rst_is_never_answered() {
        assert!(!may_reply_rst(&pkt(Op::Rst)));
        for op in [Op::Invalid, Op::Request, Op::Response, Op::Shutdown, Op::Rw] {
            assert!(may_reply_rst(&pkt(op)));
        }
    }

    #[test]
    fn listen_accepts_only_requests_with_room() {
        assert_eq!(
            on_listen(&pkt(Op::Request), false, false),
            ListenAction::Accept
        );
        assert_eq!(
            on_listen(&pkt(Op::Rw), false, false),
            ListenAction::Reset(EINVAL)
        );
        assert_eq!(
            on_listen(&pkt(Op::Request), true, false),
            ListenAction::Reset(ENOMEM)
        );
        assert_eq!(
            on_listen(&pkt(Op::Request), false, true),
            ListenAction::Reset(ESHUTDOWN)
        );
    }

    #[test]
    fn connecting() {
        assert_eq!(
            on_connecting(&pkt(Op::Response)),
            ConnectingAction::Established
        );
        assert_eq!(on_connecting(&pkt(Op::Invalid)), ConnectingAction::Ignore);
        assert_eq!(
            on_connecting(&pkt(Op::Rst)),
            ConnectingAction::Fail {
                sk_err: ECONNRESET,
                ret: 0
            }
        );
        let mut h = pkt(Op::Rw);
        assert_eq!(
            on_connecting(&h),
            ConnectingAction::Fail {
                sk_err: EPROTO,
                ret: -EINVAL
            }
        );
        h.op = 99;
        assert_eq!(
            on_connecting(&h),
            ConnectingAction::Fail {
                sk_err: EPROTO,
                ret: -EINVAL
            }
        );
    }

    #[test]
    fn connected_shutdown_accumulates() {
        let mut h = pkt(Op::Shutdown);
        h.flags = SHUTDOWN_SEND;
        assert_eq!(
            on_connected(&h, RCV_SHUTDOWN),
            ConnectedAction::Shutdown {
                peer_shutdown: RCV_SHUTDOWN | SEND_SHUTDOWN,
                notify: true
            }
        );
        h.flags = 0;
        assert_eq!(
            on_connected(&h, 0),
            ConnectedAction::Shutdown {
                peer_shutdown: 0,
                notify: false
            }
        );
    }

    #[test]
    fn connected_unknown_ops_are_dropped_silently() {
        let mut h = pkt(Op::Request);
        assert_eq!(on_connected(&h, 0), ConnectedAction::Drop);
        h.op = 0x1234;
        assert_eq!(on_connected(&h, 0), ConnectedAction::Drop);
        assert_eq!(on_connected(&pkt(Op::Rst), 0), ConnectedAction::Close);
        assert_eq!(on_connected(&pkt(Op::Rw), 0), ConnectedAction::Enqueue);
    }

    #[test]
    fn closing_only_reacts_to_rst() {
        assert!(on_closing(&pkt(Op::Rst)));
        assert!(!on_closing(&pkt(Op::Rw)));
        assert!(!on_closing(&pkt(Op::Request)));
    }

    #[test]
    fn merge_policy() {
        assert!(can_merge_into_tail(128, 128, false, 1000, 0));
        assert!(!can_merge_into_tail(129, 129, false, 1000, 0));
        assert!(!can_merge_into_tail(64, 64, true, 1000, 0));
        assert!(!can_merge_into_tail(64, 64, false, 64, 0));
        assert!(!can_merge_into_tail(64, 64, false, 1000, SEQ_EOM));
        assert!(can_collapse(0, 0, 100, 4096));
        assert!(!can_collapse(1, 0, 100, 4096));
        assert!(!can_collapse(0, SEQ_EOM, 100, 4096));
        assert!(!can_collapse(0, 0, 4096, 4096));
    }

    #[test]
    fn types() {
        let mut h = pkt(Op::Rw);
        assert!(valid_type(&h));
        h.ty = 3;
        assert!(!valid_type(&h));
        h.ty = SockType::Seqpacket as u16;
        h.flags = SEQ_EOM;
        assert!(ends_message(&h));
    }
}
