//! Parses one command's arguments: the Go-flag pre-pass, then clap, with clap's errors turned
//! into Go's flag-package wording and Consul's exit code (1) after printing the help.
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::flags::FlagValueError;
use crate::prepass::go_flags_to_clap;
use crate::Io;

/// Parses `args` for command `T`; on error prints Go-style text and `help` to stderr and
/// returns the exit code to use.
pub fn parse<T: CommandFactory + FromArgMatches>(
    args: &[String],
    help: &str,
    io: &mut Io,
) -> Result<(T, ArgMatches), i32> {
    parse_with(args, help, io, |_| None)
}

/// As [`parse`], with `explain` given the chance to word an unknown flag's error (the agent
/// names Consul flags ballast does not have).
pub fn parse_with<T: CommandFactory + FromArgMatches>(
    args: &[String],
    help: &str,
    io: &mut Io,
    explain: impl Fn(&str) -> Option<String>,
) -> Result<(T, ArgMatches), i32> {
    try_parse(args, &explain).map_err(|msg| {
        io.error(&msg);
        let _ = std::io::Write::write_all(io.err, help.as_bytes());
        1
    })
}

/// As [`parse`], for the commands that also report the failure themselves: Consul's operator
/// commands print `Failed to parse args: <error>` after the flag package's output.
pub fn parse_reported<T: CommandFactory + FromArgMatches>(
    args: &[String],
    help: &str,
    io: &mut Io,
) -> Result<(T, ArgMatches), i32> {
    try_parse(args, &|_: &str| None).map_err(|msg| {
        io.error(&msg);
        let _ = std::io::Write::write_all(io.err, help.as_bytes());
        io.error(&format!("Failed to parse args: {msg}"));
        1
    })
}

/// Parses `args` for `T`; the error is Go's flag-package text.
fn try_parse<T: CommandFactory + FromArgMatches>(
    args: &[String],
    explain: &impl Fn(&str) -> Option<String>,
) -> Result<(T, ArgMatches), String> {
    let mut cmd = T::command().no_binary_name(true).disable_help_flag(true).disable_version_flag(true);
    // Building fills in each argument's value counts, which the pre-pass reads.
    cmd.build();
    let converted = go_flags_to_clap(&cmd, args);
    cmd.try_get_matches_from(converted)
        .and_then(|m| T::from_arg_matches(&m).map(|t| (t, m)))
        .map_err(|e| go_flag_error(&e, explain))
}

fn context_str(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// Go's flag package messages: "flag provided but not defined: -x",
/// "invalid value \"v\" for flag -x: parse error", "flag needs an argument: -x".
fn go_flag_error(e: &clap::Error, explain: &impl Fn(&str) -> Option<String>) -> String {
    let flag_name = |raw: String| {
        // clap shows "--name <value>" or "--name=<value>"; Go shows "-name".
        let name = raw.trim_start_matches('-').split(['=', ' ', '[', '<']).next().unwrap_or("").to_string();
        name
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let name = context_str(e, ContextKind::InvalidArg).map(flag_name).unwrap_or_default();
            explain(&name).unwrap_or_else(|| format!("flag provided but not defined: -{name}"))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let name = context_str(e, ContextKind::InvalidArg).map(flag_name).unwrap_or_default();
            let value = context_str(e, ContextKind::InvalidValue).unwrap_or_default();
            if value.is_empty() {
                format!("flag needs an argument: -{name}")
            } else {
                // A flag.Value's own error (FlagMapValue, ParseInt ranges) is shown as Go does;
                // every other parser failure is the flag package's "parse error".
                let why = std::error::Error::source(e)
                    .and_then(|s| s.downcast_ref::<FlagValueError>())
                    .map_or_else(|| "parse error".to_string(), |f| f.0.clone());
                format!("invalid value {value:?} for flag -{name}: {why}")
            }
        }
        ErrorKind::NoEquals | ErrorKind::TooFewValues => {
            let name = context_str(e, ContextKind::InvalidArg).map(flag_name).unwrap_or_default();
            format!("flag needs an argument: -{name}")
        }
        _ => e.render().to_string().lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_string(),
    }
}
