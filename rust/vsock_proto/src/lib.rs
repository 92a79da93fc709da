// SPDX-License-Identifier: GPL-2.0

//! The virtio-vsock protocol core of vsock-rust.
//!
//! Everything here is plain data and arithmetic: no kernel, no allocation, no
//! `unsafe`.  The same files are compiled into the kernel modules (through
//! `#[path]` modules, see `net/vmw_vsock/`) and, as this crate, into host
//! `cargo test` unit and property tests and a fuzz target.
//!
//! The modules follow `net/vmw_vsock/virtio_transport_common.c` of Linux 7.2
//! and the virtio specification (5.10 Socket Device).

#![no_std]
#![forbid(unsafe_code)]

pub mod credit;
pub mod hdr;
pub mod rules;
pub mod steer;
