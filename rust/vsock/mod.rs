// SPDX-License-Identifier: GPL-2.0

//! vsock-rust's kernel abstractions.
//!
//! This directory is compiled into every vsock-rust module (each module is
//! its own crate; see `Kbuild`).  All `unsafe` code of the project lives
//! here, below safe types that the transports use.

#[path = "../bindings/mod.rs"]
pub(crate) mod bindings;
mod layout;
