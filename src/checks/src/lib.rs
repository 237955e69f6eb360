//! ballast-checks: Consul's agent health checks (agent/checks) as one-shot
//! async probes plus the pure status logic around them.
//!
//! The agent owns scheduling (interval, random stagger, which shard runs a
//! check); this crate answers "what does one run of this check say" and
//! "what does the catalog see after this run":
//!
//! * probes: [`probe_http`], [`probe_tcp`], [`probe_tcp_tls`],
//!   [`probe_script`] return an [`Outcome`] with Consul's status and output
//!   text. They run on a glommio executor and never block it.
//! * [`StatusHandler`]: SuccessBeforePassing / FailuresBeforeWarning /
//!   FailuresBeforeCritical, fed every probe outcome.
//! * [`TtlState`]: a TTL check's status, expiry deadline and "TTL expired"
//!   output; [`alias_status`]: an alias check's status from the aliased
//!   node's or service's checks.
//! * [`output`]: OutputMaxSize handling and Consul's truncation texts.

mod alias;
mod defaults;
mod goduration;
mod goerr;
mod http_probe;
mod http_wire;
mod net;
mod outcome;
pub mod output;
mod script_probe;
mod status_handler;
mod tcp_probe;
mod tls;
mod ttl;
mod url;

pub use alias::{alias_rpc_failure, alias_status, AliasSource};
pub use defaults::{
    effective_interval, effective_output_max_size, failures_before_warning_default, probe_timeout,
    script_timeout, DEFAULT_BUF_SIZE, DEFAULT_PROBE_TIMEOUT, DEFAULT_SCRIPT_TIMEOUT, MAX_REDIRECTS,
    MIN_INTERVAL, USER_AGENT,
};
pub use goduration::go_duration_string;
pub use http_probe::{probe_http, HttpProbe};
pub use outcome::{Outcome, CRITICAL, PASSING, WARNING};
pub use script_probe::probe_script;
pub use status_handler::StatusHandler;
pub use tcp_probe::{probe_tcp, probe_tcp_tls};
pub use tls::{load_system_roots, TlsSettings};
pub use ttl::TtlState;
