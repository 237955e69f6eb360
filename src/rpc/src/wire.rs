//! Wire format of server-to-server connections (version 1). All integers little endian.
//!
//! A connection opens with a 14-byte preamble, written by the connecting side:
//!
//! ```text
//! "BLST" | version u8 (=1) | lane u8 | sender NodeId u64
//! lane: 1 Priority, 2 Data (Raft messages, one-way), 3 Snapshot, 4 Rpc (calls),
//!       5 Http (a client agent forwards its HTTP API: plain HTTP/1.1 follows the preamble)
//! ```
//!
//! A wrong magic, version or lane closes the connection at once. Then frames follow:
//!
//! ```text
//! body_len u32 | crc32c(body) u32 | body (body_len bytes, body_len <= max_frame_bytes)
//! ```
//!
//! The first body byte is its kind:
//!
//! ```text
//! 1 Raft          | msg_len u32 | rkyv(Message) with Append entries emptied | entry frames
//! 2 SnapshotBegin | total_len u64 | rkyv(Message), an InstallSnapshot
//! 3 SnapshotChunk | offset u64 | data
//! 4 SnapshotAck   | status u8 (0 ok, 1 refused) | reason (utf-8)     (receiver -> sender)
//! 5 CallRequest   | id u64 | request bytes
//! 6 CallResponse  | id u64 | status u8 (0 ok, 1 overloaded, 2 error) | response bytes
//! ```
//!
//! For Append, the entries travel as the leader's storage frames, byte for byte (they
//! carry their own CRC32C and are written to the follower's log as received); the
//! receiver verifies them with `ballast_storage::decode_entries` and fills `entries`.
//! The message archive is copied to an aligned buffer and validated (bytecheck) before
//! use. Raft lanes are one-way: replies come back on the peer's own outbound connection.
//! Snapshot lane: one SnapshotBegin, chunks at consecutive offsets, then the receiver
//! answers one SnapshotAck. Rpc lane: requests and responses matched by id, answered
//! in any order.
//!
//! Every decoder here returns an error on bad input; none panics, and none allocates
//! more than the bytes it was handed (lengths are checked before anything is sized).
use ballast_raft::{Message, MessageBody, NodeId};
use rkyv::rancor::BoxedError;
use rkyv::util::AlignedVec;

use crate::error::WireError;

pub const MAGIC: [u8; 4] = *b"BLST";
pub const VERSION: u8 = 1;
pub const PREAMBLE_LEN: usize = 14;
/// `body_len u32 | crc32c u32`.
pub const FRAME_HEADER_LEN: usize = 8;

const KIND_RAFT: u8 = 1;
const KIND_SNAPSHOT_BEGIN: u8 = 2;
const KIND_SNAPSHOT_CHUNK: u8 = 3;
const KIND_SNAPSHOT_ACK: u8 = 4;
const KIND_CALL_REQUEST: u8 = 5;
const KIND_CALL_RESPONSE: u8 = 6;

/// Lane byte of the preamble. `Rpc` carries calls; the others carry Raft traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireLane {
    Priority = 1,
    Data = 2,
    Snapshot = 3,
    Rpc = 4,
    /// After the preamble the connection speaks HTTP/1.1: a client agent forwarding its
    /// HTTP API to a server (Consul's clients forward their RPCs on the server port too).
    Http = 5,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preamble {
    pub lane: WireLane,
    pub sender: NodeId,
}

pub fn encode_preamble(lane: WireLane, sender: NodeId) -> [u8; PREAMBLE_LEN] {
    let mut out = [0u8; PREAMBLE_LEN];
    out[..4].copy_from_slice(&MAGIC);
    out[4] = VERSION;
    out[5] = lane as u8;
    out[6..].copy_from_slice(&sender.to_le_bytes());
    out
}

