// SPDX-License-Identifier: GPL-2.0

//! vsock_rs_virtio: the virtio-vsock guest driver in Rust.
//!
//! The counterpart of upstream `vmw_vsock_virtio_transport`
//! (`net/vmw_vsock/virtio_transport.c`): it drives virtio device 19 (rx,
//! tx and event queues) and registers `virtio_transport` as the G2H
//! transport on the common module.  Same wire, same socket behaviour:
//!
//! - TX: packets go straight onto the tx virtqueue when nothing is
//!   queued before them and its lock is free, else onto the send queue,
//!   which a worker drains; replies are counted against the rx ring so
//!   that receiving stops while the device has not taken them;
//! - RX: 4 KiB buffers by default (`rx_buf_size`), refilled below half,
//!   each packet checked against the length the device wrote;
//! - events: `TRANSPORT_RESET` resets every connected socket and re-reads
//!   the guest CID;
//! - removal, freeze and restore reset the sockets and the device.

// The driver is safe Rust: only the abstractions (rust/) allow unsafe_code.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

#[path = "../../rust/vsock/mod.rs"]
#[allow(unsafe_code)]
mod vsock;

#[path = "../../rust/virtio/mod.rs"]
#[allow(unsafe_code)]
mod virtio;

use virtio::{Device, EventBuf, Gfp, InBuf, OutPkt, VirtQueue};
use vsock::bindings as b;
use vsock::net::Net;
use vsock::proto::hdr::HDR_LEN;
use vsock::skb::{SkbBox, SkbList, SkbQueue};
use vsock::sock::VsockSock;
use vsock::transport::{common, Origin, Published, Registration, TransportDesc, TransportOps};
use vsock::work::{WorkHandler, Works};

module! {
    type: VsockRsVirtio,
    name: "vsock_rs_virtio",
    authors: ["vsock-rust developers"],
    description: "virtio transport for vsock (Rust)",
    license: "GPL",
    params: {
        rx_buf_size: u32 {
            default: 4096,
            description: "Memory per receive buffer: 4096 (upstream's), 8192, 16384, 32768 or 65536 bytes; the host sends packets of up to this size less the skb overhead",
        },
    },
}

crate::virtio_device_table!(ID_TABLE, VIRTIO_VSOCK_IDS, [b::VRS_VIRTIO_ID_VSOCK]);

/// The virtqueues, in the device's order.
const VQ_RX: usize = 0;
const VQ_TX: usize = 1;
const VQ_EVENT: usize = 2;

/// The work items.
const W_RX: usize = 0;
const W_TX: usize = 1;
const W_EVENT: usize = 2;
const W_SEND: usize = 3;
const NR_WORKS: usize = 4;

/// Event buffers posted to the device (upstream's `event_list`).
const NR_EVENTS: usize = 8;

/// The most received packets handed to the common module at once.
const RX_BATCH: u32 = 16;

/// The receive state, under the rx queue's lock.
struct RxState {
    /// Buffers on the ring.
    buf_nr: u32,
    /// The most there were since the queues started.
    buf_max_nr: u32,
    /// Packets taken from the ring, not yet handed to the common module
    /// (empty outside the rx worker).
    batch: SkbList,
}

/// The device: its queues, the send queue and what the hooks read.
#[pin_data]
struct Vsock {
    #[pin]
    rx: VirtQueue<InBuf, RxState>,
    #[pin]
    tx: VirtQueue<OutPkt, ()>,
    #[pin]
    event: VirtQueue<EventBuf, ()>,
    /// Packets waiting for room on the tx ring.
    #[pin]
    send_queue: SkbQueue,
    /// Replies (to received packets) not yet taken by the device.
    queued_replies: AtomicI32,
    /// The rx ring's size, once the queues started (read without the rx
    /// lock, as upstream's `virtqueue_get_vring_size`).
    rx_ring_size: AtomicU32,
    /// The tx ring's capacity (`num_max`), for `can_msgzerocopy`.
    tx_num_max: AtomicU32,
    /// The guest CID from the configuration space.
    guest_cid: AtomicU32,
    /// `VIRTIO_VSOCK_F_SEQPACKET` was negotiated.
    seqpacket: AtomicBool,
    /// Bytes posted per receive buffer, header included.
    rx_buf_len: u32,
}

type VsockDev = Works<Vsock, NR_WORKS>;

