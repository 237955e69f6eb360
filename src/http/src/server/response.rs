//! Responses and their wire form, shaped like Go's `net/http` output so
//! nothing distinguishes us from Consul: handler headers in sorted order
//! with Go-canonical names, then `Date`, `Content-Length`, a sniffed
//! `Content-Type` for plain-text bodies, and `Connection: close`.

use std::time::{SystemTime, UNIX_EPOCH};

/// An HTTP response before serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Header names exactly as written on the wire (Go-canonical case).
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// An empty response with `status`.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Consul's plain-text error: status + body, type left to sniffing.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into().into_bytes(),
        }
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body,
        }
    }

    /// Set (replace) a header.
    pub fn set_header(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    /// The value of a header, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// Go's `http.StatusText` for the codes we can emit.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// What `http.DetectContentType` says about a body Consul wrote without a
/// type (its error texts): plain text, or binary.
fn sniff_content_type(body: &[u8]) -> &'static str {
    let head = &body[..body.len().min(512)];
    let trimmed = head
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' '));
    let rest = trimmed.map_or(&[][..], |i| &head[i..]);
    if rest.first() == Some(&b'<') {
        return "text/html; charset=utf-8";
    }
    let binary = head.iter().any(|&b| {
        b <= 0x08 || b == 0x0b || (0x0e..=0x1a).contains(&b) || (0x1c..=0x1f).contains(&b)
    });
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// Serialize `resp`. `head_only` (HEAD) keeps `Content-Length` but omits
/// the body, as Go does.
pub fn encode_response(resp: &Response, close: bool, head_only: bool, out: &mut Vec<u8>) {
    out.reserve(256 + resp.body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(resp.status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason_phrase(resp.status).as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut sorted: Vec<&(&'static str, String)> = resp.headers.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in sorted {
        push_header(out, name, value);
    }
    push_header(out, "Date", &http_date(SystemTime::now()));
    push_header(out, "Content-Length", &resp.body.len().to_string());
    if !resp.body.is_empty() && !resp.has_header("Content-Type") {
        push_header(out, "Content-Type", sniff_content_type(&resp.body));
    }
    if close {
        push_header(out, "Connection", "close");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(&resp.body);
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    // Header values are ours; strip CR/LF defensively so a value can never
    // split the head.
    out.extend(value.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
    out.extend_from_slice(b"\r\n");
}

/// The bare responses Go's server writes itself for unparseable requests
/// (no `Date`, no length: the connection closes after the body).
pub fn protocol_error(status: u16, body: &str) -> Vec<u8> {
    let phrase = reason_phrase(status);
    format!(
        "HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{body}"
    )
    .into_bytes()
}

/// RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    // 1970-01-01 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let (year, month, day) = civil_from_days(days);
    let month_name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {day:02} {month_name} {year} {h:02}:{m:02}:{s:02} GMT")
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31); Howard
/// Hinnant's proleptic Gregorian algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_imf_fixdate() {
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_208_000); // 2024-02-29 12:00
        assert_eq!(http_date(t), "Thu, 29 Feb 2024 12:00:00 GMT");
    }

    #[test]
    fn wire_form_orders_headers_like_go() {
        let mut r = Response::text(400, "Invalid index");
        r.set_header("X-Consul-Index", "5");
        r.set_header("Vary", "Accept-Encoding");
        let mut out = Vec::new();
        encode_response(&r, true, false, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with(
            "HTTP/1.1 400 Bad Request\r\nVary: Accept-Encoding\r\nX-Consul-Index: 5\r\nDate: "
        ));
        assert!(s.contains("\r\nContent-Length: 13\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nInvalid index"));
    }

    #[test]
    fn head_keeps_length_drops_body() {
        let r = Response::json(200, b"[]".to_vec());
        let mut out = Vec::new();
        encode_response(&r, false, true, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("Content-Length: 2\r\n") && s.ends_with("\r\n\r\n"));
    }
}
