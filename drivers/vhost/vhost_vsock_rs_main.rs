// SPDX-License-Identifier: GPL-2.0

//! vhost_vsock_rs: the vhost backend of virtio-vsock (host side) in Rust.
//!
//! The counterpart of upstream `vhost_vsock` (`drivers/vhost/vsock.c`):
//! `/dev/vhost-vsock` (misc minor 241), one vhost device per open, driven
//! by a VMM (QEMU's `vhost-vsock-pci`), and the `vhost_transport` H2G
//! transport on the common module.  Line for line as upstream:
//!
//! - TX (guest to host): each descriptor chain is read into a packet, its
//!   header and payload length checked against the chain first; only
//!   packets from the guest's CID to the host's reach the common module;
//! - RX (host to guest): the send queue is drained into the guest's
//!   buffers by the vhost worker, packets larger than a buffer split
//!   across several (SEQPACKET's EOM/EOR only on the last piece); replies
//!   are throttled against the TX ring;
//! - guests are found by CID (and namespace) in an RCU table;
//! - release resets the guest's sockets, drops its pending packets and
//!   frees its CID, after every reader and worker is done.

// The backend is safe Rust: only the abstractions (rust/) allow unsafe_code.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice};

#[path = "../../rust/vsock/mod.rs"]
#[allow(unsafe_code)]
mod vsock;

#[path = "../../rust/vhost/mod.rs"]
#[allow(unsafe_code)]
mod vhost;

use vhost::misc::{MiscFile, MiscReg, PollCtx};
use vhost::{Desc, Vhost, VhostHandler, VqGuard, Worker};
use vsock::bindings as b;
use vsock::net::Net;
use vsock::proto::hdr::{Hdr, HDR_LEN, MAX_PKT_BUF_SIZE, SEQ_EOM, SEQ_EOR};
use vsock::skb::{SkbBox, SkbQueue};
use vsock::sock::{ConnectedVisitor, TableSock, VsockSock};
use vsock::transport::{common, Published, Registration, TransportDesc, TransportOps};

module! {
    type: VhostVsockRs,
    name: "vhost_vsock_rs",
    authors: ["vsock-rust developers"],
    description: "vhost transport for vsock (Rust)",
    license: "GPL",
    alias: ["char-major-10-241", "devname:vhost-vsock"],
}

/// `VHOST_VSOCK_DEFAULT_HOST_CID`.
const HOST_CID: u32 = 2;
/// Max number of bytes transferred before requeueing the job.
const WEIGHT: i32 = 0x80000;
/// Max number of packets transferred before requeueing the job.
const PKT_WEIGHT: i32 = 256;
/// `UIO_MAXIOV`.
const UIO_MAXIOV: i32 = 1024;

/// The virtqueues (`VSOCK_VQ_RX`, `VSOCK_VQ_TX`).
const VQ_RX: usize = 0;
const VQ_TX: usize = 1;

/// The backend's state of one guest (upstream's `struct vhost_vsock`, less
/// what the vhost abstraction holds: device, queues, CID, namespace).
#[pin_data]
struct Vsock {
    /// Host to guest packets waiting for the guest's buffers.
    #[pin]
    send_pkt_queue: SkbQueue,
    /// Replies queued and not yet given to the guest.
    queued_replies: AtomicI32,
    /// `VIRTIO_VSOCK_F_SEQPACKET` was acked.
    seqpacket_allow: AtomicBool,
}

type Dev = Vhost<Vsock>;

impl Vsock {
    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Vsock {
            send_pkt_queue <- SkbQueue::new(),
            queued_replies: AtomicI32::new(0),
            seqpacket_allow: AtomicBool::new(false),
        }? Error)
    }
}

/// `VHOST_VSOCK_SET_RUNNING(1)` (upstream's `vhost_vsock_start`): checks
/// the owner, gives every virtqueue its backend, then queues the send
/// worker for packets queued before the start.
fn start(dev: &Dev) -> Result {
    let d = dev.lock_dev();
    let owner = d.check_owner()?;
    for i in 0..vhost::NR_VQS {
        let Some(mut vq) = d.lock_vq(i) else {
            continue;
        };
        if let Err(e) = vq.run(&owner) {
            vq.withdraw();
            drop(vq);
            for j in 0..vhost::NR_VQS {
                if let Some(mut vq) = d.lock_vq(j) {
                    vq.withdraw();
                }
            }
            return Err(e);
        }
    }
    // Some packets may have been queued before the device was started,
    // let's kick the send worker to send them.
    dev.work_queue(VQ_RX);
    Ok(())
}

