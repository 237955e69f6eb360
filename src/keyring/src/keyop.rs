//! Key operations as they travel between agents inside gossip queries (serf's
//! install-key / use-key / remove-key / list-keys), and the node-side handler.
//!
//! Wire form (all lengths checked against the buffer; trailing bytes are an error):
//!   KeyOp:      version=1 | tag (1 list, 2 install, 3 use, 4 remove) | [key len u8 | key]
//!   KeyOpReply: version=1 | ok (0/1) | [msg len u16 BE | msg] | key count u8 | (len u8 | key)*
//!               | has primary (0/1) | [len u8 | primary]

use crate::error::{messages, KeyringError};
use crate::keyring::Keyring;

const WIRE_VERSION: u8 = 1;
/// Error texts are for humans; longer ones are cut (at a char boundary) when encoded.
pub const MAX_MESSAGE_BYTES: usize = 1024;
/// More keys than this in one reply is not a keyring.
pub const MAX_REPLY_KEYS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOp {
    List,
    /// Raw key bytes (serf sends raw bytes, not base64).
    Install(Vec<u8>),
    Use(Vec<u8>),
    Remove(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOpReply {
    pub result: Result<(), String>,
    /// Base64 keys, primary first (filled for List).
    pub keys: Vec<String>,
    pub primary: Option<String>,
}

impl KeyOp {
    /// serf's internal query name for the operation (sent as "_serf_" + name).
    pub fn query_name(&self) -> &'static str {
        match self {
            KeyOp::List => "list-keys",
            KeyOp::Install(_) => "install-key",
            KeyOp::Use(_) => "use-key",
            KeyOp::Remove(_) => "remove-key",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let (tag, key) = match self {
            KeyOp::List => (1u8, None),
            KeyOp::Install(k) => (2, Some(k)),
            KeyOp::Use(k) => (3, Some(k)),
            KeyOp::Remove(k) => (4, Some(k)),
        };
        let mut out = vec![WIRE_VERSION, tag];
        if let Some(k) = key {
            // Keys are 16..=32 bytes; a longer one is cut and then fails the size check remotely.
            let k = &k[..k.len().min(u8::MAX as usize)];
            out.push(k.len() as u8);
            out.extend_from_slice(k);
        }
        out
    }

    pub fn decode(buf: &[u8]) -> Result<KeyOp, KeyringError> {
        let mut r = Reader { buf };
        r.version()?;
        let op = match r.u8()? {
            1 => KeyOp::List,
            2 => KeyOp::Install(r.bytes_u8()?.to_vec()),
            3 => KeyOp::Use(r.bytes_u8()?.to_vec()),
            4 => KeyOp::Remove(r.bytes_u8()?.to_vec()),
            _ => return Err(KeyringError::Wire("unknown operation")),
        };
        r.end()?;
        Ok(op)
    }
}

impl KeyOpReply {
    pub fn ok() -> KeyOpReply {
        KeyOpReply { result: Ok(()), keys: Vec::new(), primary: None }
    }

    pub fn error(message: impl Into<String>) -> KeyOpReply {
        KeyOpReply { result: Err(message.into()), keys: Vec::new(), primary: None }
    }

    pub fn encode(&self) -> Result<Vec<u8>, KeyringError> {
        if self.keys.len() > MAX_REPLY_KEYS {
            return Err(KeyringError::Wire("too many keys for one reply"));
        }
        let mut out = vec![WIRE_VERSION];
        match &self.result {
            Ok(()) => out.push(1),
            Err(msg) => {
                out.push(0);
                let msg = cut(msg, MAX_MESSAGE_BYTES);
                out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
                out.extend_from_slice(msg.as_bytes());
            }
        }
        out.push(self.keys.len() as u8);
        for k in &self.keys {
            put_str_u8(&mut out, k)?;
        }
        match &self.primary {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                put_str_u8(&mut out, p)?;
            }
        }
        Ok(out)
    }

    pub fn decode(buf: &[u8]) -> Result<KeyOpReply, KeyringError> {
        let mut r = Reader { buf };
        r.version()?;
        let result = match r.u8()? {
            1 => Ok(()),
            0 => {
                let len = r.u16()? as usize;
                if len > MAX_MESSAGE_BYTES {
                    return Err(KeyringError::Wire("message too long"));
                }
                Err(r.str(len)?)
            }
            _ => return Err(KeyringError::Wire("bad result flag")),
        };
        let count = r.u8()? as usize;
        if count > MAX_REPLY_KEYS {
            return Err(KeyringError::Wire("too many keys"));
        }
        let mut keys = Vec::with_capacity(count);
        for _ in 0..count {
            let len = r.u8()? as usize;
            keys.push(r.str(len)?);
        }
        let primary = match r.u8()? {
            0 => None,
            1 => {
                let len = r.u8()? as usize;
                Some(r.str(len)?)
            }
            _ => return Err(KeyringError::Wire("bad primary flag")),
        };
        r.end()?;
        Ok(KeyOpReply { result, keys, primary })
    }
}

/// What one agent does with a key operation it received, with serf's reply texts.
/// `ring` is None when this agent has gossip encryption off. After a successful
/// Install/Use/Remove the caller persists the keyring (`file::save`) and, if that
/// fails, replies with the save error instead (as serf does).
pub fn apply(ring: Option<&mut Keyring>, op: &KeyOp) -> KeyOpReply {
    let Some(ring) = ring else {
        return KeyOpReply::error(match op {
            KeyOp::List => messages::KEYRING_EMPTY,
            _ => messages::NO_KEYRING_TO_MODIFY,
        });
    };
    let done = match op {
        KeyOp::List => {
            return KeyOpReply {
                result: Ok(()),
                keys: ring.keys_base64(),
                primary: ring.keys_base64().into_iter().next(),
            }
        }
        KeyOp::Install(k) => ring.install(k),
        KeyOp::Use(k) => ring.use_key(k),
        // memberlist's RemoveKey succeeds when the key is already gone; keep that, so a
        // retried cluster-wide remove does not fail on the agents that already did it.
        KeyOp::Remove(k) => match ring.remove(k) {
            Err(KeyringError::KeyNotInKeyring) => Ok(()),
            other => other,
        },
    };
    match done {
        Ok(()) => KeyOpReply::ok(),
        Err(e) => KeyOpReply::error(e.to_string()),
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn put_str_u8(out: &mut Vec<u8>, s: &str) -> Result<(), KeyringError> {
    let len = u8::try_from(s.len()).map_err(|_| KeyringError::Wire("key text too long"))?;
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], KeyringError> {
        if self.buf.len() < n {
            return Err(KeyringError::Wire("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, KeyringError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, KeyringError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn bytes_u8(&mut self) -> Result<&'a [u8], KeyringError> {
        let len = self.u8()? as usize;
        self.take(len)
    }

    fn str(&mut self, len: usize) -> Result<String, KeyringError> {
        let b = self.take(len)?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| KeyringError::Wire("text is not UTF-8"))
    }

    fn version(&mut self) -> Result<(), KeyringError> {
        match self.u8()? {
            WIRE_VERSION => Ok(()),
            _ => Err(KeyringError::Wire("unknown version")),
        }
    }

    fn end(&self) -> Result<(), KeyringError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(KeyringError::Wire("trailing bytes"))
        }
    }
}
