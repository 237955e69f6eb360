//! The one error type of configuration loading: a message worded like Consul's.
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl ConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        ConfigError(msg.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// An I/O error worded like Go's (`open /x: no such file or directory`), because operators
/// grep for Consul's messages.
pub fn go_io_error(op: &str, path: &str, err: &std::io::Error) -> String {
    let text = match err.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a pointer to a static or thread-local NUL-terminated
            // string for any code; it is copied out before anything else runs on this thread.
            let ptr = unsafe { libc::strerror(code) };
            if ptr.is_null() {
                err.to_string()
            } else {
                let s = unsafe { std::ffi::CStr::from_ptr(ptr) }.to_string_lossy().into_owned();
                let mut chars = s.chars();
                match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => s,
                }
            }
        }
        None => err.to_string(),
    };
    format!("{op} {path}: {text}")
}
