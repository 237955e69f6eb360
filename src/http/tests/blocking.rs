//! Blocking queries: wake on the watched key only, loop on spurious wakes,
//! time out with the unchanged index.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ballast_http::testing::{run_with_server, ClientResponse};
use ballast_http::{Backend as _, ServerOptions};
use common::*;

type Slot = Rc<RefCell<Option<ClientResponse>>>;

/// Start a blocking GET on its own connection; the response lands in the slot.
fn park(addr: std::net::SocketAddr, target: String) -> Slot {
    let slot: Slot = Rc::new(RefCell::new(None));
    let out = slot.clone();
    glommio::spawn_local(async move {
        let r = once(addr, "GET", &target, b"").await;
        *out.borrow_mut() = Some(r);
    })
    .detach();
    slot
}

#[test]
fn returns_on_own_key_not_on_others() {
    run_with_server(ServerOptions::default(), |backend, addr, opts| async move {
        let mut c = connect(addr).await;
        req(&mut c, "PUT", "/v1/kv/watched", b"v1").await;
        let idx = index_of(&req(&mut c, "GET", "/v1/kv/watched", b"").await);
        let slot = park(addr, format!("/v1/kv/watched?index={idx}&wait=60s"));
        let stats = opts.stats.clone();
        eventually("parked", || stats.parked.get() == 1).await;

        // Other keys, including one sharing the prefix, do not wake it.
        req(&mut c, "PUT", "/v1/kv/other", b"x").await;
        req(&mut c, "PUT", "/v1/kv/watchedX", b"x").await;
        req(&mut c, "DELETE", "/v1/kv/other", b"").await;
        glommio::timer::sleep(Duration::from_millis(50)).await;
        assert!(slot.borrow().is_none(), "must still be parked");
        assert_eq!(opts.stats.parked.get(), 1);
        assert_eq!(backend.watches().len(), 1);

        req(&mut c, "PUT", "/v1/kv/watched", b"v2").await;
        eventually("answered", || slot.borrow().is_some()).await;
        let r = slot.borrow_mut().take().unwrap();
        assert_eq!(r.status, 200);
        assert!(index_of(&r) > idx);
        assert_eq!(r.json()[0]["Value"], "djI=");
        assert_eq!(opts.stats.parked.get(), 0);
    });
}

#[test]
fn unchanged_rewrite_does_not_return() {
    run_with_server(
        ServerOptions::default(),
        |_backend, addr, opts| async move {
            let mut c = connect(addr).await;
            req(&mut c, "PUT", "/v1/kv/same", b"v").await;
            let idx = index_of(&req(&mut c, "GET", "/v1/kv/same", b"").await);
            let slot = park(addr, format!("/v1/kv/same?index={idx}"));
            let stats = opts.stats.clone();
            eventually("parked", || stats.parked.get() == 1).await;
            // Identical content: ModifyIndex unchanged, so even if the watcher
            // fires the query re-checks and parks again.
            req(&mut c, "PUT", "/v1/kv/same", b"v").await;
            glommio::timer::sleep(Duration::from_millis(50)).await;
            assert!(slot.borrow().is_none());
            eventually("parked again", || stats.parked.get() == 1).await;
            req(&mut c, "DELETE", "/v1/kv/same", b"").await;
            eventually("answered", || slot.borrow().is_some()).await;
            let r = slot.borrow_mut().take().unwrap();
            assert_eq!(r.status, 404, "deleted key: 404 with a higher index");
            assert!(index_of(&r) > idx);
        },
    );
}

#[test]
fn wait_timeout_returns_unchanged_index() {
    run_with_server(ServerOptions::default(), |_backend, addr, _| async move {
        let mut c = connect(addr).await;
        req(&mut c, "PUT", "/v1/kv/t", b"v").await;
        let idx = index_of(&req(&mut c, "GET", "/v1/kv/t", b"").await);
        let r = req(
            &mut c,
            "GET",
            &format!("/v1/kv/t?index={idx}&wait=30ms"),
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(index_of(&r), idx);
        // index=0 never blocks; an index ahead of the data blocks until the wait ends.
        let r = req(&mut c, "GET", "/v1/kv/t?index=0&wait=10m", b"").await;
        assert_eq!(index_of(&r), idx);
        let r = req(
            &mut c,
            "GET",
            &format!("/v1/kv/t?index={}&wait=20ms", idx + 1000),
            b"",
        )
        .await;
        assert_eq!(index_of(&r), idx);
    });
}

#[test]
fn recurse_keys_and_missing_key_block_on_prefix() {
    run_with_server(ServerOptions::default(), |backend, addr, opts| async move {
        let mut c = connect(addr).await;
        req(&mut c, "PUT", "/v1/kv/svc/a", b"1").await;
        let idx = index_of(&req(&mut c, "GET", "/v1/kv/svc/?recurse", b"").await);
        let list = park(addr, format!("/v1/kv/svc/?recurse&index={idx}"));
        let keys = park(addr, format!("/v1/kv/svc/?keys&separator=/&index={idx}"));
        let miss_idx = index_of(&req(&mut c, "GET", "/v1/kv/svc/new", b"").await);
        let missing = park(addr, format!("/v1/kv/svc/new?index={miss_idx}"));
        let stats = opts.stats.clone();
        eventually("three parked", || stats.parked.get() == 3).await;
        req(&mut c, "PUT", "/v1/kv/elsewhere", b"x").await;
        glommio::timer::sleep(Duration::from_millis(30)).await;
        assert_eq!(opts.stats.parked.get(), 3);

        req(&mut c, "PUT", "/v1/kv/svc/new", b"2").await;
        eventually("all answered", || {
            list.borrow().is_some() && keys.borrow().is_some() && missing.borrow().is_some()
        })
        .await;
        assert_eq!(
            list.borrow()
                .as_ref()
                .unwrap()
                .json()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            keys.borrow().as_ref().unwrap().json(),
            serde_json::json!(["svc/a", "svc/new"])
        );
        assert_eq!(missing.borrow().as_ref().unwrap().status, 200);
        assert_eq!(backend.watches().len(), 0);
    });
}

#[test]
fn consistent_blocking_read_takes_a_barrier_after_wake() {
    run_with_server(ServerOptions::default(), |backend, addr, opts| async move {
        let mut c = connect(addr).await;
        req(&mut c, "PUT", "/v1/kv/c", b"1").await;
        let idx = index_of(&req(&mut c, "GET", "/v1/kv/c", b"").await);
        let before = backend.barriers.get();
        let slot = park(addr, format!("/v1/kv/c?consistent&index={idx}"));
        let stats = opts.stats.clone();
        eventually("parked", || stats.parked.get() == 1).await;
        assert_eq!(backend.barriers.get(), before + 1);
        req(&mut c, "PUT", "/v1/kv/c", b"2").await;
        eventually("answered", || slot.borrow().is_some()).await;
        assert_eq!(backend.barriers.get(), before + 2);
        let r = slot.borrow_mut().take().unwrap();
        assert_eq!(
            r.header("X-Consul-Effective-Consistency"),
            Some("consistent")
        );
    });
}
