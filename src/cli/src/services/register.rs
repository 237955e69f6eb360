//! `ballast services register` (Consul's command/services/register): registers services with
//! the local agent from definition files (JSON or HCL), or one service from flags.
use std::collections::BTreeMap;

use clap::{ArgAction, CommandFactory, Parser};

use crate::flags::{go_int, key_value, HttpFlags, NamespaceFlag, PartitionFlag};
use crate::help::command_help;
use crate::kv::connect;
use crate::parse::parse;
use crate::services::api::{ServiceAddress, ServiceRegistration};
use crate::services::from_files;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast services register [options] [FILE...]

  Register one or more services using the local agent API. Services can
  be registered from standard ballast configuration files (HCL or JSON) or
  using flags. The service is registered and the command returns. The caller
  must remember to call "ballast services deregister" or a similar API to
  deregister the service when complete.

      $ ballast services register web.json

  Additional flags and more advanced use cases are detailed below.
"#;

#[derive(Parser, Debug)]
#[command(name = "services register")]
struct RegisterArgs {
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    namespace: NamespaceFlag,
    #[command(flatten)]
    partition: PartitionFlag,
    /// ID of the service to register for arg-based registration. If this isn't set, it will
    /// default to the -name value.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    id: String,
    /// Name of the service to register for arg-based registration.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    name: String,
    /// Address of the service to register for arg-based registration.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    address: String,
    /// Port of the service to register for arg-based registration.
    #[arg(verbatim_doc_comment, long, value_name = "int", default_value = "0", hide_default_value = true, value_parser = go_int)]
    port: i64,
    /// Path to the Unix domain socket to register for arg-based registration (conflicts with
    /// address and port).
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    socket: String,
    /// Metadata to set on the service, formatted as key=value. This flag may be specified
    /// multiple times to set multiple meta fields.
    #[arg(verbatim_doc_comment, long, value_name = "value", value_parser = key_value, action = ArgAction::Append)]
    meta: Vec<(String, String)>,
    /// Tag to add to the service. This flag can be specified multiple times to set multiple
    /// tags.
    #[arg(verbatim_doc_comment, long, value_name = "value", action = ArgAction::Append)]
    tag: Vec<String>,
    /// Tagged address to set on the service, formatted as key=value. This flag may be
    /// specified multiple times to set multiple addresses.
    #[arg(verbatim_doc_comment, long = "tagged-address", value_name = "value", value_parser = key_value, action = ArgAction::Append)]
    tagged_address: Vec<(String, String)>,
    /// The services 'kind'
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    kind: String,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &RegisterArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<RegisterArgs>(args, &help(), io) else { return 1 };
    let mut tagged_addresses = BTreeMap::new();
    for (k, v) in &a.tagged_address {
        match parse_service_addr(v) {
            Ok(addr) => {
                tagged_addresses.insert(k.clone(), addr);
            }
            Err(e) => {
                io.error(&format!("Invalid Tagged Address: {e}"));
                return 1;
            }
        }
    }
    let from_flags = ServiceRegistration {
        kind: a.kind.clone(),
        id: a.id.clone(),
        name: a.name.clone(),
        address: a.address.clone(),
        port: a.port,
        socket_path: a.socket.clone(),
        tags: a.tag.clone(),
        // Later pairs win, as in Go's map.
        meta: a.meta.iter().cloned().collect(),
        tagged_addresses,
        ..ServiceRegistration::default()
    };
    if a.args.is_empty() && a.name.is_empty() {
        io.error("Service registration requires at least one argument or flags.");
        return 1;
    }
    if !a.args.is_empty() && !a.name.is_empty() {
        // Consul's wording, although it is -name that conflicts.
        io.error("Service registration requires arguments or -id, not both.");
        return 1;
    }
    let mut from_files_list = Vec::new();
    if !a.args.is_empty() {
        let Some(svcs) = from_files(&a.args, io) else { return 1 };
        from_files_list = svcs;
    }
    for svc in &mut from_files_list {
        combine_args(svc, &from_flags);
    }
    let Some(mut client) = connect(&a.http, io) else { return 1 };
    client.partition = Some(a.partition.partition.clone());
    let svcs = if from_files_list.is_empty() { vec![from_flags] } else { from_files_list };
    for svc in &svcs {
        if let Err(e) = client.agent_service_register(svc, &a.namespace.namespace) {
            io.error(&format!("Error registering service {:?}: {e}", svc.name));
            return 1;
        }
        io.info(&format!("Registered service: {}", svc.name));
    }
    0
}