/// `VHOST_VSOCK_SET_RUNNING(0)` and release (upstream's
/// `vhost_vsock_stop`): withdraws every virtqueue's backend, after
/// checking the owner if `check_owner`.
fn stop(dev: &Dev, check_owner: bool) -> Result {
    let d = dev.lock_dev();
    if check_owner {
        d.check_owner()?;
    }
    for i in 0..vhost::NR_VQS {
        if let Some(mut vq) = d.lock_vq(i) {
            vq.withdraw();
        }
    }
    Ok(())
}

/// `VHOST_SET_FEATURES` (upstream's `vhost_vsock_set_features`).
fn set_features(dev: &Dev, features: u64) -> Result {
    if features & !Dev::features() != 0 {
        return Err(Error::from_errno(-vsock::proto::rules::EOPNOTSUPP));
    }
    let mut d = dev.lock_dev();
    if features & (1u64 << b::VRS_VHOST_F_LOG_ALL) != 0 && !d.log_access_ok() {
        return Err(EFAULT);
    }
    if features & (1u64 << b::VRS_VIRTIO_F_ACCESS_PLATFORM) != 0 {
        d.init_device_iotlb().map_err(|_| EFAULT)?;
    } else {
        d.clear_device_iotlb();
    }
    let seqpacket = features & (1u64 << b::VRS_VIRTIO_VSOCK_F_SEQPACKET) != 0;
    dev.data()
        .seqpacket_allow
        .store(seqpacket, Ordering::Relaxed);
    for i in 0..vhost::NR_VQS {
        if let Some(mut vq) = d.lock_vq(i) {
            vq.set_acked_features(features);
        }
    }
    Ok(())
}

/// Is there space left for replies to rx packets?
fn more_replies(dev: vhost::Found<'_, Vsock>) -> bool {
    let val = dev.data().queued_replies.load(Ordering::SeqCst);
    i64::from(val) < i64::from(dev.vq_num(VQ_TX))
}

/// Host to guest: moves queued packets into the guest's RX buffers
/// (upstream's `vhost_transport_do_send_pkt`).
fn do_send_pkt(w: &Worker<'_, Vsock>) {
    let dev = w.dev();
    let v = dev.data();
    let mut restart_tx = false;
    {
        let Some(mut g) = w.start_vq(VQ_RX) else {
            return;
        };
        let mut pkts: i32 = 0;
        let mut total_len: i32 = 0;
        let mut added = false;
        'outer: loop {
            'body: {
                let Some(mut skb) = v.send_pkt_queue.pop_front() else {
                    g.enable_notify();
                    break 'outer;
                };
                let head = match g.get_desc() {
                    Desc::Error(_) => {
                        v.send_pkt_queue.push_front(skb);
                        break 'outer;
                    }
                    Desc::Empty => {
                        v.send_pkt_queue.push_front(skb);
                        // We cannot finish yet if more buffers snuck in
                        // while re-enabling notify.
                        if g.enable_notify() {
                            g.disable_notify();
                            break 'body;
                        }
                        break 'outer;
                    }
                    Desc::Head { head, out, .. } => {
                        if out != 0 {
                            // Expected 0 output buffers.
                            drop(skb);
                            g.vq_err();
                            break 'outer;
                        }
                        head
                    }
                };
                let iov_len = g.len(true);
                if iov_len < HDR_LEN {
                    // Buffer too small.
                    drop(skb);
                    g.vq_err();
                    break 'outer;
                }
                let offset = skb.offset();
                let mut payload_len = skb.len().saturating_sub(offset) as usize;
                let mut flags_to_restore = 0u32;
                // If the packet is greater than the space available in the
                // buffer, we split it using multiple buffers; the pieces
                // but the last carry neither EOM nor EOR.
                if payload_len > iov_len - HDR_LEN {
                    payload_len = iov_len - HDR_LEN;
                    let mut flags = skb.hdr_flags();
                    if flags & SEQ_EOM != 0 {
                        flags &= !SEQ_EOM;
                        flags_to_restore |= SEQ_EOM;
                        if flags & SEQ_EOR != 0 {
                            flags &= !SEQ_EOR;
                            flags_to_restore |= SEQ_EOR;
                        }
                        skb.set_hdr_flags(flags);
                    }
                }
                // `payload_len` is at most the packet's u32 length.
                let plen = u32::try_from(payload_len).unwrap_or(u32::MAX);
                // Set the correct length in the header.
                skb.set_hdr_len(plen);
                let copied = match g.in_iter() {
                    Some(mut it) => match it.as_dest() {
                        Some(dst) => skb
                            .copy_hdr_to_iter(dst)
                            .and_then(|()| skb.copy_to_iter(offset, dst, payload_len)),
                        None => Err(EFAULT),
                    },
                    None => Err(EFAULT),
                };
                if copied.is_err() {
                    // Faulted on copying the packet.
                    drop(skb);
                    g.vq_err();
                    break 'outer;
                }
                // Deliver to monitoring devices all packets that we will
                // transmit.
                common::deliver_tap_pkt(&mut skb);
                g.add_used(head, (HDR_LEN as u32).saturating_add(plen));
                added = true;
                skb.set_offset(offset.saturating_add(plen));
                total_len = total_len.wrapping_add(plen as i32);
                // If we didn't send all the payload we can requeue the
                // packet to send it with the next available buffer.
                if skb.offset() < skb.len() {
                    let flags = skb.hdr_flags() | flags_to_restore;
                    skb.set_hdr_flags(flags);
                    // The rest goes to the taps with its own header.
                    skb.clear_tap_delivered();
                    v.send_pkt_queue.push_front(skb);
                } else {
                    if skb.is_reply() {
                        let val = v
                            .queued_replies
                            .fetch_sub(1, Ordering::SeqCst)
                            .wrapping_sub(1);
                        // Do we have resources to resume tx processing?
                        if i64::from(val) + 1 == i64::from(dev.vq_num(VQ_TX)) {
                            restart_tx = true;
                        }
                    }
                    common::consume_skb_sent(&mut skb);
                    skb.consume();
                }
            }
            pkts = pkts.wrapping_add(1);
            if g.exceeds_weight(pkts, total_len) {
                break;
            }
        }
        if added {
            g.signal();
        }
    }
    if restart_tx {
        dev.poll_queue(VQ_TX);
    }
}

