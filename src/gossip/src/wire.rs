//! ballast's own gossip wire format (ballast only talks to ballast).
//!
//! Packet = VERSION byte, then messages, each `[type u8][len varint][body]`,
//! so one datagram carries a probe plus piggybacked broadcasts up to the
//! packet budget. Integers are LEB128 varints. Every decoder checks lengths
//! against the bytes actually present before allocating, and returns an
//! error on anything malformed.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::types::DecodeError;

pub const VERSION: u8 = 1;
/// Longest node name, tag key/value, query name we accept.
pub const MAX_STR: usize = 512;
pub const MAX_TAGS: usize = 64;
/// Messages per datagram.
pub const MAX_MSGS: usize = 255;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alive {
    pub node: String,
    pub addr: SocketAddr,
    pub incarnation: u32,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accusation {
    pub node: String,
    pub incarnation: u32,
    pub from: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryMsg {
    pub id: u64,
    pub ltime: u64,
    pub origin: String,
    pub origin_addr: SocketAddr,
    pub timeout_ms: u64,
    pub name: String,
    pub payload: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    Ping { seq: u32, target: String },
    Ack { seq: u32, payload: Vec<u8> },
    Nack { seq: u32 },
    PingReq { seq: u32, target: String, target_addr: SocketAddr, nack: bool },
    Alive(Alive),
    Suspect(Accusation),
    /// `from == node` means the node left gracefully.
    Dead(Accusation),
    JoinIntent { node: String, ltime: u64 },
    LeaveIntent { node: String, ltime: u64, prune: bool },
    Query(QueryMsg),
    QueryResponse { id: u64, from: String, payload: Vec<u8> },
}

const T_PING: u8 = 1;
const T_ACK: u8 = 2;
const T_NACK: u8 = 3;
const T_PING_REQ: u8 = 4;
const T_ALIVE: u8 = 5;
const T_SUSPECT: u8 = 6;
const T_DEAD: u8 = 7;
const T_JOIN: u8 = 8;
const T_LEAVE: u8 = 9;
const T_QUERY: u8 = 10;
const T_QUERY_RESP: u8 = 11;

// ---------- primitives ----------

#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub fn addr(&mut self, a: &SocketAddr) {
        match a.ip() {
            IpAddr::V4(ip) => {
                self.u8(4);
                self.buf.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                self.u8(6);
                self.buf.extend_from_slice(&ip.octets());
            }
        }
        self.buf.extend_from_slice(&a.port().to_be_bytes());
    }
    pub fn tags(&mut self, t: &BTreeMap<String, String>) {
        self.varint(t.len() as u64);
        for (k, v) in t {
            self.str(k);
            self.str(v);
        }
    }
}

pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let v = *self.b.get(self.pos).ok_or(DecodeError("truncated"))?;
        self.pos += 1;
        Ok(v)
    }
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError("bad bool")),
        }
    }
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let byte = self.u8()?;
            if i == 9 && byte > 1 {
                return Err(DecodeError("varint overflow"));
            }
            v |= ((byte & 0x7f) as u64) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.varint()?).map_err(|_| DecodeError("u32 out of range"))
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError("length beyond input"));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub fn bytes(&mut self, max: usize) -> Result<Vec<u8>, DecodeError> {
        let n = self.varint()?;
        if n > max as u64 {
            return Err(DecodeError("field too long"));
        }
        Ok(self.take(n as usize)?.to_vec())
    }
    pub fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.varint()?;
        if n > MAX_STR as u64 {
            return Err(DecodeError("string too long"));
        }
        let raw = self.take(n as usize)?;
        std::str::from_utf8(raw).map(str::to_string).map_err(|_| DecodeError("bad utf-8"))
    }
    pub fn name(&mut self) -> Result<String, DecodeError> {
        let s = self.str()?;
        if s.is_empty() {
            return Err(DecodeError("empty node name"));
        }
        Ok(s)
    }
    pub fn addr(&mut self) -> Result<SocketAddr, DecodeError> {
        let ip = match self.u8()? {
            4 => {
                let o: [u8; 4] = self.take(4)?.try_into().map_err(|_| DecodeError("addr"))?;
                IpAddr::V4(Ipv4Addr::from(o))
            }
            6 => {
                let o: [u8; 16] = self.take(16)?.try_into().map_err(|_| DecodeError("addr"))?;
                IpAddr::V6(Ipv6Addr::from(o))
            }
            _ => return Err(DecodeError("bad address family")),
        };
        let p = self.take(2)?;
        Ok(SocketAddr::new(ip, u16::from_be_bytes([p[0], p[1]])))
    }
    pub fn tags(&mut self) -> Result<BTreeMap<String, String>, DecodeError> {
        let n = self.varint()?;
        if n > MAX_TAGS as u64 {
            return Err(DecodeError("too many tags"));
        }
        let mut t = BTreeMap::new();
        for _ in 0..n {
            let k = self.str()?;
            let v = self.str()?;
            t.insert(k, v);
        }
        Ok(t)
    }
}

