//! What goes on the wire around the gossip core's bytes: a one-byte marker for plain
//! packets, or the keyring's sealed form (which starts with its version byte), and for
//! TCP push-pull a length prefix. Memberlist's messages for a key mismatch are kept, since
//! operators search for them.
use ballast_keyring::Keyring;

/// First byte of an unencrypted packet or stream message.
/// (Not a keyring version byte: sealed messages start with 0 or 1.)
const PLAIN: u8 = 0xB1;
/// Largest push-pull message: the whole member list of a big pool fits with room.
pub const MAX_STREAM_BYTES: usize = 32 << 20;

pub fn wrap(ring: Option<&Keyring>, plain: &[u8]) -> Result<Vec<u8>, String> {
    match ring {
        Some(r) => {
            let mut out = Vec::with_capacity(plain.len() + ballast_keyring::OVERHEAD);
            r.seal(plain, &mut out).map_err(|e| e.to_string())?;
            Ok(out)
        }
        None => {
            let mut out = Vec::with_capacity(plain.len() + 1);
            out.push(PLAIN);
            out.extend_from_slice(plain);
            Ok(out)
        }
    }
}

pub fn unwrap(ring: Option<&Keyring>, bytes: &[u8]) -> Result<Vec<u8>, String> {
    match (ring, bytes.first()) {
        (_, None) => Err("empty message".into()),
        (Some(_), Some(&PLAIN)) => Err("encryption is configured but remote state is not encrypted".into()),
        (None, Some(&PLAIN)) => Ok(bytes[1..].to_vec()),
        (None, Some(_)) => Err("remote state is encrypted and encryption is not configured".into()),
        (Some(r), Some(_)) => r.open(bytes).map_err(|e| e.to_string()),
    }
}
