use std::sync::Arc;

/// One KV pair as Consul's `structs.DirEntry`.
///
/// `value: None` is Go's nil slice (JSON `null`); `Some(empty)` is an empty
/// value. Consul treats the two as equal when deciding whether a write
/// changed anything (`bytes.Equal`), and so do we.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    pub key: Arc<str>,
    pub value: Option<Arc<[u8]>>,
    pub flags: u64,
    pub create_index: u64,
    pub modify_index: u64,
    pub lock_index: u64,
    /// Lock holder; `None` is Consul's empty string (omitted from JSON).
    pub session: Option<Arc<str>>,
}

impl KvEntry {
    /// The value bytes, empty for nil.
    pub fn value_bytes(&self) -> &[u8] {
        self.value.as_deref().unwrap_or(&[])
    }

    /// The session as Consul's string ("" when unlocked).
    pub fn session_str(&self) -> &str {
        self.session.as_deref().unwrap_or("")
    }

    /// A copy with the value blanked, as txn results for non-get verbs carry.
    pub fn without_value(&self) -> KvEntry {
        KvEntry {
            value: None,
            ..self.clone()
        }
    }

    /// Consul's `DirEntry.Equal`: lock index, key, flags, value bytes
    /// (nil == empty) and session; raft indexes are not compared.
    pub(crate) fn same_content(
        &self,
        lock_index: u64,
        flags: u64,
        value: Option<&[u8]>,
        session: &str,
    ) -> bool {
        self.lock_index == lock_index
            && self.flags == flags
            && self.value_bytes() == value.unwrap_or(&[])
            && self.session_str() == session
    }
}
