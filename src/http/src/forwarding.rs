//! The wire form of a client agent's forwarded request and of the server's
//! answer. A client agent sends the request it received, as HTTP/1.1, over a
//! connection to a server's RPC port; the server serves it like any other
//! request and the client relays the response unchanged.

use crate::server::{Body, Request, Response};

/// Request headers that carry meaning for the server; the rest are the
/// client's business with its own agent.
pub fn encode_forwarded_request(req: &Request) -> Vec<u8> {
    let body: &[u8] = match &req.body {
        Body::Complete(b) => b,
        Body::TooLarge { .. } => &[],
    };
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(req.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(req.raw_path.as_bytes());
    if !req.raw_query.is_empty() {
        out.push(b'?');
        out.extend_from_slice(req.raw_query.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ballast\r\n");
    let mut header = |name: &str, value: &Option<String>| {
        if let Some(v) = value {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend(v.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
            out.extend_from_slice(b"\r\n");
        }
    };
    header("X-Consul-Token", &req.consul_token);
    header("Authorization", &req.authorization);
    header("Cache-Control", &req.cache_control);
    header("X-Consul-Partition", &req.consul_partition);
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Response headers a server sets that the client relays. `Date`,
/// `Content-Length` and `Connection` are written afresh by the client.
const RELAYED: &[&str] = &[
    "Age",
    "Allow",
    "Cache-Control",
    "Content-Type",
    "Location",
    "Vary",
    "X-Cache",
    "X-Consul-Default-Acl-Policy",
    "X-Consul-Effective-Consistency",
    "X-Consul-Index",
    "X-Consul-Knownleader",
    "X-Consul-Lastcontact",
    "X-Consul-Query-Backend",
    "X-Consul-Results-Filtered-By-Acls",
    "X-Consul-Translate-Addresses",
];

/// Most headers a forwarded response may carry.
const MAX_HEADERS: usize = 32;

/// Parses a server's response at the start of `buf`: `Ok(None)` until the
/// whole response (head and `Content-Length` body) is there, else the
/// response and how many bytes it took. A response without a length, or
/// with a body over `max_body`, is an error (the connection is dropped). The answer to a
/// HEAD request (`head_only`) has a length but no body.
pub fn decode_forwarded_response(buf: &[u8], max_body: usize, head_only: bool) -> Result<Option<(Response, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("bad response from server: {e}")),
    };
    let status = parsed.code.ok_or("bad response from server: no status")?;
    let mut length: Option<usize> = None;
    let mut resp = Response::empty(status);
    for h in parsed.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse::<usize>().ok());
            length = Some(v.ok_or("bad response from server: bad Content-Length")?);
        } else if let Some(name) = RELAYED.iter().find(|n| n.eq_ignore_ascii_case(h.name)) {
            if let Ok(v) = std::str::from_utf8(h.value) {
                resp.headers.push((name, v.to_string()));
            }
        }
    }
    let length = length.ok_or("bad response from server: no Content-Length")?;
    if length > max_body {
        return Err(format!("response from server too large: {length} bytes"));
    }
    if head_only {
        // No body follows a HEAD answer. (The client's own answer then says
        // `Content-Length: 0` rather than the server's length: a known difference.)
        resp.body = Vec::new();
        return Ok(Some((resp, head_len)));
    }
    if buf.len() < head_len + length {
        return Ok(None);
    }
    resp.body = buf[head_len..head_len + length].to_vec();
    Ok(Some((resp, head_len + length)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::response::encode_response;

    fn request(body: &[u8]) -> Request {
        Request {
            method: "PUT".into(),
            raw_path: "/v1/kv/a%20b".into(),
            path: "/v1/kv/a b".into(),
            raw_query: "cas=3".into(),
            consul_token: Some("tok".into()),
            authorization: None,
            cache_control: None,
            consul_partition: None,
            accept: None,
            body: Body::Complete(body.to_vec()),
        }
    }

    #[test]
    fn request_reparses_with_the_server_parser() {
        let bytes = encode_forwarded_request(&request(b"hello"));
        let (head, len) = crate::parse_head(&bytes).unwrap().unwrap();
        assert_eq!(head.method, "PUT");
        assert_eq!(head.raw_path, "/v1/kv/a%20b");
        assert_eq!(head.raw_query, "cas=3");
        assert_eq!(head.consul_token.as_deref(), Some("tok"));
        assert_eq!(head.content_length, Some(5));
        assert_eq!(&bytes[len..], b"hello");
    }

    #[test]
    fn response_round_trips_and_partial_waits() {
        let mut r = Response::json(200, b"[1]".to_vec());
        r.set_header("X-Consul-Index", "42");
        r.set_header("X-Consul-Knownleader", "true");
        let mut wire = Vec::new();
        encode_response(&r, false, false, &mut wire);
        for cut in 0..wire.len() {
            assert!(decode_forwarded_response(&wire[..cut], 1 << 20, false).unwrap().is_none());
        }
        let (back, used) = decode_forwarded_response(&wire, 1 << 20, false).unwrap().unwrap();
        assert_eq!(used, wire.len());
        assert_eq!(back.status, 200);
        assert_eq!(back.body, b"[1]");
        assert_eq!(back.header("X-Consul-Index"), Some("42"));
        assert_eq!(back.header("Content-Type"), Some("application/json"));
        assert!(decode_forwarded_response(&wire, 2, false).is_err());
        let mut head = Vec::new();
        encode_response(&r, false, true, &mut head);
        let (h, used) = decode_forwarded_response(&head, 1 << 20, true).unwrap().unwrap();
        assert_eq!((h.status, used, h.body.len()), (200, head.len(), 0));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut seed = 7u64;
        for n in 0..5000 {
            let len = n % 200;
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) as u8
                })
                .collect();
            let _ = decode_forwarded_response(&buf, 1 << 20, n % 2 == 0);
            let mut prefixed = b"HTTP/1.1 200 OK\r\nContent-Length: ".to_vec();
            prefixed.extend_from_slice(&buf);
            let _ = decode_forwarded_response(&prefixed, 1 << 20, false);
        }
    }
}
