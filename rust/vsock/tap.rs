// SPDX-License-Identifier: GPL-2.0

//! Packet capture: delivery of packets to vsockmon taps
//! (`vsock_deliver_tap`), as `virtio_transport_deliver_tap_pkt` does.

use super::bindings as b;
use super::proto::hdr::{Hdr, HDR_LEN, MON_HDR_LEN};
use super::skb::Skb;

/// Builds the vsockmon copy of a packet (`virtio_transport_build_skb`).
///
/// # Safety
///
/// Called by `vsock_deliver_tap` with the packet [`deliver`] passed.
unsafe extern "C" fn build_skb(opaque: *mut core::ffi::c_void) -> *mut b::sk_buff {
    // SAFETY: `deliver` passes the packet it borrows for the whole call.
    let pkt = unsafe { Skb::from_raw_ref(opaque.cast()) };
    let hdr = pkt.hdr();
    let Some((payload, total)) = copy_size(pkt, &hdr) else {
        return core::ptr::null_mut();
    };
    // SAFETY: plain allocation.
    let skb = unsafe { b::vsock_rs_h_alloc_plain_skb(total) };
    if skb.is_null() {
        return skb;
    }
    let mon = hdr.vsockmon_hdr();
    let raw = hdr.encode();
    // SAFETY: `skb` is fresh with room for `total` bytes; the sources are
    // locals of the right lengths.
    unsafe {
        let p = b::skb_put(skb, MON_HDR_LEN as u32).cast::<u8>();
        core::ptr::copy_nonoverlapping(mon.as_ptr(), p, MON_HDR_LEN);
        let p = b::skb_put(skb, HDR_LEN as u32).cast::<u8>();
        core::ptr::copy_nonoverlapping(raw.as_ptr(), p, HDR_LEN);
    }
    if payload > 0 {
        // SAFETY: room for `payload` more bytes was allocated.
        let p = unsafe { b::skb_put(skb, payload) };
        // SAFETY: `p` holds `payload` bytes.
        let dst = unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), payload as usize) };
        if pkt.copy_bits(pkt.offset(), dst).is_err() {
            // SAFETY: `skb` is ours and not handed out.
            unsafe { crate::vsock::skb::kfree_skb(skb) };
            return core::ptr::null_mut();
        }
    }
    skb
}

/// The payload to copy for the taps and the size of the vsockmon copy.
///
/// A packet may have been split to fit the RX buffer: the header's length
/// is the payload of this fragment.  It comes from the peer: never copy
/// more than the packet holds (upstream's copy then fails and the taps get
/// nothing, as here), and never overflow.
pub fn copy_size(pkt: &Skb, hdr: &Hdr) -> Option<(u32, u32)> {
    let payload = hdr.len;
    if payload > pkt.len().saturating_sub(pkt.offset()) {
        return None;
    }
    let total = ((MON_HDR_LEN + HDR_LEN) as u32).checked_add(payload)?;
    Some((payload, total))
}

/// Delivers `skb` to every vsockmon tap, once per packet.
pub fn deliver(skb: &mut Skb) {
    if skb.tap_delivered() {
        return;
    }
    // SAFETY: `build_skb` only reads the packet, which outlives the call.
    unsafe { b::vsock_deliver_tap(Some(build_skb), skb.as_ptr().cast()) };
    skb.set_tap_delivered();
}
