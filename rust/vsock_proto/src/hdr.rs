// SPDX-License-Identifier: GPL-2.0

//! The 44-byte little-endian `struct virtio_vsock_hdr` and its constants.

/// Size of `struct virtio_vsock_hdr` on the wire.
pub const HDR_LEN: usize = 44;

/// Largest payload of one packet (`VIRTIO_VSOCK_MAX_PKT_BUF_SIZE`).
pub const MAX_PKT_BUF_SIZE: u32 = 64 * 1024;

/// Largest socket buffer size (`VIRTIO_VSOCK_MAX_BUF_SIZE`).
pub const MAX_BUF_SIZE: u64 = 0xffff_ffff;

/// Default socket buffer size (`VSOCK_DEFAULT_BUFFER_SIZE`).
pub const DEFAULT_BUF_SIZE: u32 = 256 * 1024;

/// Packet operations (`enum virtio_vsock_op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Op {
    /// Never valid on the wire; ignored while connecting.
    Invalid = 0,
    /// Connection request.
    Request = 1,
    /// Connection accepted.
    Response = 2,
    /// Connection reset.
    Rst = 3,
    /// Half or full shutdown, direction in the flags.
    Shutdown = 4,
    /// Payload.
    Rw = 5,
    /// Unsolicited credit information.
    CreditUpdate = 6,
    /// Ask the peer for its credit information.
    CreditRequest = 7,
}

impl Op {
    /// Decodes a raw `op` field; `None` for values the protocol does not define.
    pub const fn from_raw(v: u16) -> Option<Op> {
        Some(match v {
            0 => Op::Invalid,
            1 => Op::Request,
            2 => Op::Response,
            3 => Op::Rst,
            4 => Op::Shutdown,
            5 => Op::Rw,
            6 => Op::CreditUpdate,
            7 => Op::CreditRequest,
            _ => return None,
        })
    }
}

/// Socket types (`enum virtio_vsock_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum SockType {
    /// `SOCK_STREAM`.
    Stream = 1,
    /// `SOCK_SEQPACKET` (needs `VIRTIO_VSOCK_F_SEQPACKET`).
    Seqpacket = 2,
}

impl SockType {
    /// Decodes a raw `type` field; `None` for anything but stream and seqpacket.
    pub const fn from_raw(v: u16) -> Option<SockType> {
        match v {
            1 => Some(SockType::Stream),
            2 => Some(SockType::Seqpacket),
            _ => None,
        }
    }
}

/// `VIRTIO_VSOCK_SHUTDOWN_RCV`: the sender will receive no more data.
pub const SHUTDOWN_RCV: u32 = 1;
/// `VIRTIO_VSOCK_SHUTDOWN_SEND`: the sender will send no more data.
pub const SHUTDOWN_SEND: u32 = 2;
/// Both shutdown directions.
pub const SHUTDOWN_MASK: u32 = SHUTDOWN_RCV | SHUTDOWN_SEND;

/// `VIRTIO_VSOCK_SEQ_EOM`: last packet of a SEQPACKET message.
pub const SEQ_EOM: u32 = 1;
/// `VIRTIO_VSOCK_SEQ_EOR`: the message ends a record (`MSG_EOR`).
pub const SEQ_EOR: u32 = 2;

/// Error decoding or encoding a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HdrError {
    /// The buffer is shorter than [`HDR_LEN`].
    Short,
}

/// A decoded `struct virtio_vsock_hdr`, fields in host byte order.
///
/// `ty` and `op` stay raw so that a header with an unknown value can still be
/// answered (with a reset) as upstream does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hdr {
    /// Source context id.
    pub src_cid: u64,
    /// Destination context id.
    pub dst_cid: u64,
    /// Source port.
    pub src_port: u32,
    /// Destination port.
    pub dst_port: u32,
    /// Payload length.
    pub len: u32,
    /// Raw socket type, see [`SockType`].
    pub ty: u16,
    /// Raw operation, see [`Op`].
    pub op: u16,
    /// Shutdown flags for [`Op::Shutdown`], EOM/EOR for [`Op::Rw`].
    pub flags: u32,
    /// Sender's receive buffer size.
    pub buf_alloc: u32,
    /// Bytes the sender has consumed from its receive buffer (wrapping).
    pub fwd_cnt: u32,
}

fn le16(b: &[u8; HDR_LEN], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8; HDR_LEN], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8; HDR_LEN], at: usize) -> u64 {
    u64::from(le32(b, at)) | (u64::from(le32(b, at + 4)) << 32)
}

impl Hdr {
    /// Decodes the header at the start of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Hdr, HdrError> {
        let b: &[u8; HDR_LEN] = buf
            .get(..HDR_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(HdrError::Short)?;
        Ok(Hdr {
            src_cid: le64(b, 0),
            dst_cid: le64(b, 8),
            src_port: le32(b, 16),
            dst_port: le32(b, 20),
            len: le32(b, 24),
            ty: le16(b, 28),
            op: le16(b, 30),
            flags: le32(b, 32),
            buf_alloc: le32(b, 36),
            fwd_cnt: le32(b, 40),
        })
    }

    /// Encodes the header in wire format.
    pub fn encode(&self) -> [u8; HDR_LEN] {
        let mut b = [0u8; HDR_LEN];
        b[0..8].copy_from_slice(&self.src_cid.to_le_bytes());
        b[8..16].copy_from_slice(&self.dst_cid.to_le_bytes());
        b[16..20].copy_from_slice(&self.src_port.to_le_bytes());
        b[20..24].copy_from_slice(&self.dst_port.to_le_bytes());
        b[24..28].copy_from_slice(&self.len.to_le_bytes());
        b[28..30].copy_from_slice(&self.ty.to_le_bytes());
        b[30..32].copy_from_slice(&self.op.to_le_bytes());
        b[32..36].copy_from_slice(&self.flags.to_le_bytes());
        b[36..40].copy_from_slice(&self.buf_alloc.to_le_bytes());
        b[40..44].copy_from_slice(&self.fwd_cnt.to_le_bytes());
        b
    }