pub fn decode_preamble(bytes: &[u8]) -> Result<Preamble, WireError> {
    if bytes.len() < PREAMBLE_LEN {
        return Err(truncated("preamble", PREAMBLE_LEN, bytes.len()));
    }
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if magic != MAGIC {
        return Err(WireError::BadMagic(magic));
    }
    if bytes[4] != VERSION {
        return Err(WireError::UnsupportedVersion(bytes[4]));
    }
    let lane = match bytes[5] {
        1 => WireLane::Priority,
        2 => WireLane::Data,
        3 => WireLane::Snapshot,
        4 => WireLane::Rpc,
        5 => WireLane::Http,
        other => return Err(WireError::UnknownLane(other)),
    };
    Ok(Preamble {
        lane,
        sender: read_u64(&bytes[6..14]),
    })
}

/// Length of the whole frame at the start of `buf` (header + body), once its header is
/// there: `Ok(None)` until 8 bytes are available. Refuses bodies over `max_body`.
pub fn frame_len(buf: &[u8], max_body: usize) -> Result<Option<usize>, WireError> {
    if buf.len() < FRAME_HEADER_LEN {
        return Ok(None);
    }
    let body_len = read_u32(&buf[..4]) as usize;
    if body_len > max_body {
        return Err(WireError::FrameTooLarge {
            len: body_len as u64,
            max: max_body as u64,
        });
    }
    Ok(Some(FRAME_HEADER_LEN + body_len))
}

/// If a whole frame is at the start of `buf`, checks its CRC and returns its total
/// length (the body is `buf[FRAME_HEADER_LEN..len]`); `Ok(None)` if more bytes are needed.
pub fn split_frame(buf: &[u8], max_body: usize) -> Result<Option<usize>, WireError> {
    let Some(len) = frame_len(buf, max_body)? else {
        return Ok(None);
    };
    if buf.len() < len {
        return Ok(None);
    }
    let stored = read_u32(&buf[4..8]);
    let computed = crc32c::crc32c(&buf[FRAME_HEADER_LEN..len]);
    if stored != computed {
        return Err(WireError::CrcMismatch { stored, computed });
    }
    Ok(Some(len))
}

/// Starts a frame in `out`: reserves the header, writes the kind byte.
fn begin_frame(out: &mut Vec<u8>, kind: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    out.push(kind);
    start
}

