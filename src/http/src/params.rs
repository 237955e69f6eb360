//! Query strings the way Go's `net/url` reads them, and Consul's common
//! query options (`parseWait`, `parseConsistency`, `parseDC`, tokens).

use crate::duration::parse_go_duration;

/// A parsed query string: pairs in order, keys and values unescaped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

/// The query string is malformed. Consul's wrapper answers 500 with an
/// empty body (it runs `url.ParseQuery` and gives up on any error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery;

impl QueryParams {
    /// Go's `url.ParseQuery`: `&`-separated, `;` is an error (Go >= 1.17),
    /// `+` is a space, a bad `%` escape is an error.
    pub fn parse(raw: &str) -> Result<QueryParams, BadQuery> {
        let mut pairs = Vec::new();
        let mut failed = false;
        for part in raw.split('&') {
            if part.is_empty() {
                continue;
            }
            if part.contains(';') {
                failed = true;
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            match (query_unescape(k), query_unescape(v)) {
                (Some(k), Some(v)) => pairs.push((k, v)),
                _ => failed = true,
            }
        }
        if failed {
            Err(BadQuery)
        } else {
            Ok(QueryParams { pairs })
        }
    }

    /// `_, ok := query[name]`: present with any value, even empty.
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// `query.Get(name)`: the first value, "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every pair, in request order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `query[name]`: every value of a repeated parameter, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Go's `url.Values.Encode()`: keys sorted, values in order, escaped
    /// with `QueryEscape`. Consul echoes it in `Conflicting flags: ...`.
    pub fn encode(&self) -> String {
        let mut keys: Vec<&str> = self.pairs.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = String::new();
        for key in keys {
            for (k, v) in self.pairs.iter().filter(|(k, _)| k == key) {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str(&query_escape(k));
                out.push('=');
                out.push_str(&query_escape(v));
            }
        }
        out
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` decoding; `plus_is_space` for query components. Invalid escapes
/// fail like Go's `url.unescape`. Invalid UTF-8 is replaced (Go keeps the
/// bytes; its JSON encoder would print U+FFFD anyway).
fn unescape(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val)?;
                let lo = bytes.get(i + 2).copied().and_then(hex_val)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Go's `url.QueryUnescape`.
pub fn query_unescape(s: &str) -> Option<String> {
    unescape(s, true)
}

/// Go's `url.PathUnescape` (as used for `URL.Path`).
pub fn path_unescape(s: &str) -> Option<String> {
    unescape(s, false)
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
            }
        }
    }
    out
}

/// Read consistency a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// No flag (or `?leader`): served by the leader.
    Default,
    /// `?stale`: any server, even without a leader.
    Stale,
    /// `?consistent`: leader confirms with a quorum first.
    Consistent,
}

impl Consistency {
    /// `X-Consul-Effective-Consistency` value.
    pub fn header_value(self) -> &'static str {
        match self {
            Consistency::Default => "leader",
            Consistency::Stale => "stale",
            Consistency::Consistent => "consistent",
        }
    }
}

/// Consul's `QueryOptions` as filled by `HTTPHandlers.parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOptions {
    /// `?dc=`, "" when absent (meaning this agent's datacenter).
    pub datacenter: String,
    pub consistency: Consistency,
    /// `?index=`; 0 = do not block.
    pub min_index: u64,
    /// `?wait=` in nanoseconds; `None` = absent (server default applies).
    pub max_query_time_ns: Option<i64>,
}

/// A rejected query option: Consul writes a 400 with this exact body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadOption(pub String);

impl QueryOptions {
    /// `parse()` in Consul's `agent/http.go`, in its order: consistency
    /// first, then `wait`, then `index`.
    pub fn parse(q: &QueryParams, cache_control: Option<&str>) -> Result<QueryOptions, BadOption> {
        let stale = q.has("stale");
        let consistent = q.has("consistent");
        // A `max_stale` above zero also allows stale reads.
        let mut allow_stale = stale;
        let max_stale = q.get("max_stale");
        if !max_stale.is_empty() {
            match parse_go_duration(max_stale) {
                Some(d) if d > 0 => allow_stale = true,
                Some(_) => {}
                None => {
                    return Err(BadOption(format!(
                        "Invalid max_stale value {}",
                        ballast_store::go_quote(max_stale)
                    )))
                }
            }
        }
        if allow_stale && consistent {
            return Err(BadOption(
                "Cannot specify ?stale with ?consistent, conflicting semantics.".to_string(),
            ));
        }
        if consistent && q.has("cached") {
            return Err(BadOption(
                "Cannot specify ?cached with ?consistent, conflicting semantics.".to_string(),
            ));
        }
        if let Some(cc) = cache_control {
            check_cache_control(cc)?;
        }
        let mut max_query_time_ns = None;
        let wait = q.get("wait");
        if !wait.is_empty() {
            max_query_time_ns = Some(
                parse_go_duration(wait)
                    .ok_or_else(|| BadOption("Invalid wait time".to_string()))?,
            );
        }
        let mut min_index = 0;
        let index = q.get("index");
        if !index.is_empty() {
            min_index =
                parse_go_uint(index).ok_or_else(|| BadOption("Invalid index".to_string()))?;
        }
        let consistency = if consistent {
            Consistency::Consistent
        } else if allow_stale {
            Consistency::Stale
        } else {
            Consistency::Default
        };
        Ok(QueryOptions {
            datacenter: q.get("dc").to_string(),
            consistency,
            min_index,
            max_query_time_ns,
        })
    }
}

/// Consul's `parseCacheControl`: only the integer forms are validated.
fn check_cache_control(raw: &str) -> Result<(), BadOption> {
    for directive in raw.to_ascii_lowercase().split(',') {
        let d = directive.trim();
        let value = d
            .strip_prefix("max-age=")
            .or_else(|| d.strip_prefix("stale-if-error="));
        if let Some(v) = value {
            if parse_go_int(v).is_none() {
                return Err(BadOption("Invalid Cache-Control header.".to_string()));
            }
        }
    }
    Ok(())
}

/// Go's `strconv.ParseUint(s, 10, 64)`.
pub fn parse_go_uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `strconv.Atoi` (sign allowed).
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `strconv.ParseUint` error text, which Consul returns verbatim
/// (as a 500) for a bad `?flags=` or `?cas=`.
pub fn parse_uint_error(s: &str) -> String {
    let all_digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let why = if all_digits {
        "value out of range"
    } else {
        "invalid syntax"
    };
    format!(
        "strconv.ParseUint: parsing {}: {why}",
        ballast_store::go_quote(s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> QueryParams {
        QueryParams::parse(raw).unwrap()
    }

    #[test]
    fn presence_flags_and_values() {
        let p = q("recurse&keys=&stale=1&separator=%2F&x=a+b");
        assert!(p.has("recurse") && p.has("keys") && p.has("stale"));
        assert!(!p.has("raw"));
        assert_eq!(p.get("separator"), "/");
        assert_eq!(p.get("x"), "a b");
        assert_eq!(p.get("missing"), "");
    }

    #[test]
    fn malformed_queries_fail() {
        assert_eq!(QueryParams::parse("a=%zz"), Err(BadQuery));
        assert_eq!(QueryParams::parse("a=1;b=2"), Err(BadQuery));
        assert_eq!(QueryParams::parse("a=%4"), Err(BadQuery));
    }

    #[test]
    fn encode_sorts_keys() {
        assert_eq!(q("release=s&cas=1").encode(), "cas=1&release=s");
        assert_eq!(q("a=x y&a=2").encode(), "a=x+y&a=2");
    }

    #[test]
    fn options_follow_consul_order_and_messages() {
        let o = QueryOptions::parse(&q("index=10&wait=1500ms&dc=dc1"), None).unwrap();
        assert_eq!(o.min_index, 10);
        assert_eq!(o.max_query_time_ns, Some(1_500_000_000));
        assert_eq!(o.datacenter, "dc1");
        assert_eq!(o.consistency, Consistency::Default);
        let bad = |raw: &str| QueryOptions::parse(&q(raw), None).unwrap_err().0;
        assert_eq!(bad("index=x"), "Invalid index");
        assert_eq!(bad("index=-1"), "Invalid index");
        assert_eq!(bad("wait=10"), "Invalid wait time");
        assert_eq!(
            bad("stale&consistent"),
            "Cannot specify ?stale with ?consistent, conflicting semantics."
        );
        // consistency is checked before wait, wait before index
        assert_eq!(
            bad("stale&consistent&wait=x"),
            "Cannot specify ?stale with ?consistent, conflicting semantics."
        );
        assert_eq!(bad("wait=x&index=y"), "Invalid wait time");
        assert_eq!(
            QueryOptions::parse(&q(""), Some("max-age=abc"))
                .unwrap_err()
                .0,
            "Invalid Cache-Control header."
        );
        assert_eq!(
            QueryOptions::parse(&q("stale=0"), None)
                .unwrap()
                .consistency,
            Consistency::Stale
        );
    }

    #[test]
    fn uint_errors_read_like_go() {
        assert_eq!(
            parse_uint_error("abc"),
            "strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            parse_uint_error("99999999999999999999"),
            "strconv.ParseUint: parsing \"99999999999999999999\": value out of range"
        );
    }
}