impl Vsock {
    fn new(seqpacket: bool, rx_buf_len: u32, batch: SkbList) -> impl PinInit<Self, Error> {
        try_pin_init!(Vsock {
            rx <- crate::new_virtqueue!(
                RxState { buf_nr: 0, buf_max_nr: 0, batch },
                "vsock_rs_virtio_rx"
            ),
            tx <- crate::new_virtqueue!((), "vsock_rs_virtio_tx"),
            event <- crate::new_virtqueue!((), "vsock_rs_virtio_event"),
            send_queue <- SkbQueue::new(),
            queued_replies: AtomicI32::new(0),
            rx_ring_size: AtomicU32::new(0),
            tx_num_max: AtomicU32::new(0),
            guest_cid: AtomicU32::new(b::VRS_VMADDR_CID_ANY),
            seqpacket: AtomicBool::new(seqpacket),
            rx_buf_len,
        }? Error)
    }

    /// Whether there is room for replies to received packets: the device
    /// has taken all but fewer than an rx ring's worth.
    fn more_replies(&self) -> bool {
        self.more_replies_with(0)
    }

    /// Whether there is room for the replies of `pending` more packets
    /// besides those queued (each packet causes at most one reply).
    fn more_replies_with(&self, pending: u32) -> bool {
        let ring = i64::from(self.rx_ring_size.load(Ordering::Relaxed));
        i64::from(self.queued_replies.load(Ordering::SeqCst)) + i64::from(pending) < ring
    }

    /// Posts receive buffers until the ring is full (or memory runs out).
    fn rx_fill(&self, vq: &mut virtio::Vq<'_, InBuf>, st: &mut RxState) {
        loop {
            // Large buffers are order-4 allocations: when one fails, an
            // upstream-sized buffer keeps the ring from running dry.
            let buf = InBuf::alloc(self.rx_buf_len)
                .or_else(|_| InBuf::alloc(b::VRS_VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE));
            let Ok(buf) = buf else {
                break;
            };
            if vq.add(buf, Gfp::Kernel).is_err() {
                break;
            }
            st.buf_nr = st.buf_nr.saturating_add(1);
            if vq.num_free() == 0 {
                break;
            }
        }
        st.buf_max_nr = st.buf_max_nr.max(st.buf_nr);
        vq.kick();
    }

    /// Posts every event buffer.
    fn event_fill(vq: &mut virtio::Vq<'_, EventBuf>) {
        for _ in 0..NR_EVENTS {
            let Ok(ev) = EventBuf::new() else {
                break;
            };
            if vq.add(ev, Gfp::Kernel).is_err() {
                break;
            }
        }
        vq.kick();
    }

    /// Reads the guest CID (upstream keeps the low 32 bits).
    fn update_guest_cid(&self, dev: &Device) {
        // A vsock device always has the field (the driver binds no other).
        if let Ok(cfg) = dev.read_config::<b::virtio_vsock_config>() {
            let cid = u64::from_le(cfg.guest_cid) as u32;
            self.guest_cid.store(cid, Ordering::Relaxed);
        }
    }

    /// The send worker: moves queued packets onto the tx ring.
    fn send_work(works: &VsockDev) {
        let v = works.handler();
        let mut restart_rx = false;
        {
            let mut g = v.tx.lock();
            let Some(mut vq) = g.vq() else {
                return;
            };
            let mut added = false;
            while let Some(skb) = v.send_queue.pop_front() {
                let reply = skb.is_reply();
                // Taps see the packet once it is on the ring (`OutPkt`).
                if let Err((_, OutPkt(skb))) = vq.add(OutPkt(skb), Gfp::Kernel) {
                    // The ring is full: the tx worker calls us again once
                    // the device returns buffers.
                    v.send_queue.push_front(skb);
                    break;
                }
                if reply {
                    let val = v
                        .queued_replies
                        .fetch_sub(1, Ordering::SeqCst)
                        .wrapping_sub(1);
                    // Room for replies again: receiving may resume.
                    if i64::from(val) + 1 == i64::from(v.rx_ring_size.load(Ordering::Relaxed)) {
                        restart_rx = true;
                    }
                }
                added = true;
            }
            if added {
                vq.kick();
            }
        }
        if restart_rx {
            works.queue(W_RX);
        }
    }