/// Reads the packet of the last descriptor chain of the TX queue (upstream's
/// `vhost_vsock_alloc_skb`): the chain must be device-readable only, hold a
/// header and at most a maximal packet, and the header's length must fit
/// what follows it in the chain.  The packet is allocated for that length.
fn tx_packet(g: &mut VqGuard<'_, Vsock>, inn: u32) -> Option<SkbBox> {
    if inn != 0 {
        // Expected 0 input buffers.
        g.vq_err();
        return None;
    }
    let len = g.len(false);
    if len < HDR_LEN || len > MAX_PKT_BUF_SIZE as usize + HDR_LEN {
        return None;
    }
    let mut it = g.out_iter()?;
    let src = it.as_source()?;
    let mut raw = [0u8; HDR_LEN];
    if src.copy_from_iter(&mut raw) != HDR_LEN {
        return None;
    }
    let hdr = Hdr::decode(&raw).ok()?;
    let payload_len = hdr.len;
    // The pkt is too big or the length in the header is invalid.
    if payload_len as usize > len - HDR_LEN {
        return None;
    }
    let mut skb = SkbBox::alloc(payload_len, false).ok()?;
    skb.set_hdr(&hdr);
    if payload_len != 0 && skb.fill_from_iter(src, payload_len).is_err() {
        return None;
    }
    Some(skb)
}

/// Guest to host: hands the guest's packets to the common module
/// (upstream's `vhost_vsock_handle_tx_kick`).
fn handle_tx_kick(w: &Worker<'_, Vsock>) {
    let dev = w.dev();
    let Some(mut g) = w.start_vq(VQ_TX) else {
        return;
    };
    let mut pkts: i32 = 0;
    let mut total_len: i32 = 0;
    let mut added = false;
    'outer: loop {
        'body: {
            if !more_replies(dev) {
                // Stop tx until the device processes already pending
                // replies.  Leave tx virtqueue callbacks disabled.
                break 'outer;
            }
            let (head, inn) = match g.get_desc() {
                Desc::Error(_) => break 'outer,
                Desc::Empty => {
                    if g.enable_notify() {
                        g.disable_notify();
                        break 'body;
                    }
                    break 'outer;
                }
                Desc::Head { head, inn, .. } => (head, inn),
            };
            let Some(mut skb) = tx_packet(&mut g, inn) else {
                // Faulted on pkt (as upstream, the chain is not returned).
                g.vq_err();
                break 'body;
            };
            total_len = total_len
                .wrapping_add(HDR_LEN as i32)
                .wrapping_add(skb.len() as i32);
            // Deliver to monitoring devices all received packets.
            common::deliver_tap_pkt(&mut skb);
            let hdr = skb.hdr();
            // Only accept correctly addressed packets.
            if hdr.src_cid == u64::from(dev.guest_cid()) && hdr.dst_cid == u64::from(HOST_CID) {
                Host::desc().recv_pkt(skb, Some(dev.net()));
            } else {
                drop(skb);
            }
            g.add_used(head, 0);
            added = true;
        }
        pkts = pkts.wrapping_add(1);
        if g.exceeds_weight(pkts, total_len) {
            break;
        }
    }
    if added {
        g.signal();
    }
}