    /// Encodes the header into the start of `out`.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<(), HdrError> {
        out.get_mut(..HDR_LEN)
            .ok_or(HdrError::Short)?
            .copy_from_slice(&self.encode());
        Ok(())
    }

    /// The operation, if defined.
    pub fn op(&self) -> Option<Op> {
        Op::from_raw(self.op)
    }

    /// The socket type, if defined.
    pub fn sock_type(&self) -> Option<SockType> {
        SockType::from_raw(self.ty)
    }

    /// The header of the reset that answers `self`: addresses swapped, no
    /// payload, same type (`virtio_transport_reset_no_sock()`).
    ///
    /// `None` when `self` is itself a reset: a reset is never answered.
    pub fn reset_reply(&self) -> Option<Hdr> {
        if self.op == Op::Rst as u16 {
            return None;
        }
        Some(Hdr {
            src_cid: self.dst_cid,
            dst_cid: self.src_cid,
            src_port: self.dst_port,
            dst_port: self.src_port,
            len: 0,
            ty: self.ty,
            op: Op::Rst as u16,
            flags: 0,
            buf_alloc: 0,
            fwd_cnt: 0,
        })
    }
}

/// Length of `struct af_vsockmon_hdr` (`include/uapi/linux/vsockmon.h`).
pub const MON_HDR_LEN: usize = 32;
/// `AF_VSOCK_TRANSPORT_VIRTIO`.
pub const MON_TRANSPORT_VIRTIO: u16 = 2;

impl Hdr {
    /// The vsockmon header (`struct af_vsockmon_hdr`) describing this
    /// packet to taps: addresses, the packet class and the length of the
    /// virtio header that follows it.
    pub fn vsockmon_hdr(&self) -> [u8; MON_HDR_LEN] {
        // enum af_vsockmon_op
        let op: u16 = match self.op() {
            Some(Op::Request | Op::Response) => 1,
            Some(Op::Rst | Op::Shutdown) => 2,
            Some(Op::CreditUpdate | Op::CreditRequest) => 3,
            Some(Op::Rw) => 4,
            _ => 0,
        };
        let mut b = [0u8; MON_HDR_LEN];
        b[0..8].copy_from_slice(&self.src_cid.to_le_bytes());
        b[8..16].copy_from_slice(&self.dst_cid.to_le_bytes());
        b[16..20].copy_from_slice(&self.src_port.to_le_bytes());
        b[20..24].copy_from_slice(&self.dst_port.to_le_bytes());
        b[24..26].copy_from_slice(&op.to_le_bytes());
        b[26..28].copy_from_slice(&MON_TRANSPORT_VIRTIO.to_le_bytes());
        b[28..30].copy_from_slice(&(HDR_LEN as u16).to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsockmon_header() {
        let m = SAMPLE.vsockmon_hdr();
        assert_eq!(&m[0..8], &SAMPLE.src_cid.to_le_bytes());
        assert_eq!(&m[8..16], &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&m[24..32], &[4, 0, 2, 0, 44, 0, 0, 0]);
        let rst = SAMPLE.reset_reply().map(|h| h.vsockmon_hdr()[24]);
        assert_eq!(rst, Some(2));
    }

    const SAMPLE: Hdr = Hdr {
        src_cid: 0x0102_0304_0506_0708,
        dst_cid: 2,
        src_port: 1024,
        dst_port: 0xdead_beef,
        len: 4096,
        ty: SockType::Seqpacket as u16,
        op: Op::Rw as u16,
        flags: SEQ_EOM | SEQ_EOR,
        buf_alloc: 262_144,
        fwd_cnt: 0xffff_fff0,
    };

    #[test]
    fn wire_layout_is_little_endian_packed() {
        let b = SAMPLE.encode();
        assert_eq!(&b[0..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&b[16..20], &[0, 4, 0, 0]);
        assert_eq!(&b[20..24], &[0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(&b[28..32], &[2, 0, 5, 0]);
        assert_eq!(&b[40..44], &[0xf0, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn round_trip() {
        assert_eq!(Hdr::decode(&SAMPLE.encode()), Ok(SAMPLE));
    }

    #[test]
    fn short_buffers_are_rejected() {
        assert_eq!(Hdr::decode(&[0u8; HDR_LEN - 1]), Err(HdrError::Short));
        assert_eq!(Hdr::decode(&[]), Err(HdrError::Short));
        let mut out = [0u8; 10];
        assert_eq!(SAMPLE.encode_into(&mut out), Err(HdrError::Short));
    }

    #[test]
    fn unknown_ops_and_types() {
        assert_eq!(Op::from_raw(8), None);
        assert_eq!(Op::from_raw(7), Some(Op::CreditRequest));
        assert_eq!(SockType::from_raw(0), None);
        assert_eq!(SockType::from_raw(3), None); // SOCK_DGRAM is not virtio
    }

    #[test]
    fn reset_reply_swaps_addresses_and_never_answers_rst() {
        let r = SAMPLE.reset_reply().expect("RW is answered");
        assert_eq!((r.src_cid, r.src_port), (SAMPLE.dst_cid, SAMPLE.dst_port));
        assert_eq!((r.dst_cid, r.dst_port), (SAMPLE.src_cid, SAMPLE.src_port));
        assert_eq!((r.op, r.len, r.ty), (Op::Rst as u16, 0, SAMPLE.ty));
        assert_eq!(r.reset_reply(), None);
    }
}