// ---------- messages ----------

/// The framed form of one message: `[type][len][body]`.
pub fn encode_msg(m: &Msg) -> Vec<u8> {
    let mut w = Writer::default();
    let t = match m {
        Msg::Ping { seq, target } => {
            w.varint(*seq as u64);
            w.str(target);
            T_PING
        }
        Msg::Ack { seq, payload } => {
            w.varint(*seq as u64);
            w.bytes(payload);
            T_ACK
        }
        Msg::Nack { seq } => {
            w.varint(*seq as u64);
            T_NACK
        }
        Msg::PingReq { seq, target, target_addr, nack } => {
            w.varint(*seq as u64);
            w.str(target);
            w.addr(target_addr);
            w.u8(*nack as u8);
            T_PING_REQ
        }
        Msg::Alive(a) => {
            w.str(&a.node);
            w.addr(&a.addr);
            w.varint(a.incarnation as u64);
            w.tags(&a.tags);
            T_ALIVE
        }
        Msg::Suspect(s) | Msg::Dead(s) => {
            w.str(&s.node);
            w.varint(s.incarnation as u64);
            w.str(&s.from);
            if matches!(m, Msg::Suspect(_)) {
                T_SUSPECT
            } else {
                T_DEAD
            }
        }
        Msg::JoinIntent { node, ltime } => {
            w.str(node);
            w.varint(*ltime);
            T_JOIN
        }
        Msg::LeaveIntent { node, ltime, prune } => {
            w.str(node);
            w.varint(*ltime);
            w.u8(*prune as u8);
            T_LEAVE
        }
        Msg::Query(q) => {
            w.varint(q.id);
            w.varint(q.ltime);
            w.str(&q.origin);
            w.addr(&q.origin_addr);
            w.varint(q.timeout_ms);
            w.str(&q.name);
            w.bytes(&q.payload);
            T_QUERY
        }
        Msg::QueryResponse { id, from, payload } => {
            w.varint(*id);
            w.str(from);
            w.bytes(payload);
            T_QUERY_RESP
        }
    };
    let mut out = Writer::default();
    out.u8(t);
    out.bytes(&w.buf);
    out.buf
}

fn decode_body(t: u8, r: &mut Reader<'_>) -> Result<Msg, DecodeError> {
    let m = match t {
        T_PING => Msg::Ping { seq: r.u32()?, target: r.name()? },
        T_ACK => Msg::Ack { seq: r.u32()?, payload: r.bytes(MAX_STR)? },
        T_NACK => Msg::Nack { seq: r.u32()? },
        T_PING_REQ => Msg::PingReq {
            seq: r.u32()?,
            target: r.name()?,
            target_addr: r.addr()?,
            nack: r.bool()?,
        },
        T_ALIVE => Msg::Alive(Alive {
            node: r.name()?,
            addr: r.addr()?,
            incarnation: r.u32()?,
            tags: r.tags()?,
        }),
        T_SUSPECT | T_DEAD => {
            let a = Accusation { node: r.name()?, incarnation: r.u32()?, from: r.name()? };
            if t == T_SUSPECT {
                Msg::Suspect(a)
            } else {
                Msg::Dead(a)
            }
        }
        T_JOIN => Msg::JoinIntent { node: r.name()?, ltime: r.varint()? },
        T_LEAVE => Msg::LeaveIntent { node: r.name()?, ltime: r.varint()?, prune: r.bool()? },
        T_QUERY => Msg::Query(QueryMsg {
            id: r.varint()?,
            ltime: r.varint()?,
            origin: r.name()?,
            origin_addr: r.addr()?,
            timeout_ms: r.varint()?,
            name: r.str()?,
            payload: r.bytes(usize::MAX)?,
        }),
        T_QUERY_RESP => Msg::QueryResponse { id: r.varint()?, from: r.name()?, payload: r.bytes(usize::MAX)? },
        _ => return Err(DecodeError("unknown message type")),
    };
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes in message"));
    }
    Ok(m)
}

