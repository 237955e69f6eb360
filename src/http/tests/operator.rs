//! `/v1/operator/raft/*` end to end: Consul's JSON shape and field order,
//! parameter checks, messages, status codes and headers.

mod common;

use ballast_http::testing::{default_server, run_with_server};
use ballast_http::ServerOptions;
use ballast_http::{BackendError, LeaderStatus, PeerSelector, RaftConfiguration, RaftServer};
use common::*;

fn server(n: u8, leader: bool, last_index: u64) -> RaftServer {
    RaftServer {
        id: format!("0b5f7c4e-0000-4000-8000-00000000000{n}"),
        node: format!("node-{n}"),
        address: format!("10.0.0.{n}:8300"),
        leader,
        protocol_version: "3".to_string(),
        voter: true,
        last_index,
    }
}

fn three_servers() -> RaftConfiguration {
    RaftConfiguration {
        servers: vec![
            server(1, true, 90),
            server(2, false, 89),
            server(3, false, 80),
        ],
        index: 7,
    }
}

fn no_leader() -> LeaderStatus {
    LeaderStatus {
        is_leader: false,
        known_leader: false,
        last_contact_ms: 0,
        leader_addr: None,
    }
}

#[test]
fn configuration_json_is_consuls_shape_and_order() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let r = once(addr, "GET", "/v1/operator/raft/configuration", b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let s = default_server();
        assert_eq!(
            r.text(),
            format!(
                "{{\"Servers\":[{{\"ID\":\"{}\",\"Node\":\"node-1\",\"Address\":\"127.0.0.1:8300\",\"Leader\":true,\"ProtocolVersion\":\"3\",\"Voter\":true,\"LastIndex\":1}}],\"Index\":1}}",
                s.id
            )
        );
        // Consul returns the RPC reply bare: no query meta headers.
        assert_eq!(r.header("X-Consul-Index"), None);
        assert_eq!(r.header("X-Consul-Knownleader"), None);
        assert_eq!(r.header("X-Consul-Lastcontact"), None);

        b.raft.set_configuration(three_servers());
        let r = once(addr, "GET", "/v1/operator/raft/configuration?pretty", b"").await;
        let v = r.json();
        assert_eq!(v["Index"], 7);
        assert_eq!(v["Servers"].as_array().unwrap().len(), 3);
        assert_eq!(v["Servers"][2]["Address"], "10.0.0.3:8300");
        assert_eq!(v["Servers"][2]["LastIndex"], 80);
        assert!(
            r.text().starts_with("{\n    \"Servers\": [\n"),
            "{}",
            r.text()
        );

        // A Go nil slice: `null`, not `[]`.
        b.raft.set_configuration(RaftConfiguration {
            servers: vec![],
            index: 0,
        });
        let r = once(addr, "GET", "/v1/operator/raft/configuration", b"").await;
        assert_eq!(r.text(), "{\"Servers\":null,\"Index\":0}");
    });
}

