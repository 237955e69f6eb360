//! Gossip encryption as Consul users know it: `-encrypt`, serf/local.keyring and
//! serf/remote.keyring, `consul keyring`, `consul keygen`.
//!
//! - [`Keyring`]: installed keys, primary first (memberlist semantics).
//! - [`Keyring::seal`] / [`Keyring::open`]: AES-GCM packets in memberlist's layout.
//! - [`keytext`]: base64 key text, `keygen`, safe fingerprints.
//! - [`file`]: keyring files, replaced atomically.
//! - [`startup`]: `-encrypt` versus the files, with loud warnings on mismatch.
//! - [`keyop`] and [`api`]: key operations between agents and the HTTP API's JSON.

pub mod api;
mod cipher;
pub mod error;
pub mod file;
pub mod keyop;
mod keyring;
pub mod keytext;
mod seal;
pub mod startup;

pub use api::{KeyTally, KeyringRequest, KeyringResponse};
pub use error::{messages, KeyringError};
pub use file::{lan_path, load, save, wan_path, LAN_KEYRING_FILE, WAN_KEYRING_FILE};
pub use keyop::{apply, KeyOp, KeyOpReply};
pub use keyring::{validate_key, Keyring};
pub use keytext::{decode_base64, decode_key, encode_key, fingerprint, keygen, KEYGEN_BYTES};
pub use seal::{ENCRYPTION_VERSION, OVERHEAD};
pub use startup::{startup, StartupKeyrings};
