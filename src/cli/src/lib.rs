//! The `ballast` command line: `ballast agent`, `kv ...`, `operator raft ...`, the gossip
//! commands (`members`, `join`, `leave`, `force-leave`, `keyring`, `keygen`, `rtt`), the
//! catalog and service commands (`catalog ...`, `services ...`, `maint`) and `version`, with Consul's single-dash flags, help layout, output texts and exit codes.
mod agent_cmd;
mod api;
mod catalog;
mod columnize;
mod dispatch;
mod flags;
mod gossip;
mod help;
mod http_client;
mod keygen;
mod keyring;
mod kv;
mod maint;
mod operator;
mod parse;
mod prepass;
mod rtt;
mod services;
mod version_cmd;

use std::io::{Read, Write};

pub use dispatch::run;

/// Where a command reads and writes; the real process streams, or buffers in tests.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub stdin: &'a mut dyn Read,
}

impl Io<'_> {
    /// mitchellh/cli's Ui.Info/Output: the text and a newline on stdout.
    pub(crate) fn info(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
    }
    /// mitchellh/cli's Ui.Error: the text and a newline on stderr.
    pub(crate) fn error(&mut self, s: &str) {
        let _ = writeln!(self.err, "{s}");
    }
}

/// Entry point of the binary: runs the command named by the process arguments and returns
/// the exit code (0 ok, 1 error, 127 unknown command, as Consul).
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Unlocked handles (each write locks briefly): `ballast agent` runs for the life of the
    // process, and a lock held here would block every log line of the shard threads.
    let (mut out, mut err, mut inp) = (std::io::stdout(), std::io::stderr(), std::io::stdin());
    let code = run(&args, &mut Io { out: &mut out, err: &mut err, stdin: &mut inp });
    let _ = out.flush();
    let _ = err.flush();
    code
}