    /// The tx worker: takes back the buffers the device has sent.
    fn tx_work(works: &VsockDev) {
        let v = works.handler();
        let mut added = false;
        {
            let mut g = v.tx.lock();
            let Some(mut vq) = g.vq() else {
                return;
            };
            loop {
                vq.disable_cb();
                while let Some((OutPkt(mut skb), _)) = vq.get_buf() {
                    common::consume_skb_sent(&mut skb);
                    skb.consume();
                    added = true;
                }
                if vq.enable_cb() {
                    break;
                }
            }
        }
        // Room on the ring again: the send worker moves what waits for
        // it.  With nothing waiting there is nothing to do (upstream runs
        // the worker anyway): a packet queued after this check queues the
        // worker itself (`send_pkt`).
        if added && !v.send_queue.is_empty_lockless() {
            works.queue(W_SEND);
        }
    }

    /// The rx worker: hands the packets the device wrote to the common
    /// module, and refills the ring.
    fn rx_work(works: &VsockDev) {
        let v = works.handler();
        let mut g = v.rx.lock();
        let (Some(mut vq), st) = g.parts() else {
            return;
        };
        // Packets go to the common module in short batches, in ring
        // order: consecutive packets of one connection are then handled
        // under one socket lock (`recv_pkts`), each with upstream's checks,
        // taps, wake-ups and replies.  The reply throttle is checked before
        // each packet is taken, as upstream, counting each packet waiting
        // in the batch as a reply: when they could reach the limit, the
        // batch goes first and the check is made again, so receiving stops
        // exactly where upstream's would.
        'outer: loop {
            vq.disable_cb();
            loop {
                if !v.more_replies_with(st.batch.len()) {
                    Self::deliver(&mut st.batch);
                    if !v.more_replies() {
                        // Stop until the device takes the pending replies
                        // (the send worker restarts us); callbacks stay off.
                        break 'outer;
                    }
                }
                let Some((buf, used)) = vq.get_buf() else {
                    break;
                };
                st.buf_nr = st.buf_nr.saturating_sub(1);
                if let Some(skb) = rx_packet(buf, used) {
                    st.batch.push_back(skb);
                    if st.batch.len() >= RX_BATCH {
                        Self::deliver(&mut st.batch);
                    }
                }
            }
            Self::deliver(&mut st.batch);
            if vq.enable_cb() {
                break;
            }
        }
        Self::deliver(&mut st.batch);
        if st.buf_nr < st.buf_max_nr / 2 {
            v.rx_fill(&mut vq, st);
        }
    }

    /// Hands the packets of `batch` to the common module, in order.
    fn deliver(batch: &mut SkbList) {
        if !batch.is_empty() {
            // Global mode: the guest driver does not do namespaces yet,
            // as upstream.
            Virtio::desc().recv_pkts(batch, Origin::Device(None));
        }
    }

    /// The event worker: handles and re-posts event buffers.
    fn event_work(works: &VsockDev) {
        let v = works.handler();
        let mut g = v.event.lock();
        let Some(mut vq) = g.vq() else {
            return;
        };
        loop {
            vq.disable_cb();
            while let Some((ev, used)) = vq.get_buf() {
                if used as usize == core::mem::size_of::<b::virtio_vsock_event>()
                    && ev.id() == b::VRS_VIRTIO_VSOCK_EVENT_TRANSPORT_RESET
                {
                    v.update_guest_cid(vq.device());
                    Virtio::desc().reset_connected_sockets();
                }
                // The buffer goes back; if it cannot, one fewer event
                // buffer is posted (as upstream, which ignores the error).
                let _ = vq.add(ev, Gfp::Kernel);
            }
            if vq.enable_cb() {
                break;
            }
        }
        vq.kick();
    }
}

/// The packet in a receive buffer the device returned with `used` bytes
/// written, or `None` if the device's lengths do not hold together:
/// less than a header, more than the buffer, or a header length beyond
/// what it wrote (upstream drops these too; it trusts no `hdr.len`
/// beyond the used length).
fn rx_packet(buf: InBuf, used: u32) -> Option<SkbBox> {
    let hdr = HDR_LEN as u32;
    if used < hdr || used > buf.len() {
        return None;
    }
    let payload = buf.skb().hdr_len();
    if payload > used - hdr {
        return None;
    }
    buf.into_packet(payload).ok()
}

impl WorkHandler<NR_WORKS> for Vsock {
    fn run(works: &VsockDev, id: usize) {
        match id {
            W_RX => Vsock::rx_work(works),
            W_TX => Vsock::tx_work(works),
            W_EVENT => Vsock::event_work(works),
            W_SEND => Vsock::send_work(works),
            _ => {}
        }
    }
}

/// The transport and the driver.
struct Virtio;

crate::vsock_rs_transport!(virtio_transport, Virtio);

