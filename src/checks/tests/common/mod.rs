//! Helpers for the probe tests: a glommio executor per test, and tiny
//! std-thread HTTP(S)/TCP servers on 127.0.0.1.
#![allow(dead_code)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};

/// Runs `fut` on a fresh glommio executor. A ticking task bounds every park
/// (the glommio 0.9 lost-wakeup work-around the other crates' tests use),
/// and a safety net fails a hung test instead of hanging cargo.
pub fn run<T: 'static>(fut: impl Future<Output = T> + 'static) -> T {
    raise_memlock();
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .expect("glommio executor");
    ex.run(async move {
        glommio::spawn_local(async {
            loop {
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
        })
        .detach();
        futures_lite::future::or(fut, async {
            glommio::timer::sleep(Duration::from_secs(120)).await;
            panic!("test did not finish within its safety net");
        })
        .await
    })
}

fn raise_memlock() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only touch the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim);
        }
    }
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Requests as received (head and body as text).
pub type Seen = Arc<Mutex<Vec<String>>>;

/// What the handler sees: method, target and the whole request text.
pub struct Request {
    pub method: String,
    pub target: String,
    pub text: String,
    pub body: String,
}

/// Serves every connection with `handler`'s raw response bytes, then closes.
pub fn http_server(
    handler: impl Fn(&Request) -> Vec<u8> + Send + Sync + 'static,
) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let seen = seen2.clone();
            let handler = handler.clone();
            std::thread::spawn(move || {
                if let Some(req) = read_request(&mut conn) {
                    seen.lock().unwrap().push(req.text.clone());
                    let _ = conn.write_all(&handler(&req));
                }
            });
        }
    });
    (addr, seen)
}

/// Reads one request (head, then a Content-Length body).
pub fn read_request(conn: &mut impl Read) -> Option<Request> {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        data.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&data).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).ok()?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut first = head.lines().next().unwrap_or("").split(' ');
    Some(Request {
        method: first.next().unwrap_or("").to_string(),
        target: first.next().unwrap_or("").to_string(),
        text: format!("{head}{body}"),
        body,
    })
}

/// `HTTP/1.1 <status>` with a Content-Length body.
pub fn response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub fn redirect(status: &str, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

/// A self-signed certificate for `localhost` and 127.0.0.1.
pub struct TestCert {
    pub der: rustls::pki_types::CertificateDer<'static>,
    pub key: Vec<u8>,
}

pub fn test_cert() -> TestCert {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    TestCert {
        der: ck.cert.der().clone(),
        key: ck.key_pair.serialize_der(),
    }
}

pub fn roots_for(cert: &TestCert) -> Arc<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    Arc::new(roots)
}

/// An HTTPS server answering every request with 200 and `body`; also good
/// as a TLS-only TCP endpoint (a client that only handshakes is fine).
pub fn https_server(cert: &TestCert, body: &'static str) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key.clone().into());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der.clone()], key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let config = config.clone();
            std::thread::spawn(move || serve_tls(conn, config, body));
        }
    });
    addr
}

fn serve_tls(tcp: TcpStream, config: Arc<rustls::ServerConfig>, body: &str) {
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    if read_request(&mut tls).is_some() {
        let _ = tls.write_all(&response("200 OK", body));
        tls.conn.send_close_notify();
        let _ = tls.flush();
    }
}
