//! `ballast operator raft ...` end to end against the real HTTP handlers (ballast-http's
//! TestBackend with a settable Raft configuration) on 127.0.0.1. The CLI blocks, so it runs
//! on its own thread while the glommio executor serves.
use std::net::SocketAddr;
use std::time::Duration;

use ballast_http::testing::{run_with_server, TestBackend};
use ballast_http::{LeaderStatus, RaftConfiguration, RaftServer, ServerOptions};

#[derive(Debug)]
struct Outcome {
    code: i32,
    out: String,
    err: String,
}

fn run_blocking(args: Vec<String>) -> Outcome {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input: &[u8] = b"";
    let code = ballast_cli::run(&args, &mut ballast_cli::Io { out: &mut out, err: &mut err, stdin: &mut input });
    Outcome { code, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() }
}

/// Runs `ballast <args> -http-addr=<addr>` without blocking the executor serving `addr`.
async fn cli(addr: SocketAddr, args: &[&str]) -> Outcome {
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.push(format!("-http-addr={addr}"));
    let handle = std::thread::spawn(move || run_blocking(args));
    while !handle.is_finished() {
        glommio::timer::sleep(Duration::from_millis(2)).await;
    }
    handle.join().expect("the CLI thread")
}

fn run(args: &[&str]) -> Outcome {
    run_blocking(args.iter().map(|s| s.to_string()).collect())
}

fn server(n: u8, leader: bool, last_index: u64) -> RaftServer {
    RaftServer {
        id: format!("0b5f7c4e-0000-4000-8000-00000000000{n}"),
        node: format!("node-{n}"),
        address: format!("10.0.0.{n}:8300"),
        leader,
        protocol_version: "3".to_string(),
        voter: n != 4,
        last_index,
    }
}

fn cluster(b: &TestBackend) {
    b.raft.set_configuration(RaftConfiguration {
        servers: vec![server(1, true, 120), server(2, false, 119), server(3, false, 100), server(4, false, 120)],
        index: 12,
    });
}

fn no_leader() -> LeaderStatus {
    LeaderStatus { is_leader: false, known_leader: false, last_contact_ms: 0, leader_addr: None }
}

const TABLE: &str = "\
Node    ID                                    Address        State     Voter  RaftProtocol  Commit Index  Trails Leader By
node-1  0b5f7c4e-0000-4000-8000-000000000001  10.0.0.1:8300  leader    true   3             120           -
node-2  0b5f7c4e-0000-4000-8000-000000000002  10.0.0.2:8300  follower  true   3             119           1 commit
node-3  0b5f7c4e-0000-4000-8000-000000000003  10.0.0.3:8300  follower  true   3             100           20 commits
node-4  0b5f7c4e-0000-4000-8000-000000000004  10.0.0.4:8300  follower  false  3             120           0 commits
";

#[test]
fn list_peers_prints_consuls_table() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        cluster(&b);
        let o = cli(addr, &["operator", "raft", "list-peers"]).await;
        assert_eq!((o.code, o.err.as_str()), (0, ""));
        assert_eq!(o.out, TABLE);
        assert_eq!(*b.raft.config_reads.borrow(), vec![false]);
    });
}

#[test]
fn list_peers_stale_works_without_a_leader() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        cluster(&b);
        b.set_leader(no_leader());
        let o = cli(addr, &["operator", "raft", "list-peers"]).await;
        assert_eq!(
            (o.code, o.out.as_str(), o.err.as_str()),
            (1, "", "Error getting peers: Failed to retrieve raft configuration: Unexpected response code: 500 (No cluster leader)\n")
        );
        let o = cli(addr, &["operator", "raft", "list-peers", "-stale"]).await;
        assert_eq!((o.code, o.out.as_str()), (0, TABLE));
        assert_eq!(*b.raft.config_reads.borrow(), vec![false, true]);
    });
}

#[test]
fn remove_peer_by_address_and_by_id() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        cluster(&b);
        let o = cli(addr, &["operator", "raft", "remove-peer", "-address=10.0.0.3:8300"]).await;
        assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Removed peer with address \"10.0.0.3:8300\"\n", ""));
        let id4 = server(4, false, 0).id;
        let o = cli(addr, &["operator", "raft", "remove-peer", "-id", &id4]).await;
        assert_eq!((o.code, o.out), (0, format!("Removed peer with id \"{id4}\"\n")));
        let left: Vec<String> = b.raft.configuration().servers.into_iter().map(|s| s.node).collect();
        assert_eq!(left, ["node-1", "node-2"]);

        let o = cli(addr, &["operator", "raft", "remove-peer", "-id", &id4]).await;
        assert_eq!(
            (o.code, o.out.as_str(), o.err),
            (1, "", format!("Error removing peer: Unexpected response code: 500 (id \"{id4}\" was not found in the Raft configuration)\n"))
        );
    });
}

