//! `ballast maint` (Consul's command/maint): turns node or service maintenance mode on or off,
//! or with neither -enable nor -disable lists what is in maintenance.
pub mod api;

use clap::{CommandFactory, Parser};

use crate::flags::{go_bool, ClientHttpFlags};
use crate::gossip::client;
use crate::help::command_help;
use crate::maint::api::MaintTarget;
use crate::parse::parse;
use crate::Io;

/// The check ID of node maintenance (structs.NodeMaint).
const NODE_MAINT_CHECK: &str = "_node_maintenance";
/// The check ID prefix of service maintenance (structs.ServiceMaintPrefix).
const SERVICE_MAINT_PREFIX: &str = "_service_maintenance:";

const USAGE: &str = r#"
Usage: ballast maint [options]

  Places a node or service into maintenance mode. During maintenance mode,
  the node or service will be excluded from all queries through the DNS
  or API interfaces, effectively taking it out of the pool of available
  nodes. This is done by registering an additional critical health check.

  When enabling maintenance mode for a node or service, you may optionally
  specify a reason string. This string will appear in the "Notes" field
  of the critical health check which is registered against the node or
  service. If no reason is provided, a default value will be used.

  Maintenance mode is persistent, and will be restored in the event of an
  agent restart. It is therefore required to disable maintenance mode on
  a given node or service before it will be placed back into the pool.

  By default, we operate on the node as a whole. By specifying the
  "-service" argument, this behavior can be changed to enable or disable
  only a specific service.

  If no arguments are given, the agent's maintenance status will be shown.
  This will return blank if nothing is currently under maintenance.
"#;

#[derive(Parser, Debug)]
#[command(name = "maint")]
struct MaintArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    /// Disable maintenance mode.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    disable: bool,
    /// Enable maintenance mode.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    enable: bool,
    /// Text describing the maintenance reason.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    reason: String,
    /// Control maintenance mode for a specific service ID.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    service: String,
    /// Go's flag package ignores what follows the flags; kept so extra words are not an error.
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &MaintArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<MaintArgs>(args, &help(), io) else { return 1 };
    if a.enable && a.disable {
        io.error("Only one of -enable or -disable may be provided");
        return 1;
    }
    if !a.enable && !a.reason.is_empty() {
        io.error("Reason may only be provided with -enable");
        return 1;
    }
    if !a.enable && !a.disable && !a.service.is_empty() {
        io.error("Service requires either -enable or -disable");
        return 1;
    }
    let Some(api) = client(&a.http, io) else { return 1 };
    // Consul asks for the node name first whatever the mode, so an unreachable agent fails
    // the same way everywhere.
    let node_name = match api.agent_node_name() {
        Ok(n) => n,
        Err(e) => {
            io.error(&format!("Error querying Consul agent: {e}"));
            return 1;
        }
    };
    if !a.enable && !a.disable {
        let checks = match api.agent_checks() {
            Ok(c) => c,
            Err(e) => {
                io.error(&format!("Error getting checks: {e}"));
                return 1;
            }
        };
        maintenance_lines(&node_name, checks.values()).iter().for_each(|l| io.info(l));
        return 0;
    }
    let target = if a.service.is_empty() { MaintTarget::Node } else { MaintTarget::Service(&a.service) };
    let (verb, done) = if a.enable { ("enabling", "enabled") } else { ("disabling", "disabled") };
    if let Err(e) = api.agent_maintenance(target, a.enable, &a.reason) {
        let what = match target {
            MaintTarget::Node => "node",
            MaintTarget::Service(_) => "service",
        };
        io.error(&format!("Error {verb} {what} maintenance: {e}"));
        return 1;
    }
    match target {
        MaintTarget::Node => io.info(&format!("Node maintenance is now {done}")),
        MaintTarget::Service(id) => io.info(&format!("Service maintenance is now {done} for {id:?}")),
    }
    0
}

/// Consul's list mode: a block per maintenance check, each followed by a blank line. Consul
/// walks a Go map (random order); ballast goes by check ID, so the node comes first.
fn maintenance_lines<'a>(node_name: &str, checks: impl Iterator<Item = &'a api::AgentCheck>) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for check in checks {
        if check.check_id == NODE_MAINT_CHECK {
            lines.extend(["Node:".to_string(), format!("  Name:   {node_name}"), format!("  Reason: {}", check.notes), String::new()]);
        } else if check.check_id.starts_with(SERVICE_MAINT_PREFIX) {
            lines.extend([
                "Service:".to_string(),
                format!("  ID:     {}", check.service_id),
                format!("  Reason: {}", check.notes),
                String::new(),
            ]);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::api::AgentCheck;
    use super::*;

    fn check(id: &str, service: &str, notes: &str) -> AgentCheck {
        AgentCheck { check_id: id.into(), service_id: service.into(), notes: notes.into() }
    }

    #[test]
    fn listing_shows_node_and_service_maintenance_only() {
        let checks = [
            check("_node_maintenance", "", "rebooting"),
            check("_service_maintenance:web", "web", "deploy"),
            check("serfHealth", "", ""),
        ];
        assert_eq!(
            maintenance_lines("n1", checks.iter()).join("\n"),
            "Node:\n  Name:   n1\n  Reason: rebooting\n\nService:\n  ID:     web\n  Reason: deploy\n"
        );
        assert!(maintenance_lines("n1", [check("serfHealth", "", "")].iter()).is_empty());
    }
}
