// SPDX-License-Identifier: GPL-2.0

//! vsock-rust's kernel abstractions.
//!
//! This directory is compiled into every vsock-rust module (each module is
//! its own crate; see `Kbuild`).  All `unsafe` code of the project lives
//! here, below safe types that the transports use.

#![allow(dead_code, unreachable_pub)]

#[path = "../bindings/mod.rs"]
pub mod bindings;
pub mod iov;
mod layout;
pub mod lock;
pub mod msg;
pub mod net;
pub mod periodic;
pub mod pktq;
pub mod skb;
pub mod sock;
pub mod tap;
pub mod transport;
pub mod work;

/// The no_std protocol core (`rust/vsock_proto`), compiled into this crate.
#[path = "../vsock_proto/src"]
#[allow(unreachable_pub, dead_code)]
pub mod proto {
    pub mod credit;
    pub mod hdr;
    pub mod rules;
    pub mod steer;
}
