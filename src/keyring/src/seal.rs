//! Packet encryption in memberlist's layout, so a packet reads the same either side:
//! version (1 byte) | nonce (12, random) | AES-GCM ciphertext | tag (16).
//! Version 1 has no padding; version 0 (PKCS7-padded, older memberlist) is opened too.
//! The optional label (memberlist's gossip label) is the AEAD's additional data.

use ring::rand::{SecureRandom, SystemRandom};

use crate::cipher::{NONCE_LEN, TAG_LEN};
use crate::error::KeyringError;
use crate::keyring::Keyring;

/// The version `seal` writes.
pub const ENCRYPTION_VERSION: u8 = 1;
/// Bytes `seal` adds to a plaintext: version + nonce + tag.
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Version 0 also pads to the AES block (1..=16 bytes).
const V0_MIN_LEN: usize = OVERHEAD + 16;
const AES_BLOCK: usize = 16;

impl Keyring {
    /// Encrypts with the primary key, appending `OVERHEAD + plaintext.len()` bytes to `out`.
    pub fn seal(&self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), KeyringError> {
        self.seal_with_label(b"", plaintext, out)
    }

    /// `seal` binding the packet to a gossip label (the label itself is not written).
    pub fn seal_with_label(&self, label: &[u8], plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), KeyringError> {
        let mut nonce = [0u8; NONCE_LEN];
        // A repeated nonce under one key breaks GCM; nonces come from the OS CSPRNG.
        SystemRandom::new().fill(&mut nonce).map_err(|_| KeyringError::Random)?;
        let start = out.len();
        out.reserve(OVERHEAD + plaintext.len());
        out.push(ENCRYPTION_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let body = start + 1 + NONCE_LEN;
        match self.entries[0].cipher.seal(nonce, label, &mut out[body..]) {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Decrypts a sealed packet, trying every key, primary first.
    pub fn open(&self, packet: &[u8]) -> Result<Vec<u8>, KeyringError> {
        self.open_with_label(b"", packet)
    }

    pub fn open_with_label(&self, label: &[u8], packet: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let version = *packet.first().ok_or(KeyringError::EmptyPayload)?;
        let min_len = match version {
            0 => V0_MIN_LEN,
            1 => OVERHEAD,
            v => return Err(KeyringError::UnsupportedVersion(v)),
        };
        if packet.len() < min_len {
            return Err(KeyringError::PayloadTooSmall(packet.len()));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&packet[1..1 + NONCE_LEN]);
        let (ciphertext, tag_bytes) = packet[1 + NONCE_LEN..].split_at(packet.len() - OVERHEAD);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(tag_bytes);

        let mut buf = Vec::with_capacity(ciphertext.len());
        for entry in &self.entries {
            buf.clear();
            buf.extend_from_slice(ciphertext);
            if entry.cipher.open(nonce, label, &mut buf, &tag) {
                if version == 0 {
                    return unpad_pkcs7(buf);
                }
                return Ok(buf);
            }
        }
        Err(KeyringError::NoKeyDecrypts)
    }
}

// Authenticated, but padding comes from the sender: check it rather than trust it.
fn unpad_pkcs7(mut buf: Vec<u8>) -> Result<Vec<u8>, KeyringError> {
    let pad = *buf.last().ok_or(KeyringError::PayloadTooSmall(0))? as usize;
    if pad == 0 || pad > AES_BLOCK || pad > buf.len() {
        return Err(KeyringError::NoKeyDecrypts);
    }
    buf.truncate(buf.len() - pad);
    Ok(buf)
}

#[cfg(test)]
pub(crate) fn seal_v0_for_test(ring: &Keyring, plaintext: &[u8]) -> Vec<u8> {
    // Older memberlist's layout: pad to the block, then seal; used to check we can read it.
    let pad = AES_BLOCK - plaintext.len() % AES_BLOCK;
    let mut body = plaintext.to_vec();
    body.extend(std::iter::repeat_n(pad as u8, pad));
    let nonce = [7u8; NONCE_LEN];
    let tag = ring.entries[0].cipher.seal(nonce, b"", &mut body).unwrap();
    let mut out = vec![0u8];
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_version_0_padded_packets() {
        let ring = Keyring::new(&[4u8; 32], &[]).unwrap();
        for len in [0usize, 1, 15, 16, 17, 100] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let packet = seal_v0_for_test(&ring, &msg);
            assert_eq!(packet[0], 0);
            assert_eq!(ring.open(&packet).unwrap(), msg, "len {len}");
        }
    }

    #[test]
    fn rejects_bad_version_0_padding() {
        assert!(unpad_pkcs7(vec![1, 2, 0]).is_err());
        assert!(unpad_pkcs7(vec![1, 2, 17]).is_err());
        assert!(unpad_pkcs7(vec![3, 3]).is_err());
        assert_eq!(unpad_pkcs7(vec![9, 2, 2]).unwrap(), vec![9]);
    }
}
