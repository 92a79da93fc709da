// SPDX-License-Identifier: GPL-2.0

//! The common virtio-vsock transport code: per-socket state and the
//! `vsock_transport` callbacks shared by every vsock-rust transport.
//!
//! Follows `net/vmw_vsock/virtio_transport_common.c` of Linux 7.2; each
//! function names its upstream counterpart.  Locking:
//!
//! - the socket lock (`lock_sock`) serialises the callbacks of a socket,
//!   as in upstream;
//! - [`VvSock::credit`] (a spinlock) holds the credit counters, for short
//!   sections only;
//! - [`VvSock::rx`] (a mutex) holds the receive queue and stays held while
//!   data is copied to the reader; it nests inside the socket lock and
//!   outside `credit`.

mod credit_cell;
mod recv;
mod rx;
#[cfg(CONFIG_KUNIT)]
mod tests;
mod tx;

use crate::vsock::bindings as b;
use crate::vsock::lock::FastMutex;
use crate::vsock::msg::MsgHdr;
use crate::vsock::net::Net;
use crate::vsock::proto::credit::Credit;
use crate::vsock::proto::hdr::{Hdr, Op, SockType, MAX_BUF_SIZE, SHUTDOWN_RCV, SHUTDOWN_SEND};
use crate::vsock::proto::steer::{Flow, FlowTable};
use crate::vsock::skb::{Skb, SkbBox, SkbList, SkbListMut, SkbQueue};
use crate::vsock::sock::{
    current_exiting, CloseWork, CloseWorkRunning, DestructSock, LockedSock, State, VsockSock,
};
use crate::vsock::tap;
use crate::vsock::transport::{CommonOps, Origin, ReadActor, VirtioTransport};
use core::sync::atomic::{AtomicU32, Ordering};
use credit_cell::CreditCell;
use kernel::prelude::*;

pub(crate) use tx::PktInfo;

/// How long a closing socket waits for the peer's reset (`VSOCK_CLOSE_TIMEOUT`).
const CLOSE_TIMEOUT_SECS: u64 = 8;

/// The receive side of a socket, under [`VvSock::rx`].
pub(crate) struct Rx {
    /// Received packets, in order.
    pub(crate) queue: SkbList,
}

/// Per-socket state (`struct virtio_vsock_sock`), kept in `vsk->trans`.
#[pin_data]
pub(crate) struct VvSock {
    /// Credit counters of both directions.
    #[pin]
    pub(crate) credit: CreditCell,
    /// Receive queue.
    #[pin]
    pub(crate) rx: FastMutex<Rx>,
    /// Complete SEQPACKET messages queued.  Changed with `rx` held; read
    /// without it, from `seqpacket_has_data`, which the core calls while
    /// preparing to wait (it must not sleep).
    msg_count: AtomicU32,
}

impl VvSock {
    /// Fresh state with our receive buffer `buf_alloc` and the peer's
    /// (inherited from the listener) `peer_buf_alloc`.
    pub(crate) fn new(buf_alloc: u32, peer_buf_alloc: u32) -> Result<impl PinInit<Self, Error>> {
        let mut credit = Credit::new(buf_alloc);
        credit.peer_buf_alloc = peer_buf_alloc;
        let queue = SkbList::new()?;
        Ok(try_pin_init!(VvSock {
            credit <- CreditCell::new(credit),
            rx <- FastMutex::new(
                Rx { queue },
                kernel::c_str!("vsock_rs_rx"),
                kernel::static_lock_class!()
            ),
            msg_count: AtomicU32::new(0),
        }? Error))
    }

    /// Complete SEQPACKET messages queued.
    pub(crate) fn msg_count(&self) -> u32 {
        self.msg_count.load(Ordering::Relaxed)
    }

    /// A message was completed (call with `rx` held).
    pub(crate) fn msg_added(&self) {
        self.msg_count.fetch_add(1, Ordering::Relaxed);
    }

    /// A message was taken (call with `rx` held).
    pub(crate) fn msg_taken(&self) {
        let n = self.msg_count.load(Ordering::Relaxed);
        self.msg_count.store(n.saturating_sub(1), Ordering::Relaxed);
    }
}

