//! One error type for the crate. Texts that Consul, serf or memberlist print are kept
//! word for word (see `messages`) so operators can search them.

use std::fmt;
use std::path::PathBuf;

/// Texts taken from HashiCorp's code, so logs and API errors read as Consul's do.
pub mod messages {
    /// memberlist keyring.go `ValidateKey`.
    pub const KEY_SIZE: &str = "key size must be 16, 24 or 32 bytes";
    /// memberlist keyring.go `UseKey`.
    pub const KEY_NOT_IN_KEYRING: &str = "Requested key is not in the keyring";
    /// memberlist keyring.go `RemoveKey`.
    pub const REMOVE_PRIMARY: &str = "Removing the primary key is not allowed";
    /// memberlist security.go `decryptPayload`.
    pub const EMPTY_PAYLOAD: &str = "Cannot decrypt empty payload";
    /// memberlist security.go `decryptPayload`.
    pub const NO_KEY_DECRYPTS: &str = "No installed keys could decrypt the message";
    /// serf internal_query.go install/use/remove handlers.
    pub const NO_KEYRING_TO_MODIFY: &str = "No keyring to modify (encryption not enabled)";
    /// serf internal_query.go `handleListKeys`.
    pub const KEYRING_EMPTY: &str = "Keyring is empty (encryption not enabled)";
}

#[derive(Debug)]
pub enum KeyringError {
    /// A raw key that is not 16, 24 or 32 bytes long.
    KeySize(usize),
    /// `use` (or `remove`) of a key that is not installed.
    KeyNotInKeyring,
    /// `remove` of the primary key.
    RemovePrimary,
    /// Key text that is not standard base64; the offset is Go's "input byte" index.
    Base64 { offset: usize },
    /// Key text that decodes but has the wrong size (Consul: "Invalid key: ...").
    InvalidKey(Box<KeyringError>),
    EmptyPayload,
    UnsupportedVersion(u8),
    PayloadTooSmall(usize),
    NoKeyDecrypts,
    /// The OS CSPRNG failed.
    Random,
    /// A keyring file could not be read, parsed, written or synced.
    File { path: PathBuf, what: String },
    /// A keyring file holds `[]`. Consul's text from agent/keyring.go `loadKeyring`.
    EmptyKeyringFile(PathBuf),
    /// A key-operation message that does not decode.
    Wire(&'static str),
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringError::KeySize(_) => f.write_str(messages::KEY_SIZE),
            KeyringError::KeyNotInKeyring => f.write_str(messages::KEY_NOT_IN_KEYRING),
            KeyringError::RemovePrimary => f.write_str(messages::REMOVE_PRIMARY),
            // Go's base64.CorruptInputError text.
            KeyringError::Base64 { offset } => {
                write!(f, "illegal base64 data at input byte {offset}")
            }
            // Consul agent/keyring.go initKeyring: "Invalid key: %s".
            KeyringError::InvalidKey(inner) => write!(f, "Invalid key: {inner}"),
            KeyringError::EmptyPayload => f.write_str(messages::EMPTY_PAYLOAD),
            KeyringError::UnsupportedVersion(v) => write!(f, "Unsupported encryption version {v}"),
            KeyringError::PayloadTooSmall(n) => write!(f, "Payload is too small to decrypt: {n}"),
            KeyringError::NoKeyDecrypts => f.write_str(messages::NO_KEY_DECRYPTS),
            KeyringError::Random => f.write_str("Error reading random data: the OS random source failed"),
            KeyringError::File { path, what } => {
                write!(f, "keyring file {}: {what}", path.display())
            }
            KeyringError::EmptyKeyringFile(path) => {
                write!(f, "no keys present in keyring: {}", path.display())
            }
            KeyringError::Wire(what) => write!(f, "bad key operation message: {what}"),
        }
    }
}

impl std::error::Error for KeyringError {}