/// Consul's CombineArgs: a flag fills a field the file left empty; meta and tagged
/// addresses from flags override the file's; tags from flags are appended.
fn combine_args(file: &mut ServiceRegistration, flags: &ServiceRegistration) {
    let fill = |dst: &mut String, src: &String| {
        if !src.is_empty() && dst.is_empty() {
            *dst = src.clone();
        }
    };
    fill(&mut file.id, &flags.id);
    fill(&mut file.name, &flags.name);
    fill(&mut file.address, &flags.address);
    fill(&mut file.kind, &flags.kind);
    fill(&mut file.socket_path, &flags.socket_path);
    if flags.port != 0 && file.port == 0 {
        file.port = flags.port;
    }
    file.meta.extend(flags.meta.iter().map(|(k, v)| (k.clone(), v.clone())));
    file.tagged_addresses.extend(flags.tagged_addresses.iter().map(|(k, v)| (k.clone(), v.clone())));
    file.tags.extend(flags.tags.iter().cloned());
}

/// api.ParseServiceAddr: net.SplitHostPort, then strconv.Atoi of the port, with Go's errors.
fn parse_service_addr(s: &str) -> Result<ServiceAddress, String> {
    let (host, port) = split_host_port(s)?;
    let port = go_atoi(port)?;
    Ok(ServiceAddress { address: host.to_string(), port })
}

/// Go's net.SplitHostPort.
fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let addr_err = |why: &str| format!("address {hostport}: {why}");
    let Some(i) = hostport.rfind(':') else { return Err(addr_err("missing port in address")) };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else { return Err(addr_err("missing ']' in address")) };
        if end + 1 == hostport.len() {
            return Err(addr_err("missing port in address"));
        }
        if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return Err(addr_err("too many colons in address"));
            }
            return Err(addr_err("missing port in address"));
        }
        host = &hostport[1..end];
        (j, k) = (1, end + 1);
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return Err(addr_err("too many colons in address"));
        }
        (j, k) = (0, 0);
    }
    if hostport[j..].contains('[') {
        return Err(addr_err("unexpected '[' in address"));
    }
    if hostport[k..].contains(']') {
        return Err(addr_err("unexpected ']' in address"));
    }
    Ok((host, &hostport[i + 1..]))
}

/// Go's strconv.Atoi errors.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>().map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_addresses_parse_like_go() {
        assert_eq!(parse_service_addr("10.0.0.1:80"), Ok(ServiceAddress { address: "10.0.0.1".into(), port: 80 }));
        assert_eq!(parse_service_addr("[::1]:8080"), Ok(ServiceAddress { address: "::1".into(), port: 8080 }));
        assert_eq!(parse_service_addr("10.0.0.1"), Err("address 10.0.0.1: missing port in address".into()));
        assert_eq!(parse_service_addr("::1:80"), Err("address ::1:80: too many colons in address".into()));
        assert_eq!(parse_service_addr("[::1"), Err("address [::1: missing ']' in address".into()));
        assert_eq!(parse_service_addr("[::1]x:1"), Err("address [::1]x:1: missing port in address".into()));
        assert_eq!(parse_service_addr("a]:1"), Err("address a]:1: unexpected ']' in address".into()));
        assert_eq!(parse_service_addr("h:x"), Err("strconv.Atoi: parsing \"x\": invalid syntax".into()));
        assert_eq!(parse_service_addr("h:"), Err("strconv.Atoi: parsing \"\": invalid syntax".into()));
    }

    #[test]
    fn flags_fill_in_what_files_leave_empty() {
        let mut file = ServiceRegistration {
            name: "web".into(),
            port: 80,
            tags: vec!["file".into()],
            meta: [("a".to_string(), "file".to_string())].into(),
            ..Default::default()
        };
        let flags = ServiceRegistration {
            id: "web-1".into(),
            name: "ignored".into(),
            port: 9090,
            address: "10.0.0.9".into(),
            tags: vec!["flag".into()],
            meta: [("a".to_string(), "flag".to_string()), ("b".to_string(), "flag".to_string())].into(),
            ..Default::default()
        };
        combine_args(&mut file, &flags);
        assert_eq!((file.id.as_str(), file.name.as_str(), file.port, file.address.as_str()), ("web-1", "web", 80, "10.0.0.9"));
        assert_eq!(file.tags, ["file", "flag"]);
        assert_eq!(file.meta["a"], "flag");
        assert_eq!(file.meta["b"], "flag");
    }
}