/// The virtio socket type of a socket (`virtio_transport_get_type`).
fn sock_type(vsk: &VsockSock) -> SockType {
    if vsk.is_stream() {
        SockType::Stream
    } else {
        SockType::Seqpacket
    }
}

/// The common module's implementation of the socket callbacks.
pub(crate) struct Common;

impl Common {
    fn vvs(vsk: &VsockSock) -> Result<&VvSock> {
        vsk.trans::<VvSock>()
            .ok_or_else(|| Error::from_errno(-crate::vsock::proto::rules::ENOTCONN))
    }

    /// `virtio_transport_send_credit_update`.
    fn send_credit_update(vsk: &VsockSock) -> Result<u32> {
        tx::send_pkt_info(vsk, PktInfo::new(Op::CreditUpdate))
    }

    /// `virtio_transport_reset`: reset the connection, unless answering
    /// a reset.
    fn reset(vsk: &VsockSock, answering: Option<&Hdr>) -> Result<u32> {
        if let Some(h) = answering {
            if h.op == Op::Rst as u16 {
                return Ok(0);
            }
        }
        let mut info = PktInfo::new(Op::Rst);
        info.reply = answering.is_some();
        tx::send_pkt_info(vsk, info)
    }

    /// `virtio_transport_remove_sock`: called with the socket locked and
    /// `SOCK_DONE` set.
    fn remove_sock(vsk: &LockedSock) {
        if let Some(vvs) = vsk.trans::<VvSock>() {
            vvs.rx.lock().queue.purge();
        }
        vsk.remove_sock();
    }

    /// `virtio_transport_cancel_close_work`.
    fn cancel_close_work(vsk: &LockedSock, cancel: CloseCancel<'_, '_>) {
        match cancel {
            CloseCancel::Timeout => {
                vsk.cancel_close_work(|| Self::remove_sock(vsk));
            }
            CloseCancel::Running(work) => work.finish(|| Self::remove_sock(vsk)),
        }
    }

    /// `virtio_transport_do_close`.
    fn do_close(vsk: &LockedSock, cancel: CloseCancel<'_, '_>) {
        vsk.set_done();
        vsk.set_peer_shutdown(b::VRS_SHUTDOWN_MASK);
        if vsk.stream_has_data() <= 0 {
            vsk.set_state(State::Closing);
        }
        vsk.state_change();
        Self::cancel_close_work(vsk, cancel);
    }

    /// `virtio_transport_close`: returns whether the socket can be removed
    /// now (otherwise the close timeout does it).
    fn close(vsk: &LockedSock) -> bool {
        if !matches!(vsk.state(), State::Established | State::Closing) {
            return true;
        }
        // Already received SHUTDOWN from the peer: reply with RST.
        if vsk.peer_shutdown() & b::VRS_SHUTDOWN_MASK == b::VRS_SHUTDOWN_MASK {
            let _ = Self::reset(vsk, None);
            return true;
        }
        if vsk.shutdown_flags() & b::VRS_SHUTDOWN_MASK != b::VRS_SHUTDOWN_MASK {
            let _ = Self::shutdown(vsk, b::VRS_SHUTDOWN_MASK as i32);
        }
        if !current_exiting() {
            vsk.linger();
        }
        if vsk.is_done() {
            return true;
        }
        vsk.schedule_close_work::<CloseTimeout>(CLOSE_TIMEOUT_SECS * b::VRS_HZ as u64);
        false
    }
}

/// How closing a connection deals with a pending close timeout
/// (upstream's `cancel_timeout` argument).
#[derive(Clone, Copy)]
pub(crate) enum CloseCancel<'a, 'b> {
    /// Cancel the timeout if it has not started.
    Timeout,
    /// From the timeout itself.
    Running(&'a CloseWorkRunning<'b>),
}

/// The close timeout (`virtio_transport_close_timeout`).
struct CloseTimeout;

impl CloseWork for CloseTimeout {
    fn run(vsk: &LockedSock, running: &CloseWorkRunning<'_>) {
        if !vsk.is_done() {
            let _ = Common::reset(vsk, None);
            Common::do_close(vsk, CloseCancel::Running(running));
        }
    }
}

