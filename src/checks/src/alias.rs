//! Consul's `checks.CheckAlias` status rule (processChecks): the alias is
//! critical if any relevant check is critical, else warning if any is
//! warning, else passing. The agent feeds it the local checks (alias of a
//! local service) or the aliased node's checks from `Health.NodeChecks`.

use ballast_store::catalog::HealthCheck;
use ballast_store::go_quote;

use crate::outcome::{Outcome, CRITICAL, PASSING, WARNING};

/// The fields of a health check the alias rule reads.
pub trait AliasSource {
    fn node(&self) -> &str;
    fn service_id(&self) -> &str;
    fn name(&self) -> &str;
    fn status(&self) -> &str;
    fn output(&self) -> &str;
}

impl AliasSource for HealthCheck {
    fn node(&self) -> &str {
        &self.node
    }
    fn service_id(&self) -> &str {
        &self.service_id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn output(&self) -> &str {
        &self.output
    }
}

/// processChecks. `alias_node` is the definition's AliasNode (`""`: this
/// agent's local state, where every check is this node's);
/// `alias_service_id` its AliasService (`""`: alias the node itself).
/// Node-level checks count for a service alias too. Checks are read in the
/// order given (Consul walks a map: its order is arbitrary). When no check of
/// the service was seen, `service_exists(alias_service_id)` decides between
/// the computed status and "could not be found" (Consul asks the local
/// state, or `Catalog.NodeServices` for a remote node, treating an RPC error
/// as "exists").
pub fn alias_status<'a, C, I, F>(
    alias_node: &str,
    alias_service_id: &str,
    checks: I,
    service_exists: F,
) -> Outcome
where
    C: AliasSource + 'a,
    I: IntoIterator<Item = &'a C>,
    F: FnOnce(&str) -> bool,
{
    let mut health = PASSING;
    let mut msg = String::from("No checks found.");
    let mut service_found = false;
    for chk in checks {
        if !alias_node.is_empty() && !alias_node.eq_ignore_ascii_case(chk.node()) {
            continue;
        }
        let service_match = chk.service_id() == alias_service_id;
        if !chk.service_id().is_empty() && !service_match {
            continue;
        }
        if service_match {
            service_found = true;
        }
        let status = chk.status();
        if status == CRITICAL || status == WARNING {
            health = if status == CRITICAL {
                CRITICAL
            } else {
                WARNING
            };
            msg = format!(
                "Aliased check {} failing: {}",
                go_quote(chk.name()),
                chk.output()
            );
            if health == CRITICAL {
                break;
            }
        } else if health == PASSING {
            msg = String::from("All checks passing.");
        }
    }
    if !service_found && !service_exists(alias_service_id) {
        msg = format!("Service {alias_service_id} could not be found on node {alias_node}");
        health = CRITICAL;
    }
    Outcome {
        status: health,
        output: msg,
        immediate: true,
    }
}

/// runQuery: a failed `Health.NodeChecks` call, reported from the second
/// consecutive failure on (the first is retried silently).
pub fn alias_rpc_failure(error: &str) -> Outcome {
    Outcome::critical(format!("Failure checking aliased node or service: {error}")).immediately()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chk(node: &str, service: &str, name: &str, status: &str, output: &str) -> HealthCheck {
        HealthCheck {
            node: node.into(),
            service_id: service.into(),
            name: name.into(),
            check_id: name.into(),
            status: status.into(),
            output: output.into(),
            ..Default::default()
        }
    }

    fn run(
        node: &str,
        service: &str,
        checks: &[HealthCheck],
        exists: bool,
    ) -> (&'static str, String) {
        let o = alias_status(node, service, checks, |_| exists);
        (o.status, o.output)
    }

    #[test]
    fn no_checks_for_an_existing_service_is_passing() {
        assert_eq!(
            run("", "web", &[], true),
            (PASSING, "No checks found.".to_string())
        );
    }

    #[test]
    fn missing_service_is_critical() {
        assert_eq!(
            run("node1", "web", &[], false),
            (
                CRITICAL,
                "Service web could not be found on node node1".to_string()
            )
        );
        assert_eq!(
            run("", "web", &[], false).1,
            "Service web could not be found on node "
        );
    }

    #[test]
    fn passing_checks_of_the_service() {
        let checks = [
            chk("n", "web", "a", PASSING, ""),
            chk("n", "db", "b", CRITICAL, "down"),
        ];
        assert_eq!(
            run("", "web", &checks, false),
            (PASSING, "All checks passing.".to_string())
        );
    }

    #[test]
    fn warning_then_critical_ends_critical_with_its_text() {
        let checks = [
            chk("n", "web", "w", WARNING, "slow"),
            chk("n", "web", "p", PASSING, ""),
            chk("n", "web", "c\"x", CRITICAL, "dead"),
            chk("n", "web", "w2", WARNING, "later"),
        ];
        assert_eq!(
            run("", "web", &checks, true),
            (
                CRITICAL,
                "Aliased check \"c\\\"x\" failing: dead".to_string()
            )
        );
    }

    #[test]
    fn a_passing_check_does_not_hide_a_warning() {
        let checks = [
            chk("n", "web", "w", WARNING, "slow"),
            chk("n", "web", "p", PASSING, ""),
        ];
        assert_eq!(
            run("", "web", &checks, true),
            (WARNING, "Aliased check \"w\" failing: slow".to_string())
        );
    }

    #[test]
    fn node_checks_count_for_a_service_alias() {
        let checks = [
            chk("n", "", "serfHealth", CRITICAL, "Agent not live"),
            chk("n", "web", "p", PASSING, ""),
        ];
        assert_eq!(run("", "web", &checks, true).0, CRITICAL);
        // Only node checks, service unknown: the service was not found among the checks.
        let only_node = [chk("n", "", "serfHealth", PASSING, "")];
        assert_eq!(run("", "web", &only_node, false).0, CRITICAL);
    }

    #[test]
    fn node_alias_uses_node_checks_of_that_node_only() {
        let checks = [
            chk("other", "", "serfHealth", CRITICAL, "x"),
            chk("NODE1", "", "serfHealth", PASSING, ""),
            chk(
                "node1",
                "web",
                "svc",
                CRITICAL,
                "service checks do not count",
            ),
        ];
        assert_eq!(
            run("node1", "", &checks, false),
            (PASSING, "All checks passing.".to_string())
        );
    }

    #[test]
    fn rpc_failure_text() {
        let o = alias_rpc_failure("rpc error: No cluster leader");
        assert_eq!(o.status, CRITICAL);
        assert_eq!(
            o.output,
            "Failure checking aliased node or service: rpc error: No cluster leader"
        );
        assert!(o.immediate);
    }
}
