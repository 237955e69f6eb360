//! A tiny canned HTTP agent for the command tests: it serves one raw response per
//! connection, in order, and records each request (method, path, headers, body).
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub struct FakeAgent {
    pub addr: String,
    requests: mpsc::Receiver<Recorded>,
}

/// A raw HTTP response with a JSON content type.
pub fn response(status: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

/// 200 with an empty body, as Consul answers agent and keyring writes.
pub fn ok_empty() -> String {
    response("200 OK", "")
}

impl FakeAgent {
    pub fn start(responses: Vec<String>) -> FakeAgent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for canned in responses {
                let Ok((stream, _)) = listener.accept() else { return };
                let Some(req) = read_request(&stream) else { return };
                let _ = tx.send(req);
                let mut s = stream;
                let _ = s.write_all(canned.as_bytes());
            }
        });
        FakeAgent { addr, requests: rx }
    }

    /// `-http-addr=<this agent>`.
    pub fn flag(&self) -> String {
        format!("-http-addr={}", self.addr)
    }

    pub fn next(&self) -> Recorded {
        self.requests.recv().expect("the CLI sent a request")
    }

    /// The requests received so far, without waiting.
    pub fn drain(&self) -> Vec<Recorded> {
        self.requests.try_iter().collect()
    }
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        if k.eq_ignore_ascii_case("content-length") {
            len = v.trim().parse().ok()?;
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Recorded { method, path, headers, body })
}

pub struct Outcome {
    pub code: i32,
    pub out: String,
    pub err: String,
}

pub fn run(args: &[&str]) -> Outcome {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input: &[u8] = b"";
    let code = ballast_cli::run(&args, &mut ballast_cli::Io { out: &mut out, err: &mut err, stdin: &mut input });
    Outcome { code, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() }
}

/// A port nothing listens on: bind, learn the port, close.
pub fn dead_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("127.0.0.1:{port}")
}
