//! `ballast services ...`: Consul's commands for services registered with the local agent
//! (`register`, `deregister`), from flags or from service definition files.
pub mod api;
mod definition;
pub mod deregister;
mod file;
pub mod register;

use crate::services::api::ServiceRegistration;
use crate::Io;

/// `ballast services` alone (command/services).
pub const SERVICES_HELP: &str = r#"
Usage: ballast services <subcommand> [options] [args]

  This command has subcommands for interacting with services. The subcommands
  default to working with services registered with the local agent. Please see
  the "ballast catalog" command for interacting with the entire catalog.

  For more examples, ask for subcommand help or view the documentation.
"#;

/// The services in `files`, with the loader's warnings shown (Ui.Warn writes to stderr); None
/// after printing Consul's error.
pub(crate) fn from_files(files: &[String], io: &mut Io) -> Option<Vec<ServiceRegistration>> {
    match file::services_from_files(files) {
        Ok((svcs, warnings)) => {
            warnings.iter().for_each(|w| io.error(w));
            Some(svcs)
        }
        Err(e) => {
            io.error(&format!("Error: {e}"));
            None
        }
    }
}