impl TransportOps for Virtio {
    type Dev = Arc<VsockDev>;
    const FEATURES: u32 = b::VRS_VSOCK_TRANSPORT_F_G2H;
    const HAS_REMOTE_CID: bool = true;
    const CAN_MSGZEROCOPY: bool = true;

    fn desc() -> &'static TransportDesc<Self> {
        &virtio_transport
    }

    fn local_cid(dev: Option<&Arc<VsockDev>>) -> u32 {
        dev.map_or(b::VRS_VMADDR_CID_ANY, |d| {
            d.handler().guest_cid.load(Ordering::Relaxed)
        })
    }

    fn send_pkt(dev: Option<&Arc<VsockDev>>, skb: SkbBox, _net: Option<&Net>) -> Result<u32> {
        let d = dev.ok_or(ENODEV)?;
        let v = d.handler();
        if skb.hdr().dst_cid == u64::from(v.guest_cid.load(Ordering::Relaxed)) {
            return Err(ENODEV);
        }
        let len = skb.len();
        // Straight onto the ring if nothing waits before this packet and
        // the ring is free; we are under RCU, so no sleeping.  The queue
        // is checked again under the ring's lock: the send worker takes a
        // packet off the queue and, if the ring is full, puts it back,
        // both under that lock, so a packet can look alone in the window
        // between and, once the device has freed room, overtake the one
        // put back, even of its own socket.  (Upstream checks only
        // before the lock and has that window.)
        let skb = if v.send_queue.is_empty_lockless() {
            match v.tx.try_lock() {
                Some(_) if !v.send_queue.is_empty_lockless() => Some(skb),
                Some(mut g) => match g.vq() {
                    Some(mut vq) => match vq.add(OutPkt(skb), Gfp::Atomic) {
                        Ok(()) => {
                            vq.kick();
                            None
                        }
                        Err((_, OutPkt(skb))) => Some(skb),
                    },
                    None => Some(skb),
                },
                None => Some(skb),
            }
        } else {
            Some(skb)
        };
        if let Some(skb) = skb {
            if skb.is_reply() {
                v.queued_replies.fetch_add(1, Ordering::SeqCst);
            }
            v.send_queue.push_back(skb);
            d.queue(W_SEND);
        }
        Ok(len)
    }

    fn cancel_pkt(dev: Option<&Arc<VsockDev>>, vsk: &VsockSock) -> Result {
        let d = dev.ok_or(ENODEV)?;
        let v = d.handler();
        let cnt = common::purge_skbs(vsk, &v.send_queue);
        if cnt > 0 {
            let cnt = i32::try_from(cnt).unwrap_or(i32::MAX);
            let new = v
                .queued_replies
                .fetch_sub(cnt, Ordering::SeqCst)
                .wrapping_sub(cnt);
            let ring = i64::from(v.rx_ring_size.load(Ordering::Relaxed));
            if i64::from(new) + i64::from(cnt) >= ring && i64::from(new) < ring {
                d.queue(W_RX);
            }
        }
        Ok(())
    }

    fn stream_allow(_dev: Option<&Arc<VsockDev>>, vsk: &VsockSock, _cid: u32, _port: u32) -> bool {
        vsk.net_mode_global()
    }

    fn seqpacket_allow(dev: Option<&Arc<VsockDev>>, vsk: &VsockSock, _remote_cid: u32) -> bool {
        vsk.net_mode_global() && dev.is_some_and(|d| d.handler().seqpacket.load(Ordering::Relaxed))
    }

    fn msgzerocopy_allow() -> bool {
        true
    }

    fn has_remote_cid(_dev: Option<&Arc<VsockDev>>, _vsk: &VsockSock, _cid: u32) -> bool {
        // The CID could be implemented by the host: always assume it is.
        true
    }

    fn can_msgzerocopy(dev: Option<&Arc<VsockDev>>, bufs: i32) -> bool {
        // Every page of the packet takes a descriptor: it must fit the
        // ring, or it would be requeued forever.
        dev.is_some_and(|d| {
            i64::from(bufs) <= i64::from(d.handler().tx_num_max.load(Ordering::Relaxed))
        })
    }
}

/// The driver's data for its device.
#[pin_data]
struct Bound {
    dev: Arc<VsockDev>,
    /// The device as the transport's hooks see it, while it runs.
    #[pin]
    published: Mutex<Option<Published<Virtio>>>,
}