#[test]
fn remove_peer_needs_exactly_one_of_address_and_id() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let o = cli(addr, &["operator", "raft", "remove-peer"]).await;
        assert_eq!(
            (o.code, o.out.as_str(), o.err.as_str()),
            (1, "", "Error removing peer: an address or id is required for the peer to remove\n")
        );
        let o = cli(addr, &["operator", "raft", "remove-peer", "-id=a", "-address=b"]).await;
        assert_eq!((o.code, o.err.as_str()), (1, "Error removing peer: cannot give both an address and id\n"));
        assert!(b.raft.removed.borrow().is_empty());
    });
}

#[test]
fn transfer_leader_with_and_without_id() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        cluster(&b);
        let o = cli(addr, &["operator", "raft", "transfer-leader"]).await;
        assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Success\n", ""));
        let id3 = server(3, false, 0).id;
        let o = cli(addr, &["operator", "raft", "transfer-leader", &format!("-id={id3}")]).await;
        assert_eq!((o.code, o.out.as_str()), (0, "Success\n"));
        assert_eq!(*b.raft.transfers.borrow(), vec![None, Some(id3.clone())]);
        let leader: Vec<String> = b.raft.configuration().servers.into_iter().filter(|s| s.leader).map(|s| s.id).collect();
        assert_eq!(leader, [id3]);

        let o = cli(addr, &["operator", "raft", "transfer-leader", "-id=nope"]).await;
        assert_eq!(
            (o.code, o.out.as_str(), o.err.as_str()),
            (1, "", "Error transfering leadership: Failed to transfer leadership Unexpected response code: 500 (rpc error: code = Unknown desc = Could not find address for server id nope)\n")
        );
    });
}

#[test]
fn parent_commands_print_their_subcommands_and_exit_1() {
    let o = run(&["operator"]);
    assert_eq!((o.code, o.out.as_str()), (1, ""));
    assert!(o.err.starts_with("Usage: ballast operator <subcommand> [options]\n\n  Provides cluster-level tools"), "{}", o.err);
    assert!(o.err.ends_with("\n\nSubcommands:\n    raft    Provides cluster-level tools for ballast operators\n"), "{}", o.err);
    let o = run(&["operator", "raft"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("Usage: ballast operator raft <subcommand> [options]\n"), "{}", o.err);
    assert!(o.err.ends_with(
        "Subcommands:\n    list-peers         Display the current Raft peer configuration\n    remove-peer        Remove a ballast server from the Raft configuration\n    transfer-leader    Transfer raft leadership to another node\n"
    ), "{}", o.err);
}

#[test]
fn help_and_flag_errors() {
    let o = run(&["operator", "raft", "remove-peer", "-help"]);
    assert_eq!(o.code, 0);
    assert!(o.err.starts_with("Usage: ballast operator raft remove-peer [options]\n"), "{}", o.err);
    assert!(o.err.contains("HTTP API Options\n\n  -ca-file=<value>\n"), "{}", o.err);
    assert!(o.err.contains("Command Options\n\n  -address=<value>\n     The address to remove from the Raft configuration.\n\n  -id=<value>\n"), "{}", o.err);
    let o = run(&["operator", "raft", "transfer-leader", "-h"]);
    assert!(o.err.contains("  -id=<value>\n     The ID of the node to transfer leadership to.\n"), "{}", o.err);
    let o = run(&["operator", "raft", "list-peers", "-nope"]);
    assert_eq!((o.code, o.out.as_str()), (1, ""));
    assert!(o.err.starts_with("flag provided but not defined: -nope\nUsage: ballast operator raft list-peers"), "{}", o.err);
    assert!(o.err.ends_with("\nFailed to parse args: flag provided but not defined: -nope\n"), "{}", o.err);
}

#[test]
fn unreachable_agent_is_reported_with_exit_1() {
    // Port 1 on loopback: nothing listens there.
    let o = run(&["operator", "raft", "list-peers", "-http-addr=127.0.0.1:1"]);
    assert_eq!((o.code, o.out.as_str()), (1, ""));
    assert!(
        o.err.starts_with("Error getting peers: Failed to retrieve raft configuration: Get \"http://127.0.0.1:1/v1/operator/raft/configuration\": dial tcp 127.0.0.1:1: connect: connection refused"),
        "{}",
        o.err
    );
    let o = run(&["operator", "raft", "transfer-leader", "-http-addr=https://127.0.0.1:1"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("Error initializing client: HTTPS is not supported"), "{}", o.err);
}

#[test]
fn consul_http_addr_names_the_agent() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        // Every other request in this binary passes -http-addr, which beats the variable.
        std::env::set_var("CONSUL_HTTP_ADDR", format!("http://{addr}"));
        let handle = std::thread::spawn(|| run(&["operator", "raft", "list-peers", "-stale"]));
        while !handle.is_finished() {
            glommio::timer::sleep(Duration::from_millis(2)).await;
        }
        let o = handle.join().expect("the CLI thread");
        std::env::remove_var("CONSUL_HTTP_ADDR");
        assert_eq!((o.code, o.err.as_str()), (0, ""));
        assert!(o.out.starts_with("Node    ID  "), "{}", o.out);
        assert_eq!(*b.raft.config_reads.borrow(), vec![true]);
    });
}