/// Decode a whole datagram; any bad message rejects the packet.
pub fn decode_packet(bytes: &[u8]) -> Result<Vec<Msg>, DecodeError> {
    let mut r = Reader::new(bytes);
    if r.u8()? != VERSION {
        return Err(DecodeError("unsupported version"));
    }
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() >= MAX_MSGS {
            return Err(DecodeError("too many messages"));
        }
        let t = r.u8()?;
        let len = r.varint()?;
        if len > r.remaining() as u64 {
            return Err(DecodeError("message length beyond packet"));
        }
        let body = r.take(len as usize)?;
        out.push(decode_body(t, &mut Reader::new(body))?);
    }
    if out.is_empty() {
        return Err(DecodeError("empty packet"));
    }
    Ok(out)
}

/// Pack framed messages into one datagram.
#[cfg(test)]
pub fn packet(frames: &[&[u8]]) -> Vec<u8> {
    let len = 1 + frames.iter().map(|f| f.len()).sum::<usize>();
    let mut b = Vec::with_capacity(len);
    b.push(VERSION);
    for f in frames {
        b.extend_from_slice(f);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "10.0.0.1:8301".parse().unwrap()
    }

    fn samples() -> Vec<Msg> {
        let mut tags = BTreeMap::new();
        tags.insert("role".to_string(), "consul".to_string());
        vec![
            Msg::Ping { seq: 7, target: "n1".into() },
            Msg::Ack { seq: u32::MAX, payload: vec![1, 2, 3] },
            Msg::Nack { seq: 0 },
            Msg::PingReq { seq: 9, target: "n2".into(), target_addr: "[::1]:1".parse().unwrap(), nack: true },
            Msg::Alive(Alive { node: "n3".into(), addr: addr(), incarnation: 5, tags }),
            Msg::Suspect(Accusation { node: "a".into(), incarnation: 1, from: "b".into() }),
            Msg::Dead(Accusation { node: "a".into(), incarnation: 2, from: "a".into() }),
            Msg::JoinIntent { node: "x".into(), ltime: u64::MAX },
            Msg::LeaveIntent { node: "x".into(), ltime: 3, prune: true },
            Msg::Query(QueryMsg {
                id: 1 << 60,
                ltime: 4,
                origin: "o".into(),
                origin_addr: addr(),
                timeout_ms: 1500,
                name: "ping".into(),
                payload: b"hi".to_vec(),
            }),
            Msg::QueryResponse { id: 3, from: "r".into(), payload: vec![] },
        ]
    }

    #[test]
    fn round_trip_compound() {
        let msgs = samples();
        let frames: Vec<Vec<u8>> = msgs.iter().map(encode_msg).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let p = packet(&refs);
        assert_eq!(decode_packet(&p).unwrap(), msgs);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(decode_packet(&[]).is_err());
        assert!(decode_packet(&[VERSION]).is_err());
        assert!(decode_packet(&[2, T_NACK, 1, 0]).is_err(), "wrong version");
        assert!(decode_packet(&[VERSION, 99, 0]).is_err(), "unknown type");
        assert!(decode_packet(&[VERSION, T_NACK, 5, 0]).is_err(), "length past end");
        assert!(decode_packet(&[VERSION, T_NACK, 2, 0, 0]).is_err(), "trailing bytes");
        // Overlong varint.
        let mut p = vec![VERSION, T_NACK, 11];
        p.extend_from_slice(&[0xff; 11]);
        assert!(decode_packet(&p).is_err());
        // A huge claimed string length must not allocate.
        let mut w = Writer::default();
        w.varint(u64::MAX / 2);
        let mut p = vec![VERSION, T_PING, (1 + w.buf.len()) as u8, 1];
        p.extend_from_slice(&w.buf);
        assert!(decode_packet(&p).is_err());
        assert!(decode_packet(&[VERSION, T_NACK, 1, 0]).is_ok());
    }
}
