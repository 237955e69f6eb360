//! One AES-GCM key, ready to seal and open. ring does AES-128/256 (fast path);
//! ring has no AES-192, which memberlist allows, so 24-byte keys use aes-gcm.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::AesGcm;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};

use crate::error::KeyringError;

pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;

type Aes192Gcm = AesGcm<Aes192, U12>;

// The ring key sits inline (it is the hot path); only the rare AES-192 one is boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Cipher {
    Ring(LessSafeKey),
    Aes192(Box<Aes192Gcm>),
}

impl Cipher {
    /// Builds the cipher for a key already checked by `validate_key`.
    pub(crate) fn new(key: &[u8]) -> Result<Cipher, KeyringError> {
        let bad = || KeyringError::KeySize(key.len());
        match key.len() {
            16 => Ok(Cipher::Ring(LessSafeKey::new(
                UnboundKey::new(&AES_128_GCM, key).map_err(|_| bad())?,
            ))),
            32 => Ok(Cipher::Ring(LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, key).map_err(|_| bad())?,
            ))),
            24 => Ok(Cipher::Aes192(Box::new(
                Aes192Gcm::new_from_slice(key).map_err(|_| bad())?,
            ))),
            _ => Err(bad()),
        }
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], KeyringError> {
        let mut out = [0u8; TAG_LEN];
        match self {
            Cipher::Ring(k) => {
                let tag = k
                    .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
                    .map_err(|_| KeyringError::Random)?;
                out.copy_from_slice(tag.as_ref());
            }
            Cipher::Aes192(k) => {
                let tag = k
                    .encrypt_in_place_detached(GenericArray::from_slice(&nonce), aad, buf)
                    .map_err(|_| KeyringError::Random)?;
                out.copy_from_slice(&tag);
            }
        }
        Ok(out)
    }

    /// Decrypts `buf` (ciphertext without tag) in place; false when the tag does not verify.
    pub(crate) fn open(&self, nonce: [u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> bool {
        match self {
            Cipher::Ring(k) => k
                .open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    ring::aead::Tag::from(*tag),
                    buf,
                    0..,
                )
                .is_ok(),
            Cipher::Aes192(k) => k
                .decrypt_in_place_detached(GenericArray::from_slice(&nonce), aad, buf, GenericArray::from_slice(tag))
                .is_ok(),
        }
    }
}