#[test]
fn configuration_consistency_modes_and_option_errors() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        once(addr, "GET", "/v1/operator/raft/configuration", b"").await;
        once(addr, "GET", "/v1/operator/raft/configuration?stale", b"").await;
        once(
            addr,
            "GET",
            "/v1/operator/raft/configuration?max_stale=5s",
            b"",
        )
        .await;
        once(
            addr,
            "GET",
            "/v1/operator/raft/configuration?consistent",
            b"",
        )
        .await;
        assert_eq!(
            *b.raft.config_reads.borrow(),
            vec![false, true, true, false]
        );

        // Without a leader only a stale read succeeds.
        b.set_leader(no_leader());
        let r = once(addr, "GET", "/v1/operator/raft/configuration", b"").await;
        assert_eq!((r.status, r.text().as_str()), (500, "No cluster leader"));
        let r = once(addr, "GET", "/v1/operator/raft/configuration?stale", b"").await;
        assert_eq!(r.status, 200);

        let bad = [
            (
                "stale&consistent",
                "Cannot specify ?stale with ?consistent, conflicting semantics.",
            ),
            ("wait=x", "Invalid wait time"),
            ("index=-1", "Invalid index"),
            ("max_stale=zz", "Invalid max_stale value \"zz\""),
        ];
        for (q, msg) in bad {
            let r = once(
                addr,
                "GET",
                &format!("/v1/operator/raft/configuration?{q}"),
                b"",
            )
            .await;
            assert_eq!((r.status, r.text().as_str()), (400, msg), "{q}");
        }
        let r = once(addr, "GET", "/v1/operator/raft/configuration?dc=other", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (500, "No path to datacenter")
        );
        let r = once(
            addr,
            "GET",
            "/v1/operator/raft/configuration?dc=dc1&stale",
            b"",
        )
        .await;
        assert_eq!(r.status, 200);

        *b.raft.fail_next.borrow_mut() =
            Some(BackendError::Overloaded("rate limit exceeded".into()));
        let r = once(addr, "GET", "/v1/operator/raft/configuration?stale", b"").await;
        assert_eq!((r.status, r.text().as_str()), (429, "rate limit exceeded"));
    });
}

#[test]
fn remove_peer_by_id_and_address() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        b.raft.set_configuration(three_servers());
        let r = once(
            addr,
            "DELETE",
            "/v1/operator/raft/peer?address=10.0.0.3:8300",
            b"",
        )
        .await;
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert_eq!(r.header("Content-Type"), None);
        let id2 = server(2, false, 0).id;
        let r = once(
            addr,
            "DELETE",
            &format!("/v1/operator/raft/peer?id={id2}"),
            b"",
        )
        .await;
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert_eq!(
            *b.raft.removed.borrow(),
            vec![
                PeerSelector::Address("10.0.0.3:8300".into()),
                PeerSelector::Id(id2.clone())
            ]
        );
        let left = b.raft.configuration();
        assert_eq!((left.servers.len(), left.index), (1, 9));

        // Unknown peers: the backend's text, as Consul's plain RPC error (500).
        let r = once(
            addr,
            "DELETE",
            &format!("/v1/operator/raft/peer?id={id2}"),
            b"",
        )
        .await;
        assert_eq!(
            (r.status, r.text()),
            (
                500,
                format!("id \"{id2}\" was not found in the Raft configuration")
            )
        );
        let r = once(
            addr,
            "DELETE",
            "/v1/operator/raft/peer?address=10.9.9.9:8300",
            b"",
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (
                500,
                "address \"10.9.9.9:8300\" was not found in the Raft configuration"
            )
        );
        // Presence is what counts: an empty id is still an id.
        let r = once(addr, "DELETE", "/v1/operator/raft/peer?id=", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (500, "id \"\" was not found in the Raft configuration")
        );
    });
}

#[test]
fn remove_peer_parameter_errors() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let r = once(addr, "DELETE", "/v1/operator/raft/peer", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove")
        );
        let r = once(addr, "DELETE", "/v1/operator/raft/peer?id=a&address=b", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Must specify only one of ?id or ?address")
        );
        // Parameter checks come before datacenter routing.
        let r = once(addr, "DELETE", "/v1/operator/raft/peer?dc=other", b"").await;
        assert_eq!(r.status, 400);
        let r = once(addr, "DELETE", "/v1/operator/raft/peer?dc=other&id=x", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (500, "No path to datacenter")
        );
        // Consistency options are not parsed by this endpoint.
        let r = once(
            addr,
            "DELETE",
            "/v1/operator/raft/peer?stale&consistent&address=127.0.0.1:8300",
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(b.raft.configuration().servers.is_empty());

        b.set_leader(no_leader());
        let r = once(addr, "DELETE", "/v1/operator/raft/peer?id=x", b"").await;
        assert_eq!((r.status, r.text().as_str()), (500, "No cluster leader"));
    });
}

