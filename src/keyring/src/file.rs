//! Keyring files, Consul's format: a JSON array of base64 keys, primary first, at
//! <data_dir>/serf/local.keyring (LAN) and <data_dir>/serf/remote.keyring (WAN).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::KeyringError;
use crate::keyring::Keyring;
use crate::keytext::decode_key;

/// Relative to the data dir (Consul agent/keyring.go `SerfLANKeyring`).
pub const LAN_KEYRING_FILE: &str = "serf/local.keyring";
/// Relative to the data dir (Consul agent/keyring.go `SerfWANKeyring`).
pub const WAN_KEYRING_FILE: &str = "serf/remote.keyring";
/// A keyring file is a handful of keys; anything far bigger is not one.
const MAX_FILE_BYTES: u64 = 1 << 20;

pub fn lan_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LAN_KEYRING_FILE)
}

pub fn wan_path(data_dir: &Path) -> PathBuf {
    data_dir.join(WAN_KEYRING_FILE)
}

fn file_err(path: &Path, what: impl Into<String>) -> KeyringError {
    KeyringError::File { path: path.to_path_buf(), what: what.into() }
}

/// Reads a keyring file. A missing file is `Ok(None)`; anything unreadable is an error
/// naming the file.
pub fn load(path: &Path) -> Result<Option<Keyring>, KeyringError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_err(path, format!("cannot open: {e}"))),
    };
    let len = file.metadata().map_err(|e| file_err(path, format!("cannot stat: {e}")))?.len();
    if len > MAX_FILE_BYTES {
        return Err(file_err(path, format!("{len} bytes is too large for a keyring file")));
    }
    let data = fs::read(path).map_err(|e| file_err(path, format!("cannot read: {e}")))?;
    let texts: Vec<String> = serde_json::from_slice(&data)
        .map_err(|e| file_err(path, format!("not a JSON array of base64 keys: {e}")))?;
    let mut keys = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let raw = decode_key(text).map_err(|e| file_err(path, format!("key #{} (from 1): {e}", i + 1)))?;
        keys.push(raw);
    }
    let Some((primary, rest)) = keys.split_first() else {
        return Err(KeyringError::EmptyKeyringFile(path.to_path_buf()));
    };
    let others: Vec<&[u8]> = rest.iter().map(|k| k.as_slice()).collect();
    Keyring::new(primary, &others).map(Some)
}

/// Replaces the file atomically: a temp file beside it (mode 0600), fsync, rename over,
/// fsync the directory. A crash leaves the old file or the new one, never half of one.
pub fn save(path: &Path, ring: &Keyring) -> Result<(), KeyringError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Consul makes the serf directory 0700.
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| file_err(path, format!("cannot create directory {}: {e}", dir.display())))?;

    let mut body = serde_json::to_vec_pretty(&ring.keys_base64())
        .map_err(|e| file_err(path, format!("cannot encode: {e}")))?;
    body.push(b'\n');

    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("keyring");
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    // A stale temp file from a crash would keep its old mode; start from nothing.
    let _ = fs::remove_file(&tmp);
    let written = write_synced(&tmp, &body);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(file_err(path, format!("cannot write {}: {e}", tmp.display())));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(file_err(path, format!("cannot rename {} into place: {e}", tmp.display())));
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| file_err(path, format!("cannot sync directory {}: {e}", dir.display())))
}

fn write_synced(tmp: &Path, body: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(tmp)?;
    f.write_all(body)?;
    f.sync_all()
}