impl CommonOps for Common {
    type Trans = VvSock;

    fn socket_init(vsk: &LockedSock, psk: Option<&VsockSock>) -> Result {
        let peer_buf_alloc = psk
            .and_then(|p| p.trans::<VvSock>())
            .map_or(0, |p| p.credit.lock().peer_buf_alloc);
        if vsk.buffer_size() > MAX_BUF_SIZE {
            vsk.set_buffer_size(MAX_BUF_SIZE);
        }
        // Clamped to MAX_BUF_SIZE (u32::MAX) just above.
        let buf_alloc = u32::try_from(vsk.buffer_size()).unwrap_or(u32::MAX);
        vsk.set_trans(VvSock::new(buf_alloc, peer_buf_alloc)?)
    }

    fn destruct(vsk: &DestructSock) {
        vsk.cancel_close_work(Self::remove_sock);
    }

    fn release(vsk: &LockedSock) {
        let remove = if vsk.is_connectible() {
            Self::close(vsk)
        } else {
            true
        };
        if remove {
            vsk.set_done();
            Self::remove_sock(vsk);
        }
    }

    fn connect(vsk: &LockedSock) -> Result<u32> {
        tx::send_pkt_info(vsk, PktInfo::new(Op::Request))
    }

    fn shutdown(vsk: &LockedSock, mode: i32) -> Result<u32> {
        let mode = mode as u32;
        let mut info = PktInfo::new(Op::Shutdown);
        if mode & b::VRS_RCV_SHUTDOWN != 0 {
            info.flags |= SHUTDOWN_RCV;
        }
        if mode & b::VRS_SEND_SHUTDOWN != 0 {
            info.flags |= SHUTDOWN_SEND;
        }
        tx::send_pkt_info(vsk, info)
    }

    fn stream_dequeue(vsk: &LockedSock, msg: &mut MsgHdr, len: usize, flags: i32) -> Result<usize> {
        let vvs = Self::vvs(vsk)?;
        if flags & b::VRS_MSG_PEEK != 0 {
            rx::stream_peek(vvs, msg, len)
        } else {
            record_reader_cpu(vsk);
            rx::stream_dequeue(vsk, vvs, msg, len)
        }
    }

    fn stream_enqueue(vsk: &LockedSock, msg: &mut MsgHdr, len: usize) -> Result<usize> {
        let mut info = PktInfo::new(Op::Rw);
        // Larger writes are sent in several calls by the AF_VSOCK core.
        info.pkt_len = u32::try_from(len).unwrap_or(u32::MAX);
        info.msg = Some(msg);
        tx::send_pkt_info(vsk, info).map(|n| n as usize)
    }

    fn stream_has_data(vsk: &VsockSock) -> i64 {
        vsk.trans::<VvSock>()
            .map_or(0, |v| i64::from(v.credit.rx_bytes()))
    }

    fn stream_has_space(vsk: &VsockSock) -> i64 {
        vsk.trans::<VvSock>()
            .map_or(0, |v| i64::from(v.credit.lock().has_space()))
    }

    fn seqpacket_dequeue(vsk: &LockedSock, msg: &mut MsgHdr, flags: i32) -> Result<usize> {
        let vvs = Self::vvs(vsk)?;
        if flags & b::VRS_MSG_PEEK != 0 {
            rx::seqpacket_peek(vvs, msg)
        } else {
            record_reader_cpu(vsk);
            rx::seqpacket_dequeue(vsk, vvs, msg)
        }
    }

    fn seqpacket_enqueue(vsk: &LockedSock, msg: &mut MsgHdr, len: usize) -> Result<usize> {
        let vvs = Self::vvs(vsk)?;
        if len > vvs.credit.lock().tx_buf_size() as usize {
            return Err(EMSGSIZE);
        }
        Self::stream_enqueue(vsk, msg, len)
    }

    fn seqpacket_has_data(vsk: &VsockSock) -> u32 {
        vsk.trans::<VvSock>().map_or(0, |v| v.msg_count())
    }

