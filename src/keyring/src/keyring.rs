//! The keyring: installed gossip keys in order, the primary (the one that encrypts) first.
//! Semantics follow memberlist's keyring.go.

use std::fmt;

use crate::cipher::Cipher;
use crate::error::KeyringError;
use crate::keytext;

/// memberlist's `ValidateKey`: AES-128, AES-192 or AES-256.
pub fn validate_key(key: &[u8]) -> Result<(), KeyringError> {
    match key.len() {
        16 | 24 | 32 => Ok(()),
        n => Err(KeyringError::KeySize(n)),
    }
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) raw: Vec<u8>,
    pub(crate) cipher: Cipher,
}

impl Entry {
    fn new(raw: &[u8]) -> Result<Entry, KeyringError> {
        validate_key(raw)?;
        Ok(Entry { raw: raw.to_vec(), cipher: Cipher::new(raw)? })
    }
}

impl Drop for Entry {
    // Key bytes should not linger in freed memory.
    fn drop(&mut self) {
        for b in self.raw.iter_mut() {
            // SAFETY: b is a valid &mut u8; volatile keeps the store from being elided.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

/// Never empty: a keyring exists only when gossip encryption is on.
#[derive(Clone)]
pub struct Keyring {
    pub(crate) entries: Vec<Entry>,
}

impl Keyring {
    /// `primary` first, then `others` in order; duplicates are dropped (as memberlist's AddKey).
    pub fn new(primary: &[u8], others: &[&[u8]]) -> Result<Keyring, KeyringError> {
        let mut ring = Keyring { entries: vec![Entry::new(primary)?] };
        for k in others {
            ring.install(k)?;
        }
        Ok(ring)
    }

    /// Adds a key for decryption, at the end; a no-op when it is already installed.
    pub fn install(&mut self, key: &[u8]) -> Result<(), KeyringError> {
        validate_key(key)?;
        if self.position(key).is_none() {
            self.entries.push(Entry::new(key)?);
        }
        Ok(())
    }

    /// Makes an installed key the primary (moved to the front; the rest keep their order).
    pub fn use_key(&mut self, key: &[u8]) -> Result<(), KeyringError> {
        let at = self.position(key).ok_or(KeyringError::KeyNotInKeyring)?;
        let entry = self.entries.remove(at);
        self.entries.insert(0, entry);
        Ok(())
    }

    /// Drops a secondary key. memberlist treats an absent key as a no-op; here it is
    /// `KeyNotInKeyring`, so a caller wanting serf's reply treats that error as success.
    pub fn remove(&mut self, key: &[u8]) -> Result<(), KeyringError> {
        match self.position(key) {
            Some(0) => Err(KeyringError::RemovePrimary),
            Some(at) => {
                self.entries.remove(at);
                Ok(())
            }
            None => Err(KeyringError::KeyNotInKeyring),
        }
    }

    /// Raw keys, primary first.
    pub fn keys(&self) -> Vec<&[u8]> {
        self.entries.iter().map(|e| e.raw.as_slice()).collect()
    }

    /// Keys as base64 text, primary first (the keyring file and `keyring -list` form).
    pub fn keys_base64(&self) -> Vec<String> {
        self.entries.iter().map(|e| keytext::encode_key(&e.raw)).collect()
    }

    pub fn primary(&self) -> &[u8] {
        &self.entries[0].raw
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false (a keyring holds at least its primary); here for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Index of `key` (0 = primary).
    pub fn position(&self, key: &[u8]) -> Option<usize> {
        self.entries.iter().position(|e| e.raw == key)
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }
}

impl PartialEq for Keyring {
    fn eq(&self, other: &Keyring) -> bool {
        self.keys() == other.keys()
    }
}

impl Eq for Keyring {}

// Debug shows fingerprints only: a keyring must never land whole in a log.
impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prints: Vec<String> = self.entries.iter().map(|e| keytext::fingerprint(&e.raw)).collect();
        f.debug_struct("Keyring").field("keys", &prints).finish()
    }
}