impl virtio::Driver for Virtio {
    type Data = Bound;
    const ID_TABLE: &'static dyn kernel::device_id::IdTable<virtio::DeviceId, ()> = &ID_TABLE;
    const FEATURES: &'static [u32] = &[b::VRS_VIRTIO_VSOCK_F_SEQPACKET];
    const QUEUES: &'static [&'static CStr] = &[c"rx", c"tx", c"event"];

    fn probe(dev: &Device) -> Result<Pin<KBox<Bound>>> {
        // Only one virtio-vsock device per guest, as upstream (probes and
        // removals are serialised, so this holds until `start`).
        if Virtio::desc().with_dev(|d| d.is_some()) {
            return Err(EBUSY);
        }
        let seqpacket = dev.has_feature(b::VRS_VIRTIO_VSOCK_F_SEQPACKET);
        let batch = SkbList::new()?;
        let vsock = Works::new(c"virtio_vsock", Vsock::new(seqpacket, rx_buf_len()?, batch))?;
        let dev = Arc::pin_init(vsock, GFP_KERNEL)?;
        KBox::pin_init(
            pin_init!(Bound {
                dev,
                published <- new_mutex!(None, "vsock_rs_virtio_published"),
            }),
            GFP_KERNEL,
        )
    }

    fn queue(data: &Bound, index: usize) -> &dyn virtio::AnyQueue {
        let v = data.dev.handler();
        match index {
            VQ_RX => &v.rx,
            VQ_TX => &v.tx,
            // VQ_EVENT, and any other (the device has three).
            _ => &v.event,
        }
    }

    fn configure(data: &Bound, dev: &Device) {
        let v = data.dev.handler();
        {
            let mut g = v.rx.lock();
            let st = g.state();
            st.buf_nr = 0;
            st.buf_max_nr = 0;
        }
        v.queued_replies.store(0, Ordering::SeqCst);
        v.update_guest_cid(dev);
    }

    fn start(data: &Bound, _dev: &Device) -> Result {
        let v = data.dev.handler();
        // What the hooks read, before they can see the device.
        if let Some(vq) = v.tx.lock().vq() {
            v.tx_num_max.store(vq.num_max(), Ordering::Relaxed);
        }
        if let Some(vq) = v.rx.lock().vq() {
            v.rx_ring_size.store(vq.vring_size(), Ordering::Relaxed);
        }
        *data.published.lock() = Some(Published::new_value(data.dev.clone())?);
        {
            let mut g = v.rx.lock();
            if let (Some(mut vq), st) = g.parts() {
                v.rx_fill(&mut vq, st);
            }
        }
        if let Some(mut vq) = v.event.lock().vq() {
            Vsock::event_fill(&mut vq);
        }
        // Packets queued since the device was published go out now.
        data.dev.queue(W_SEND);
        Ok(())
    }

    fn stop(data: &Bound, _dev: &Device) {
        // Withdrawn from the hooks (after a grace period, none uses it).
        drop(data.published.lock().take());
        // Reset all connected sockets when the virtqueues disappear.
        Virtio::desc().reset_connected_sockets();
    }

    fn stopped(data: &Bound, _removed: bool) {
        // What the device never took.  When the device goes for good,
        // its work items drain when `Bound` is dropped.
        data.dev.handler().send_queue.purge();
    }

    fn vq_done(data: &Bound, index: usize) {
        let work = match index {
            VQ_RX => W_RX,
            VQ_TX => W_TX,
            VQ_EVENT => W_EVENT,
            _ => return,
        };
        data.dev.queue(work);
    }
}

/// Bytes posted per receive buffer: `rx_buf_size` less the skb's own
/// overhead (upstream's `SKB_WITH_OVERHEAD(4096)` by default), so that
/// the buffer fills its allocation exactly.
fn rx_buf_len() -> Result<u32> {
    let size = *module_parameters::rx_buf_size.value();
    if !(4096..=65536).contains(&size) || !size.is_power_of_two() {
        return Err(EINVAL);
    }
    size.checked_sub(b::VRS_SKB_SHINFO_OVERHEAD).ok_or(EINVAL)
}

struct VsockRsVirtio {
    // The driver goes first (removing the device), then the transport,
    // as upstream's exit.
    _drv: Pin<KBox<virtio::Registration<Virtio>>>,
    _reg: Registration<Virtio>,
}

impl kernel::Module for VsockRsVirtio {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        rx_buf_len()?;
        let reg = Registration::new()?;
        let drv = KBox::pin_init(virtio::Registration::new(c"vsock_rs_virtio"), GFP_KERNEL)?;
        Ok(VsockRsVirtio {
            _drv: drv,
            _reg: reg,
        })
    }
}

