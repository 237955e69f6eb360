//! Consul's flags are Go-style: `-flag`, `-flag=v`, `-flag v`, and flag parsing stops at the
//! first positional argument. clap wants `--flag`, so this rewrites each Go-style flag into a
//! single `--flag=v` token (a separate value is joined, so a value like `-1` can never be
//! mistaken for a flag), and puts `--` before the first positional argument so that everything
//! after it (`kv put key -data-that-starts-with-a-dash`) stays positional, as in Go.
use clap::Command;

/// Rewrites `args` (the arguments after the subcommand words) for the clap `cmd`.
pub fn go_flags_to_clap(cmd: &Command, args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            out.extend(args[i..].iter().cloned());
            return out;
        }
        let Some(body) = flag_body(arg) else {
            // First positional argument: Go stops parsing flags here.
            out.push("--".to_string());
            out.extend(args[i..].iter().cloned());
            return out;
        };
        let (name, inline_value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        match (inline_value, takes_separate_value(cmd, name)) {
            (Some(v), _) => out.push(format!("--{name}={v}")),
            (None, true) if i + 1 < args.len() => {
                out.push(format!("--{name}={}", args[i + 1]));
                i += 1;
            }
            (None, _) => out.push(format!("--{name}")),
        }
        i += 1;
    }
    out
}

/// The flag name (and `=value`) of a Go-style flag, or None for a positional argument. "-" and
/// negative numbers are positional.
fn flag_body(arg: &str) -> Option<&str> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    if body.is_empty() || body.starts_with('-') || body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(body)
}

/// True for flags that need a value (`-datacenter dc1`); false for booleans, which Go only
/// lets take a value with `=`, and for names clap does not know (clap reports those).
fn takes_separate_value(cmd: &Command, name: &str) -> bool {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(name))
        .map(|a| a.get_num_args().is_some_and(|n| n.min_values() > 0))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn cmd() -> Command {
        Command::new("t")
            .arg(Arg::new("server").long("server").num_args(0..=1).require_equals(true).default_missing_value("true"))
            .arg(Arg::new("datacenter").long("datacenter").num_args(1))
            .arg(Arg::new("http-port").long("http-port").num_args(1))
            .arg(Arg::new("rest").num_args(0..).action(ArgAction::Append))
    }

    fn run(args: &[&str]) -> Vec<String> {
        let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        go_flags_to_clap(&cmd(), &owned)
    }

    #[test]
    fn single_dash_flags_become_double_dash() {
        assert_eq!(run(&["-server", "-datacenter=dc2"]), vec!["--server", "--datacenter=dc2"]);
        assert_eq!(run(&["--server=false"]), vec!["--server=false"]);
    }

    #[test]
    fn separate_values_are_joined_including_negative_numbers() {
        assert_eq!(run(&["-datacenter", "dc2", "-http-port", "-1"]), vec!["--datacenter=dc2", "--http-port=-1"]);
    }

    #[test]
    fn bool_flags_do_not_swallow_the_next_argument() {
        assert_eq!(run(&["-server", "key"]), vec!["--server", "--", "key"]);
    }

    #[test]
    fn parsing_stops_at_first_positional_and_at_double_dash() {
        assert_eq!(run(&["key", "-data", "-server"]), vec!["--", "key", "-data", "-server"]);
        assert_eq!(run(&["-server", "--", "-x"]), vec!["--server", "--", "-x"]);
        assert_eq!(run(&["-5"]), vec!["--", "-5"]);
        assert_eq!(run(&["-"]), vec!["--", "-"]);
    }

    #[test]
    fn unknown_flags_are_passed_on_for_clap_to_reject() {
        assert_eq!(run(&["-nope", "x"]), vec!["--nope", "--", "x"]);
    }
}