#[test]
fn transfer_leader_with_and_without_target() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        b.raft.set_configuration(three_servers());
        let r = once(addr, "POST", "/v1/operator/raft/transfer-leader", b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "{\"Success\":true}"));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let id3 = server(3, false, 0).id;
        let r = once(
            addr,
            "POST",
            &format!("/v1/operator/raft/transfer-leader?id={id3}"),
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
        // An empty id means "any", like no id.
        let r = once(addr, "POST", "/v1/operator/raft/transfer-leader?id=", b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            *b.raft.transfers.borrow(),
            vec![None, Some(id3.clone()), None]
        );
        let r = once(
            addr,
            "POST",
            "/v1/operator/raft/transfer-leader?pretty",
            b"",
        )
        .await;
        assert_eq!(r.text(), "{\n    \"Success\": true\n}\n");

        let r = once(
            addr,
            "POST",
            "/v1/operator/raft/transfer-leader?id=nope",
            b"",
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (
                500,
                "rpc error: code = Unknown desc = Could not find address for server id nope"
            )
        );
        // `?dc` is not read by this endpoint.
        let r = once(
            addr,
            "POST",
            "/v1/operator/raft/transfer-leader?dc=other",
            b"",
        )
        .await;
        assert_eq!(r.status, 200);

        b.set_leader(no_leader());
        let r = once(addr, "POST", "/v1/operator/raft/transfer-leader", b"").await;
        assert_eq!((r.status, r.text().as_str()), (500, "No cluster leader"));
    });
}

#[test]
fn transfer_leader_refuses_partitions() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let r = once(
            addr,
            "POST",
            "/v1/operator/raft/transfer-leader?partition=p1",
            b"",
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Invalid query parameter: \"partition\" - Partitions are a Consul Enterprise feature")
        );
        let mut c = connect(addr).await;
        c.send_raw(b"POST /v1/operator/raft/transfer-leader HTTP/1.1\r\nHost: x\r\nX-Consul-Partition: p1\r\n\r\n")
            .await
            .unwrap();
        let r = c.read_response(false).await.unwrap();
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Invalid header: \"X-Consul-Partition\" - Partitions are a Consul Enterprise feature")
        );
        // The header wins over the query, as in Consul.
        c.send_raw(b"POST /v1/operator/raft/transfer-leader?partition=q HTTP/1.1\r\nHost: x\r\nX-Consul-Partition: p1\r\n\r\n")
            .await
            .unwrap();
        let r = c.read_response(false).await.unwrap();
        assert!(r.text().starts_with("Invalid header"), "{}", r.text());
        assert!(b.raft.transfers.borrow().is_empty());
        // A lone leader has nobody to hand over to (hashicorp/raft's text).
        let r = once(addr, "POST", "/v1/operator/raft/transfer-leader", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (500, "rpc error: code = Unknown desc = cannot find peer")
        );
    });
}

#[test]
fn methods_and_options_as_registered() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let cases = [
            ("/v1/operator/raft/configuration", "PUT", "OPTIONS,GET"),
            ("/v1/operator/raft/peer", "GET", "OPTIONS,DELETE"),
            ("/v1/operator/raft/transfer-leader", "PUT", "OPTIONS,POST"),
        ];
        for (path, wrong, allow) in cases {
            let r = once(addr, wrong, path, b"").await;
            assert_eq!(
                (r.status, r.text()),
                (405, format!("method {wrong} not allowed")),
                "{path}"
            );
            assert_eq!(r.header("Allow"), Some(allow), "{path}");
            let r = once(addr, "OPTIONS", path, b"").await;
            assert_eq!((r.status, r.header("Allow")), (200, Some(allow)), "{path}");
        }
        // Exact paths: no subtree below them.
        let r = once(addr, "GET", "/v1/operator/raft/configuration/x", b"").await;
        assert_eq!(r.status, 404);
        let r = once(addr, "GET", "/v1/operator/raft", b"").await;
        assert_eq!(r.status, 404);
    });
}