    fn notify_buffer_size(vsk: &LockedSock, val: u64) -> u64 {
        let Some(vvs) = vsk.trans::<VvSock>() else {
            return val.min(MAX_BUF_SIZE);
        };
        let val = vvs.credit.lock().set_buf_alloc(val);
        let _ = Self::send_credit_update(vsk);
        val
    }

    fn notify_set_rcvlowat(vsk: &LockedSock, val: i32) -> Result {
        let vvs = Self::vvs(vsk)?;
        // If fewer bytes are queued than the new SO_RCVLOWAT, kick the
        // sender, which may be waiting for space; unless the peer already
        // knows our counters.
        let send_update = {
            let c = vvs.credit.lock();
            i64::from(c.rx_bytes) < i64::from(val) && c.fwd_cnt != c.last_fwd_cnt
        };
        if send_update {
            Self::send_credit_update(vsk)?;
        }
        Ok(())
    }

    fn unsent_bytes(vsk: &VsockSock) -> usize {
        vsk.trans::<VvSock>()
            .map_or(0, |v| v.credit.lock().bytes_unsent as usize)
    }

    fn read_skb(vsk: &VsockSock, actor: ReadActor) -> Result<i32> {
        let vvs = Self::vvs(vsk)?;
        let skb = {
            let mut rx = vvs.rx.lock();
            // `__skb_recv_datagram`: a pending socket error is reported,
            // and cleared, before the queue is looked at.
            let err = vsk.take_error();
            if err != 0 {
                return Err(Error::from_errno(err));
            }
            let skb = rx.queue.pop_front().ok_or(EAGAIN)?;
            let hdr = skb.hdr();
            if hdr.flags & crate::vsock::proto::hdr::SEQ_EOM != 0 {
                vvs.msg_taken();
            }
            let bytes_read = skb.len().wrapping_sub(skb.offset());
            vvs.credit.lock().rx_dequeue(bytes_read, hdr.len);
            skb
        };
        let _ = Self::send_credit_update(vsk);
        Ok(actor.call(vsk, skb))
    }

    fn recv_pkt(t: &VirtioTransport, skb: SkbBox, net: Option<&Net>) {
        recv::recv_pkt(t, skb, net);
    }

    fn recv_pkts(t: &VirtioTransport, pkts: SkbListMut<'_>, origin: Origin<'_>) {
        recv::recv_pkts(t, pkts, origin);
    }

    fn purge_skbs(vsk: *const core::ffi::c_void, queue: &SkbQueue) -> u32 {
        queue.purge_if(|skb| {
            skb.sk()
                .is_some_and(|s| s.as_ptr().cast_const().cast() == vsk)
        })
    }

    fn consume_skb_sent(skb: &mut Skb) {
        let len = skb.len();
        if len == 0 {
            return;
        }
        if let Some(vvs) = skb.sk().and_then(|s| s.trans::<VvSock>()) {
            vvs.credit.lock().sent(len);
        }
    }

    fn deliver_tap_pkt(skb: &mut Skb) {
        tap::deliver(skb);
    }

    fn inc_tx_pkt(vsk: &VsockSock, skb: &mut Skb) {
        if let Some(vvs) = vsk.trans::<VvSock>() {
            tx::stamp_credit(vvs, skb);
        }
    }

    fn steer_cpu(skb: &Skb) -> Option<u32> {
        let (src_port, dst_port) = skb.ports();
        STEER.lookup(&Flow { src_port, dst_port })
    }
}

/// Receive steering: the CPUs of the flows' readers (see `proto::steer`).
static STEER: FlowTable = FlowTable::new();

/// The reader of `vsk` reads here (`sock_rps_record_flow`): its flow's
/// packets are from its peer's port to its own.
fn record_reader_cpu(vsk: &VsockSock) {
    record_flow_cpu(
        vsk.local_addr().1,
        vsk.remote_addr().1,
        kernel::cpu::CpuId::current().as_u32(),
    );
}

/// The reader of port `local` (peer `remote`) reads on `cpu`.
fn record_flow_cpu(local: u32, remote: u32, cpu: u32) {
    let flow = Flow {
        src_port: remote,
        dst_port: local,
    };
    STEER.record(&flow, cpu);
}
