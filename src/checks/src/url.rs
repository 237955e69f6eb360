//! The part of Go's net/url an HTTP check needs: absolute http(s) URLs and
//! resolving a redirect's Location against the current URL.

/// An absolute http or https URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `http` or `https` (lower case).
    pub scheme: String,
    /// `user:pass` before the `@`, if any (sent as basic auth, as Go does).
    pub userinfo: Option<String>,
    /// Host as written, with brackets for IPv6 and the port if given:
    /// what the Host header carries.
    pub authority: String,
    /// Host without brackets or port: what is dialed and verified.
    pub host: String,
    pub port: u16,
    /// Path (at least `/`), then `?query` if there is one.
    pub target: String,
}

impl Url {
    /// Parses an absolute URL; errors are Go's texts for the failing part.
    pub fn parse(raw: &str) -> Result<Url, String> {
        let parse_err = |why: &str| format!("parse {}: {why}", ballast_store::go_quote(raw));
        let Some(sep) = raw.find("://") else {
            if raw.contains(':') && !raw.starts_with(':') {
                let scheme = &raw[..raw.find(':').unwrap_or(0)];
                return Err(format!(
                    "unsupported protocol scheme {}",
                    ballast_store::go_quote(scheme)
                ));
            }
            if raw.starts_with(':') {
                return Err(parse_err("missing protocol scheme"));
            }
            return Err("unsupported protocol scheme \"\"".to_string());
        };
        let scheme = raw[..sep].to_ascii_lowercase();
        if scheme.is_empty() {
            return Err(parse_err("missing protocol scheme"));
        }
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "unsupported protocol scheme {}",
                ballast_store::go_quote(&raw[..sep])
            ));
        }
        let rest = &raw[sep + 3..];
        let rest = rest.split('#').next().unwrap_or("");
        let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (mut authority, tail) = (&rest[..auth_end], &rest[auth_end..]);
        let mut userinfo = None;
        if let Some(at) = authority.rfind('@') {
            userinfo = Some(authority[..at].to_string());
            authority = &authority[at + 1..];
        }
        let (host, port_text) = split_authority(authority).map_err(|why| parse_err(&why))?;
        if host.is_empty() {
            return Err("http: no Host in request URL".to_string());
        }
        let port = match port_text {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| parse_err(&format!("invalid port \":{p}\" after host")))?,
            None if scheme == "https" => 443,
            None => 80,
        };
        let target = match tail.chars().next() {
            Some('/') => escape_target(tail),
            Some('?') => format!("/{}", escape_target(tail)),
            _ => "/".to_string(),
        };
        Ok(Url {
            scheme,
            userinfo,
            authority: authority.to_string(),
            host,
            port,
            target,
        })
    }

    /// Go's `URL.String()` for what we keep (userinfo is left out, as Go's
    /// client errors strip passwords).
    pub fn display(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.target)
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// `URL.Parse(location)` relative to this URL.
    pub fn join(&self, location: &str) -> Result<Url, String> {
        let loc = location.split('#').next().unwrap_or("");
        if let Some(colon) = loc.find(':') {
            let scheme = &loc[..colon];
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                return Url::parse(loc);
            }
        }
        if let Some(rest) = loc.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme));
        }
        let mut joined = self.clone();
        if loc.is_empty() {
            return Ok(joined);
        }
        let (path, query) = match loc.find('?') {
            Some(q) => (&loc[..q], Some(&loc[q..])),
            None => (loc, None),
        };
        let base_path = self.target.split('?').next().unwrap_or("/");
        let new_path = if path.is_empty() {
            base_path.to_string()
        } else if path.starts_with('/') {
            remove_dot_segments(path)
        } else {
            let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
            remove_dot_segments(&format!("{dir}{path}"))
        };
        let query = match query {
            Some(q) => q.to_string(),
            None if path.is_empty() => self
                .target
                .find('?')
                .map(|i| self.target[i..].to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        joined.target = escape_target(&format!("{new_path}{query}"));
        Ok(joined)
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_authority(authority: &str) -> Result<(String, Option<&str>), String> {
    if let Some(rest) = authority.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("missing ']' in host".to_string());
        };
        let host = rest[..end].to_string();
        let after = &rest[end + 1..];
        if after.is_empty() || after == ":" {
            return Ok((host, None));
        }
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, Some(p))),
            None => Err(format!(
                "invalid port {} after host",
                ballast_store::go_quote(after)
            )),
        };
    }
    match authority.rfind(':') {
        Some(i) if authority[i + 1..].is_empty() => Ok((authority[..i].to_string(), None)),
        Some(i) => Ok((authority[..i].to_string(), Some(&authority[i + 1..]))),
        None => Ok((authority.to_string(), None)),
    }
}

/// RFC 3986 5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

/// Percent-encodes what may not appear raw in a request target (spaces,
/// controls, non-ASCII), leaving existing escapes alone.
fn escape_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for &b in target.as_bytes() {
        if b <= b' '
            || b >= 0x7f
            || b == b'"'
            || b == b'<'
            || b == b'>'
            || b == b'\\'
            || b == b'^'
            || b == b'`'
            || b == b'{'
            || b == b'|'
            || b == b'}'
        {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_and_https() {
        let u = Url::parse("http://127.0.0.1:8080/health?x=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("127.0.0.1", 8080, "/health?x=1")
        );
        assert_eq!(u.authority, "127.0.0.1:8080");
        let u = Url::parse("HTTPS://[::1]/").unwrap();
        assert_eq!(
            (
                u.scheme.as_str(),
                u.host.as_str(),
                u.port,
                u.authority.as_str()
            ),
            ("https", "::1", 443, "[::1]")
        );
        let u = Url::parse("http://user:pw@example.com?q").unwrap();
        assert_eq!(
            (u.userinfo.as_deref(), u.target.as_str(), u.port),
            (Some("user:pw"), "/?q", 80)
        );
        assert_eq!(Url::parse("http://h/a b").unwrap().target, "/a%20b");
    }

    #[test]
    fn parse_errors_read_like_go() {
        assert_eq!(
            Url::parse("ftp://x/").unwrap_err(),
            "unsupported protocol scheme \"ftp\""
        );
        assert_eq!(
            Url::parse("localhost/x").unwrap_err(),
            "unsupported protocol scheme \"\""
        );
        assert_eq!(
            Url::parse("http:///x").unwrap_err(),
            "http: no Host in request URL"
        );
        assert_eq!(
            Url::parse("http://h:abc/").unwrap_err(),
            "parse \"http://h:abc/\": invalid port \":abc\" after host"
        );
    }

    #[test]
    fn joins_locations() {
        let base = Url::parse("http://h:1/a/b/c?q=1").unwrap();
        assert_eq!(base.join("/x").unwrap().display(), "http://h:1/x");
        assert_eq!(base.join("d").unwrap().display(), "http://h:1/a/b/d");
        assert_eq!(base.join("../d?z").unwrap().display(), "http://h:1/a/d?z");
        assert_eq!(base.join("?z=2").unwrap().display(), "http://h:1/a/b/c?z=2");
        assert_eq!(
            base.join("//other:2/p").unwrap().display(),
            "http://other:2/p"
        );
        assert_eq!(base.join("https://s/p").unwrap().display(), "https://s/p");
        assert_eq!(base.join("").unwrap().display(), "http://h:1/a/b/c?q=1");
    }
}
