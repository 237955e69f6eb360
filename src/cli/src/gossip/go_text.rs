//! Go's renderings the membership commands print: serf's member status names, net.TCPAddr's
//! `host:port`, and regexp's compile errors.
use std::net::IpAddr;

/// serf.MemberStatus.String(). Serf panics on a number it does not know; a status from the
/// network must not crash the CLI, so those print as "unknown".
pub fn member_status(status: i64) -> &'static str {
    match status {
        0 => "none",
        1 => "alive",
        2 => "leaving",
        3 => "left",
        4 => "failed",
        _ => "unknown",
    }
}

/// net.TCPAddr{IP: net.ParseIP(addr), Port: port}.String(): IPv6 in brackets, IPv4-mapped
/// IPv6 printed as IPv4, and an address Go cannot parse printed as empty.
pub fn tcp_addr(addr: &str, port: u16) -> String {
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => format!("{v4}:{port}"),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("{v4}:{port}"),
            None => format!("[{v6}]:{port}"),
        },
        Err(_) => format!(":{port}"),
    }
}

/// Compiles `pattern` as Go's regexp.Compile would accept it (unanchored search), with Go's
/// error text ("error parsing regexp: missing closing ): `(`") for the common mistakes.
pub fn compile_regexp(pattern: &str) -> Result<regex::Regex, String> {
    if let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) {
        return Err(go_regexp_error(pattern, &e));
    }
    regex::Regex::new(pattern).map_err(|e| format!("error parsing regexp: {}", first_line(&e.to_string())))
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim_start_matches("error: ")
}

fn go_regexp_error(pattern: &str, e: &regex_syntax::ast::Error) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let span = e.span();
    let fragment = pattern.get(span.start.offset..span.end.offset).unwrap_or("");
    let from_span_to_end = pattern.get(span.start.offset..).unwrap_or("");
    let (code, arg) = match e.kind() {
        // Go names the whole expression for unbalanced parentheses.
        K::GroupUnclosed => ("missing closing )", pattern),
        K::GroupUnopened => ("unexpected )", pattern),
        K::ClassUnclosed => ("missing closing ]", from_span_to_end),
        K::RepetitionMissing => ("missing argument to repetition operator", repetition_operator(from_span_to_end)),
        K::RepetitionCountInvalid | K::RepetitionCountUnclosed | K::RepetitionCountDecimalEmpty => {
            ("invalid repeat count", fragment)
        }
        K::ClassRangeInvalid | K::ClassRangeLiteral => ("invalid character class range", fragment),
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
        K::EscapeUnrecognized | K::EscapeHexEmpty | K::EscapeHexInvalid | K::EscapeHexInvalidDigit
        | K::ClassEscapeInvalid | K::UnsupportedBackreference => ("invalid escape sequence", fragment),
        K::GroupNameDuplicate { .. } | K::GroupNameEmpty | K::GroupNameInvalid | K::GroupNameUnexpectedEof => {
            ("invalid named capture", fragment)
        }
        K::FlagUnrecognized | K::FlagDanglingNegation | K::FlagDuplicate { .. } | K::FlagRepeatedNegation { .. }
        | K::FlagUnexpectedEof | K::UnsupportedLookAround => ("invalid or unsupported Perl syntax", fragment),
        K::UnicodeClassInvalid => ("invalid character class range", fragment),
        K::NestLimitExceeded(_) => ("expression nests too deeply", ""),
        _ => return format!("error parsing regexp: {}", e.kind()),
    };
    format!("error parsing regexp: {code}: `{arg}`")
}

/// The repetition operator at the start of `s` (`*`, `+`, `?` or `{n,m}`), as Go names it.
fn repetition_operator(s: &str) -> &str {
    let len = if s.starts_with('{') {
        s.find('}').map_or(s.len(), |i| i + 1)
    } else {
        s.chars().next().map_or(0, char::len_utf8)
    };
    &s[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_go_prints_them() {
        assert_eq!(tcp_addr("10.0.0.1", 8301), "10.0.0.1:8301");
        assert_eq!(tcp_addr("::1", 8301), "[::1]:8301");
        assert_eq!(tcp_addr("::ffff:10.0.0.1", 8301), "10.0.0.1:8301");
        assert_eq!(tcp_addr("nonsense", 8301), ":8301");
    }

    #[test]
    fn statuses() {
        let names: Vec<&str> = (0..6).map(member_status).collect();
        assert_eq!(names, ["none", "alive", "leaving", "left", "failed", "unknown"]);
    }

    #[test]
    fn regexp_errors_in_go_words() {
        assert_eq!(compile_regexp("(").unwrap_err(), "error parsing regexp: missing closing ): `(`");
        assert_eq!(compile_regexp("a)").unwrap_err(), "error parsing regexp: unexpected ): `a)`");
        assert_eq!(compile_regexp("[a").unwrap_err(), "error parsing regexp: missing closing ]: `[a`");
        assert_eq!(compile_regexp("*").unwrap_err(), "error parsing regexp: missing argument to repetition operator: `*`");
        assert_eq!(compile_regexp("+x").unwrap_err(), "error parsing regexp: missing argument to repetition operator: `+`");
        assert!(compile_regexp("ali|fail").unwrap().is_match("failed"));
    }
}