/// Fills in the header of the frame that starts at `start` (body = everything after it).
fn finish_frame(out: &mut [u8], start: usize, max_body: usize) -> Result<(), WireError> {
    let body_len = out.len() - start - FRAME_HEADER_LEN;
    if body_len > max_body || body_len > u32::MAX as usize {
        return Err(WireError::FrameTooLarge {
            len: body_len as u64,
            max: max_body as u64,
        });
    }
    let crc = crc32c::crc32c(&out[start + FRAME_HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&(body_len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn archive(msg: &Message) -> Result<AlignedVec, WireError> {
    rkyv::to_bytes::<BoxedError>(msg).map_err(|e| WireError::InvalidMessage(e.to_string()))
}

/// Validates and deserializes a Message archive (copied first: rkyv needs alignment).
fn unarchive(bytes: &[u8]) -> Result<Message, WireError> {
    let mut aligned: AlignedVec<16> = AlignedVec::with_capacity(bytes.len());
    aligned.extend_from_slice(bytes);
    rkyv::from_bytes::<Message, BoxedError>(&aligned)
        .map_err(|e| WireError::InvalidMessage(e.to_string()))
}

/// A whole Raft frame for `msg`. For Append, `frames` are the storage frames of its
/// entries and `msg`'s own entries must already be empty.
pub fn encode_raft(msg: &Message, frames: &[u8], max_body: usize) -> Result<Vec<u8>, WireError> {
    if let MessageBody::Append { entries, .. } = &msg.body {
        if !entries.is_empty() {
            return Err(WireError::Protocol(
                "Append entries must travel as frames, not in the message".into(),
            ));
        }
    } else if !frames.is_empty() {
        return Err(WireError::Protocol(format!(
            "entry frames given with a {} message",
            msg.body.kind()
        )));
    }
    let archived = archive(msg)?;
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + 5 + archived.len() + frames.len());
    let start = begin_frame(&mut out, KIND_RAFT);
    out.extend_from_slice(&(archived.len() as u32).to_le_bytes());
    out.extend_from_slice(&archived);
    out.extend_from_slice(frames);
    finish_frame(&mut out, start, max_body)?;
    Ok(out)
}

/// Decodes a Raft frame body. For Append, returns the verified frames (entries filled
/// from them); `None` when the Append carries no entries.
pub fn decode_raft(body: &[u8]) -> Result<(Message, Option<Vec<u8>>), WireError> {
    let rest = expect_kind(body, KIND_RAFT, "Raft")?;
    if rest.len() < 4 {
        return Err(truncated("Raft message length", 4, rest.len()));
    }
    let msg_len = read_u32(&rest[..4]) as usize;
    let rest = &rest[4..];
    if msg_len > rest.len() {
        return Err(truncated("Raft message", msg_len, rest.len()));
    }
    let (archived, frames) = rest.split_at(msg_len);
    let mut msg = unarchive(archived)?;
    match &mut msg.body {
        MessageBody::Append { entries, .. } => {
            if !entries.is_empty() {
                return Err(WireError::Protocol(
                    "Append carries entries outside frames".into(),
                ));
            }
            if frames.is_empty() {
                return Ok((msg, None));
            }
            *entries = ballast_storage::decode_entries(frames)
                .map_err(|e| WireError::InvalidFrames(e.to_string()))?;
            Ok((msg, Some(frames.to_vec())))
        }
        MessageBody::InstallSnapshot { .. } => Err(WireError::Protocol(
            "InstallSnapshot must travel on the snapshot lane".into(),
        )),
        other => {
            if frames.is_empty() {
                Ok((msg, None))
            } else {
                Err(WireError::Protocol(format!(
                    "{} message followed by {} stray bytes",
                    other.kind(),
                    frames.len()
                )))
            }
        }
    }
}

pub fn encode_snapshot_begin(
    msg: &Message,
    total_len: u64,
    max_body: usize,
) -> Result<Vec<u8>, WireError> {
    let archived = archive(msg)?;
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + 9 + archived.len());
    let start = begin_frame(&mut out, KIND_SNAPSHOT_BEGIN);
    out.extend_from_slice(&total_len.to_le_bytes());
    out.extend_from_slice(&archived);
    finish_frame(&mut out, start, max_body)?;
    Ok(out)
}

pub fn encode_snapshot_chunk(
    offset: u64,
    data: &[u8],
    max_body: usize,
) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + 9 + data.len());
    let start = begin_frame(&mut out, KIND_SNAPSHOT_CHUNK);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(data);
    finish_frame(&mut out, start, max_body)?;
    Ok(out)
}

/// What travels on the Snapshot lane from sender to receiver.
#[derive(Debug, PartialEq, Eq)]
pub enum SnapshotPart<'a> {
    Begin { msg: Message, total_len: u64 },
    Chunk { offset: u64, data: &'a [u8] },
}

pub fn decode_snapshot_part(body: &[u8]) -> Result<SnapshotPart<'_>, WireError> {
    let kind = *body.first().ok_or_else(|| truncated("frame kind", 1, 0))?;
    let rest = &body[1..];
    if rest.len() < 8 {
        return Err(truncated("snapshot length/offset", 8, rest.len()));
    }
    let value = read_u64(&rest[..8]);
    match kind {
        KIND_SNAPSHOT_BEGIN => {
            let msg = unarchive(&rest[8..])?;
            if !matches!(msg.body, MessageBody::InstallSnapshot { .. }) {
                return Err(WireError::Protocol(format!(
                    "snapshot lane begins with a {} message",
                    msg.body.kind()
                )));
            }
            Ok(SnapshotPart::Begin {
                msg,
                total_len: value,
            })
        }
        KIND_SNAPSHOT_CHUNK => Ok(SnapshotPart::Chunk {
            offset: value,
            data: &rest[8..],
        }),
        other => Err(WireError::UnknownKind {
            kind: other,
            expected: "SnapshotBegin or SnapshotChunk",
        }),
    }
}

