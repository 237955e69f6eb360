#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use ballast_keyring::{encode_key, Keyring};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty directory under the system temp dir; removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ballast-keyring-{tag}-{}-{n}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn key(fill: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
}

pub fn text(fill: u8) -> String {
    encode_key(&key(fill, 32))
}

pub fn ring(keys: &[&[u8]]) -> Keyring {
    Keyring::new(keys[0], &keys[1..]).unwrap()
}