impl VhostHandler for Vsock {
    fn handle_kick(w: &Worker<'_, Self>, vq: usize) {
        match vq {
            VQ_TX => handle_tx_kick(w),
            VQ_RX => do_send_pkt(w),
            _ => {}
        }
    }

    fn handle_work(w: &Worker<'_, Self>) {
        do_send_pkt(w);
    }
}

/// The transport (`vhost_transport`).  Its published device is only a
/// token: the guests are found by CID in the vhost table.
struct Host;

/// The transport's published "device".
struct HostToken;

crate::vsock_rs_transport!(vhost_transport, Host);

impl TransportOps for Host {
    type Dev = HostToken;
    const FEATURES: u32 = b::VRS_VSOCK_TRANSPORT_F_H2G;
    const HAS_REMOTE_CID: bool = true;

    fn desc() -> &'static TransportDesc<Self> {
        &vhost_transport
    }

    fn local_cid(_dev: Option<&HostToken>) -> u32 {
        HOST_CID
    }

    fn send_pkt(_dev: Option<&HostToken>, skb: SkbBox, net: Option<&Net>) -> Result<u32> {
        let len = skb.len();
        // As upstream, the low 32 bits of the destination select the guest.
        let cid = skb.hdr().dst_cid as u32;
        Dev::lookup(cid, net, |dev| {
            let Some(dev) = dev else {
                return Err(ENODEV);
            };
            // Fast-fail if the guest hasn't enabled the RX vq yet.
            if !dev.vq_has_backend_racy(VQ_RX) {
                return Err(Error::from_errno(-(kernel::bindings::EHOSTUNREACH as i32)));
            }
            let v = dev.data();
            if skb.is_reply() {
                v.queued_replies.fetch_add(1, Ordering::SeqCst);
            }
            v.send_pkt_queue.push_back(skb);
            dev.work_queue(VQ_RX);
            Ok(len)
        })
    }

    fn cancel_pkt(_dev: Option<&HostToken>, vsk: &VsockSock) -> Result {
        Dev::lookup(vsk.remote_addr().0, Some(vsk.net()), |dev| {
            let dev = dev.ok_or(ENODEV)?;
            let v = dev.data();
            let cnt = common::purge_skbs(vsk, &v.send_pkt_queue);
            if cnt > 0 {
                let cnt = i32::try_from(cnt).unwrap_or(i32::MAX);
                let new_cnt = v
                    .queued_replies
                    .fetch_sub(cnt, Ordering::SeqCst)
                    .wrapping_sub(cnt);
                let num = i64::from(dev.vq_num(VQ_TX));
                if i64::from(new_cnt) + i64::from(cnt) >= num && i64::from(new_cnt) < num {
                    dev.poll_queue(VQ_TX);
                }
            }
            Ok(())
        })
    }

    fn stream_allow(_dev: Option<&HostToken>, _vsk: &VsockSock, _cid: u32, _port: u32) -> bool {
        true
    }

    fn seqpacket_allow(_dev: Option<&HostToken>, vsk: &VsockSock, remote_cid: u32) -> bool {
        Dev::lookup(remote_cid, Some(vsk.net()), |dev| {
            dev.is_some_and(|d| d.data().seqpacket_allow.load(Ordering::Relaxed))
        })
    }

    fn msgzerocopy_allow() -> bool {
        true
    }

    fn has_remote_cid(_dev: Option<&HostToken>, vsk: &VsockSock, cid: u32) -> bool {
        Dev::lookup(cid, Some(vsk.net()), |dev| dev.is_some())
    }
}