/// The receiver's answer to a whole snapshot: `Ok` or the reason it was refused.
pub fn encode_snapshot_ack(result: Result<(), &str>, max_body: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let start = begin_frame(&mut out, KIND_SNAPSHOT_ACK);
    match result {
        Ok(()) => out.push(0),
        Err(reason) => {
            out.push(1);
            // A reason is informative only: cut it rather than fail.
            out.extend_from_slice(&reason.as_bytes()[..reason.len().min(1024)]);
        }
    }
    // Cannot exceed any sane limit: 10 + 1024 bytes.
    let _ = finish_frame(&mut out, start, max_body.max(2048));
    out
}

pub fn decode_snapshot_ack(body: &[u8]) -> Result<Result<(), String>, WireError> {
    let rest = expect_kind(body, KIND_SNAPSHOT_ACK, "SnapshotAck")?;
    match rest.first() {
        Some(0) => Ok(Ok(())),
        Some(1) => Ok(Err(String::from_utf8_lossy(&rest[1..]).into_owned())),
        Some(other) => Err(WireError::Protocol(format!(
            "unknown snapshot ack status {other}"
        ))),
        None => Err(truncated("snapshot ack status", 1, 0)),
    }
}

pub fn encode_call_request(id: u64, request: &[u8], max_body: usize) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + 9 + request.len());
    let start = begin_frame(&mut out, KIND_CALL_REQUEST);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(request);
    finish_frame(&mut out, start, max_body)?;
    Ok(out)
}

pub fn decode_call_request(body: &[u8]) -> Result<(u64, &[u8]), WireError> {
    let rest = expect_kind(body, KIND_CALL_REQUEST, "CallRequest")?;
    if rest.len() < 8 {
        return Err(truncated("call id", 8, rest.len()));
    }
    Ok((read_u64(&rest[..8]), &rest[8..]))
}

/// Status of a call response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    Ok = 0,
    /// The server has too many calls running on this connection; payload is a reason.
    Overloaded = 1,
    /// The server could not answer (e.g. its response was too large); payload is a reason.
    Error = 2,
}

pub fn encode_call_response(
    id: u64,
    status: CallStatus,
    payload: &[u8],
    max_body: usize,
) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + 10 + payload.len());
    let start = begin_frame(&mut out, KIND_CALL_RESPONSE);
    out.extend_from_slice(&id.to_le_bytes());
    out.push(status as u8);
    out.extend_from_slice(payload);
    finish_frame(&mut out, start, max_body)?;
    Ok(out)
}

pub fn decode_call_response(body: &[u8]) -> Result<(u64, CallStatus, &[u8]), WireError> {
    let rest = expect_kind(body, KIND_CALL_RESPONSE, "CallResponse")?;
    if rest.len() < 9 {
        return Err(truncated("call response header", 9, rest.len()));
    }
    let status = match rest[8] {
        0 => CallStatus::Ok,
        1 => CallStatus::Overloaded,
        2 => CallStatus::Error,
        other => return Err(WireError::Protocol(format!("unknown call status {other}"))),
    };
    Ok((read_u64(&rest[..8]), status, &rest[9..]))
}

fn expect_kind<'a>(
    body: &'a [u8],
    kind: u8,
    expected: &'static str,
) -> Result<&'a [u8], WireError> {
    match body.first() {
        None => Err(truncated("frame kind", 1, 0)),
        Some(&k) if k == kind => Ok(&body[1..]),
        Some(&k) => Err(WireError::UnknownKind { kind: k, expected }),
    }
}

fn truncated(what: &'static str, need: usize, have: usize) -> WireError {
    WireError::Truncated { what, need, have }
}

/// Callers pass exactly 4 bytes.
fn read_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

/// Callers pass exactly 8 bytes.
fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}
