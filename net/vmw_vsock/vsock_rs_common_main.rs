// SPDX-License-Identifier: GPL-2.0

//! vsock_rs_common: the common virtio-vsock transport code in Rust.
//!
//! The Rust counterpart of `vmw_vsock_virtio_transport_common`: header
//! handling, the connection state machine and credit accounting shared by
//! the loopback, guest (virtio) and host (vhost) transports.
//!
//! Transports (`vsock_rs_loopback`, ...) fill their `struct
//! vsock_transport` with the `vsock_rs_*` functions this module exports
//! (see `include/net/vsock_rs.h`) and hand it received packets.

use kernel::prelude::*;

#[path = "../../rust/vsock/mod.rs"]
mod vsock;

#[path = "vsock_rs_common/mod.rs"]
mod common;

use vsock::proto;

crate::vsock_rs_common_exports!(crate::common::Common);

module! {
    type: VsockRsCommon,
    name: "vsock_rs_common",
    authors: ["vsock-rust developers"],
    description: "common code for virtio vsock (Rust)",
    license: "GPL",
}

struct VsockRsCommon;

impl kernel::Module for VsockRsCommon {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(VsockRsCommon)
    }
}

#[kunit_tests(vsock_rs_common)]
mod tests {
    use super::proto::credit::Credit;
    use super::proto::hdr::{Hdr, Op, SockType, HDR_LEN, SEQ_EOM};
    use super::proto::rules;
    use super::vsock::bindings;

    #[test]
    fn hdr_len_matches_c() {
        assert_eq!(HDR_LEN, bindings::SIZEOF_VIRTIO_VSOCK_HDR);
    }

    #[test]
    fn hdr_round_trip() {
        let h = Hdr {
            src_cid: 1,
            dst_cid: 1,
            src_port: 1025,
            dst_port: 1234,
            len: 100,
            ty: SockType::Seqpacket as u16,
            op: Op::Rw as u16,
            flags: SEQ_EOM,
            buf_alloc: 262_144,
            fwd_cnt: u32::MAX,
        };
        assert_eq!(Hdr::decode(&h.encode()), Ok(h));
        assert!(Hdr::decode(&[0u8; 43]).is_err());
    }

    #[test]
    fn credit_window_wraps() {
        let mut c = Credit::new(65536);
        c.tx_cnt = u32::MAX - 10;
        assert!(c.update_peer(65536, u32::MAX - 10));
        assert_eq!(c.get_credit(100), 100);
        assert_eq!(c.has_space(), 65436);
        assert!(!c.update_peer(50, u32::MAX - 10));
        assert_eq!(c.get_credit(1), 0);
    }

    #[test]
    fn state_transitions() {
        use super::proto::rules::{ConnectedAction, ConnectingAction, ListenAction};
        let mk = |op: Op, flags: u32| Hdr {
            op: op as u16,
            ty: SockType::Stream as u16,
            flags,
            ..Hdr::default()
        };
        // LISTEN: only requests, only with room, only while not shut down.
        assert_eq!(
            rules::on_listen(&mk(Op::Request, 0), false, false),
            ListenAction::Accept
        );
        assert_eq!(
            rules::on_listen(&mk(Op::Rw, 0), false, false),
            ListenAction::Reset(rules::EINVAL)
        );
        assert_eq!(
            rules::on_listen(&mk(Op::Request, 0), true, false),
            ListenAction::Reset(rules::ENOMEM)
        );
        // SYN_SENT: response connects, reset fails with ECONNRESET.
        assert_eq!(
            rules::on_connecting(&mk(Op::Response, 0)),
            ConnectingAction::Established
        );
        assert!(matches!(
            rules::on_connecting(&mk(Op::Rst, 0)),
            ConnectingAction::Fail {
                sk_err: rules::ECONNRESET,
                ..
            }
        ));
        // ESTABLISHED: shutdown flags accumulate into peer_shutdown.
        assert_eq!(
            rules::on_connected(&mk(Op::Shutdown, 1), 2),
            ConnectedAction::Shutdown {
                peer_shutdown: 3,
                notify: true
            }
        );
        assert_eq!(
            rules::on_connected(&mk(Op::Invalid, 0), 0),
            ConnectedAction::Drop
        );
    }

    #[test]
    fn rst_rules() {
        let rst = Hdr {
            op: Op::Rst as u16,
            ty: SockType::Stream as u16,
            ..Hdr::default()
        };
        assert!(rst.reset_reply().is_none());
        assert!(!rules::may_reply_rst(&rst));
        assert!(rules::on_closing(&rst));
    }
}