/// Reads a `T` from user address `arg`.
fn read_user<T: kernel::transmute::FromBytes>(arg: usize) -> Result<T> {
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .reader()
        .read::<T>()
}

/// Writes `val` to user address `arg`.
fn write_user<T: kernel::transmute::AsBytes>(arg: usize, val: &T) -> Result {
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .writer()
        .write(val)
}

/// Upstream's `vhost_vsock_reset_orphans()` for one connected socket:
/// resets it (`ECONNRESET`) once no device serves its peer's CID, unless
/// its close timeout is pending (letting that expire avoids racing with
/// the timeout's callback).  Without the socket lock, as upstream.
struct ResetOrphan;

impl ConnectedVisitor for ResetOrphan {
    fn visit(sk: &TableSock) {
        let (cid, _) = sk.remote_addr();
        // If the peer is still valid, the connection stays.
        if Dev::lookup(cid, Some(sk.net()), |dev| dev.is_some()) {
            return;
        }
        if sk.close_work_scheduled() {
            return;
        }
        sk.reset_orphan();
    }
}

impl MiscFile for Dev {
    fn open() -> Result<Pin<KBox<Self>>> {
        Vhost::new(Vsock::new(), UIO_MAXIOV, PKT_WEIGHT, WEIGHT)
    }

    fn release(mut this: Pin<KBox<Self>>) {
        // The CID goes, and once no reader sees the device (after a grace
        // period) ...
        this.unhash();
        // ... the connections to it are orphans: reset them.
        Host::desc().for_each_connected::<ResetOrphan>();
        // Don't check the owner: the device stops in any case.
        let _ = stop(&this, false);
        this.as_mut().flush();
        this.as_mut().dev_stop();
        this.data().send_pkt_queue.purge();
        // Dropping cleans the vhost device up (its workers end) and frees
        // it, then the Rust state.
        drop(this);
    }

    fn ioctl(this: &Self, cmd: u32, arg: usize) -> Result<i64> {
        match cmd {
            b::VRS_VHOST_VSOCK_SET_GUEST_CID => {
                let cid: u64 = read_user(arg)?;
                this.set_cid(cid).map(|()| 0)
            }
            b::VRS_VHOST_VSOCK_SET_RUNNING => {
                let running: i32 = read_user(arg)?;
                if running != 0 {
                    start(this).map(|()| 0)
                } else {
                    stop(this, true).map(|()| 0)
                }
            }
            b::VRS_VHOST_GET_FEATURES => write_user(arg, &Dev::features()).map(|()| 0),
            b::VRS_VHOST_SET_FEATURES => {
                let features: u64 = read_user(arg)?;
                set_features(this, features).map(|()| 0)
            }
            b::VRS_VHOST_GET_BACKEND_FEATURES => {
                write_user(arg, &Dev::backend_features()).map(|()| 0)
            }
            b::VRS_VHOST_SET_BACKEND_FEATURES => {
                let features: u64 = read_user(arg)?;
                if features & !Dev::backend_features() != 0 {
                    return Err(Error::from_errno(-vsock::proto::rules::EOPNOTSUPP));
                }
                this.set_backend_features(features);
                Ok(0)
            }
            _ => this.dev_ioctl(cmd, arg),
        }
    }

    fn read_iter(this: &Self, to: &mut IovIterDest<'_>, nonblock: bool) -> Result<usize> {
        this.chr_read(to, nonblock)
    }

    fn write_iter(this: &Self, from: &mut IovIterSource<'_>) -> Result<usize> {
        this.chr_write(from)
    }

    fn poll(ctx: &PollCtx<'_, Self>) -> u32 {
        ctx.chr_poll()
    }
}

crate::vsock_rs_misc_fops!(VHOST_VSOCK_FOPS, Dev);

struct VhostVsockRs {
    // The device node goes first, then the transport, then its token, as
    // upstream's exit.
    _misc: Pin<KBox<MiscReg<Dev>>>,
    _reg: Registration<Host>,
    _token: Published<Host>,
}

impl kernel::Module for VhostVsockRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let token = Published::new_value(HostToken)?;
        let reg = Registration::new()?;
        let misc = MiscReg::register(
            &VHOST_VSOCK_FOPS,
            b::VRS_VHOST_VSOCK_MINOR as i32,
            c"vhost-vsock",
        )?;
        Ok(VhostVsockRs {
            _misc: misc,
            _reg: reg,
            _token: token,
        })
    }
}
