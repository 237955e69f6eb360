//! Shared helpers for the end-to-end tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use ballast_http::testing::{ClientResponse, TestClient};

pub async fn connect(addr: SocketAddr) -> TestClient {
    TestClient::connect(addr).await.expect("connect")
}

pub async fn req(c: &mut TestClient, method: &str, target: &str, body: &[u8]) -> ClientResponse {
    c.request(method, target, body).await.expect("request")
}

/// One request on a fresh connection.
pub async fn once(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> ClientResponse {
    let mut c = connect(addr).await;
    req(&mut c, method, target, body).await
}

pub fn index_of(r: &ClientResponse) -> u64 {
    r.header("X-Consul-Index")
        .expect("X-Consul-Index")
        .parse()
        .expect("numeric index")
}

/// Poll `cond` (yielding to the executor) until it holds; fails the test
/// after a generous bound so a bug cannot hang the suite.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition never held: {what}");
}
