//! Consul's gossip membership commands over the agent's HTTP API: `members`, `join`, `leave`
//! and `force-leave`.
pub mod api;
pub mod force_leave;
mod go_text;
pub mod join;
pub mod leave;
pub mod members;

use crate::api::ApiClient;
use crate::flags::ClientHttpFlags;
use crate::Io;

/// The `role` tag of a server (api.MemberTagValueRoleServer).
pub const ROLE_SERVER: &str = "consul";
/// The `role` tag of a client agent (api.MemberTagValueRoleClient).
pub const ROLE_CLIENT: &str = "node";

/// The agent client from the HTTP flags, or None after printing Consul's error for it.
pub(crate) fn client(http: &ClientHttpFlags, io: &mut Io) -> Option<ApiClient> {
    http.client().map_err(|e| io.error(&format!("Error connecting to Consul agent: {e}"))).ok()
}

/// Writes `help` to stderr as Ui.Error does (the help text already ends with a newline).
pub(crate) fn error_help(io: &mut Io, help: &str) {
    let _ = std::io::Write::write_all(io.err, help.as_bytes());
}
