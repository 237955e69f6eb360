//! Keys as operators write them: standard base64 (what `consul keygen` prints and what
//! `-encrypt`, the keyring files and `consul keyring -install` take).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::KeyringError;
use crate::keyring::validate_key;

/// Bytes in a key made by `keygen` (Consul's keygen makes AES-256 keys).
pub const KEYGEN_BYTES: usize = 32;

// Go's base64.StdEncoding: padding required, stray bits in the last symbol tolerated.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Base64 only, no size check. Errors read as Go's: "illegal base64 data at input byte N".
pub fn decode_base64(text: &str) -> Result<Vec<u8>, KeyringError> {
    if let Some(offset) = go_error_offset(text.as_bytes()) {
        return Err(KeyringError::Base64 { offset });
    }
    // Go's decoder skips CR and LF anywhere in the input.
    let clean: Vec<u8> = text.bytes().filter(|c| *c != b'\r' && *c != b'\n').collect();
    GO_STD.decode(&clean).map_err(|_| KeyringError::Base64 { offset: 0 })
}

/// Where Go's base64.StdEncoding reports a CorruptInputError, or None if Go accepts the
/// input. Offsets count raw input bytes, newlines included, as Go's do; operators see them
/// in "encrypt has invalid key: illegal base64 data at input byte N".
fn go_error_offset(src: &[u8]) -> Option<usize> {
    let is_symbol = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let skip_newlines = |mut i: usize| {
        while i < src.len() && (src[i] == b'\n' || src[i] == b'\r') {
            i += 1;
        }
        i
    };
    let mut si = 0;
    loop {
        // One 4-symbol group; `got` counts symbols read so far in it.
        let mut got = 0;
        while got < 4 {
            if si == src.len() {
                // Clean end between groups; a partial group is an error at its start.
                return if got == 0 { None } else { Some(si - got) };
            }
            let c = src[si];
            si += 1;
            if is_symbol(c) {
                got += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' || got < 2 {
                return Some(si - 1);
            }
            if got == 2 {
                // Two symbols need "==": the second '=' must follow (newlines aside).
                si = skip_newlines(si);
                if si == src.len() {
                    return Some(src.len());
                }
                if src[si] != b'=' {
                    return Some(si - 1);
                }
                si += 1;
            }
            // Padding ends the input; anything after it (but newlines) is garbage.
            si = skip_newlines(si);
            return if si < src.len() { Some(si) } else { None };
        }
    }
}

/// A gossip key from text: base64, then 16/24/32 bytes. Errors carry Consul's
/// "Invalid key: " prefix (agent/keyring.go initKeyring).
pub fn decode_key(text: &str) -> Result<Vec<u8>, KeyringError> {
    let raw = decode_base64(text).map_err(|e| KeyringError::InvalidKey(Box::new(e)))?;
    validate_key(&raw).map_err(|e| KeyringError::InvalidKey(Box::new(e)))?;
    Ok(raw)
}

pub fn encode_key(raw: &[u8]) -> String {
    GO_STD.encode(raw)
}

/// A new AES-256 key from the OS CSPRNG, as base64 (what `consul keygen` prints).
pub fn keygen() -> Result<String, KeyringError> {
    let mut key = [0u8; KEYGEN_BYTES];
    SystemRandom::new().fill(&mut key).map_err(|_| KeyringError::Random)?;
    let text = encode_key(&key);
    key.iter_mut().for_each(|b| *b = 0);
    Ok(text)
}

/// Short, safe-to-log name of a key: its first 4 base64 characters and "…".
/// The same characters start the key as `keyring -list` prints it, so operators can match them.
pub fn fingerprint(raw: &[u8]) -> String {
    let text = encode_key(raw);
    format!("{}…", &text[..text.len().min(4)])
}

/// `fingerprint` for key text that may not even be valid base64.
pub fn fingerprint_text(text: &str) -> String {
    let head: String = text.trim().chars().take(4).collect();
    format!("{head}…")
}