#[kunit_tests(vsock_rs_virtio)]
mod tests {
    //! The receive path against a hostile device: each case hands
    //! `rx_packet` a buffer as a device could return it.
    use super::*;
    use vsock::proto::hdr::{Hdr, Op, SockType};

    const HDR: u32 = HDR_LEN as u32;

    /// A buffer of upstream's size whose header says `len` bytes follow,
    /// with type `ty` and op `op`.
    fn buf(len: u32, ty: u16, op: u16) -> Result<InBuf> {
        let mut b = InBuf::alloc(b::VRS_VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE)?;
        b.set_hdr(&Hdr {
            src_cid: 2,
            dst_cid: 3,
            src_port: 1234,
            dst_port: 5678,
            len,
            ty,
            op,
            flags: 0,
            buf_alloc: 262_144,
            fwd_cnt: 0,
        });
        Ok(b)
    }

    fn rw(len: u32) -> Result<InBuf> {
        buf(len, SockType::Stream as u16, Op::Rw as u16)
    }

    #[test]
    fn upstream_sized_buffers() -> Result {
        // SKB_WITH_OVERHEAD(4096): the whole buffer is posted.
        let b = InBuf::alloc(b::VRS_VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE)?;
        assert_eq!(b.len(), b::VRS_VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
        // And with the largest `rx_buf_size`.
        let b = InBuf::alloc(65536 - b::VRS_SKB_SHINFO_OVERHEAD)?;
        assert_eq!(b.len(), 65536 - b::VRS_SKB_SHINFO_OVERHEAD);
        // No buffer without room for a header and a byte.
        assert!(InBuf::alloc(HDR).is_err());
        Ok(())
    }

    #[test]
    fn well_formed_packet() -> Result {
        let skb = rx_packet(rw(100)?, HDR + 100).ok_or(EINVAL)?;
        assert_eq!(skb.len(), 100);
        assert_eq!(skb.hdr_len(), 100);
        Ok(())
    }

    #[test]
    fn header_only_packet() -> Result {
        let skb =
            rx_packet(buf(0, SockType::Stream as u16, Op::Request as u16)?, HDR).ok_or(EINVAL)?;
        assert_eq!(skb.len(), 0);
        Ok(())
    }

    #[test]
    fn shorter_than_a_header_is_dropped() -> Result {
        // Upstream: "Drop short/long packets" (len < sizeof(*hdr)).
        assert!(rx_packet(rw(0)?, 0).is_none());
        assert!(rx_packet(rw(0)?, HDR - 1).is_none());
        Ok(())
    }

    #[test]
    fn used_length_beyond_the_buffer_is_dropped() -> Result {
        // Upstream drops len > virtio_vsock_skb_len(skb).
        let b = rw(0)?;
        let over = b.len() + 1;
        assert!(rx_packet(b, over).is_none());
        assert!(rx_packet(rw(0)?, u32::MAX).is_none());
        Ok(())
    }

    #[test]
    fn header_length_beyond_what_was_written_is_dropped() -> Result {
        // CVE-2025-39718: hdr.len is trusted only up to the used length.
        assert!(rx_packet(rw(101)?, HDR + 100).is_none());
        assert!(rx_packet(rw(u32::MAX)?, HDR + 100).is_none());
        let b = rw(4096)?;
        let all = b.len();
        // Larger than the buffer, even with the whole buffer used.
        assert!(rx_packet(b, all).is_none());
        Ok(())
    }

    #[test]
    fn header_length_below_what_was_written_is_kept() -> Result {
        // As upstream: extra bytes the device wrote are ignored.
        let skb = rx_packet(rw(10)?, HDR + 100).ok_or(EINVAL)?;
        assert_eq!(skb.len(), 10);
        Ok(())
    }

    #[test]
    fn unknown_types_and_ops_pass_the_length_checks() -> Result {
        // As upstream, the driver checks lengths only and hands unknown
        // types and ops to the common module, which answers an unknown
        // type with a reset and drops an unknown op (its own rules).
        for (ty, op) in [(0xffff, Op::Rw as u16), (SockType::Stream as u16, 0xffff)] {
            let skb = rx_packet(buf(0, ty, op)?, HDR).ok_or(EINVAL)?;
            assert_eq!((skb.hdr().ty, skb.hdr().op), (ty, op));
        }
        Ok(())
    }
}
