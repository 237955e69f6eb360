//! `members`, `join`, `leave` and `force-leave` against a canned agent: the requests they
//! send, what they print, and their exit codes, as Consul's commands.
mod common;

use common::{dead_addr, ok_empty, response, run, FakeAgent};

/// /v1/agent/members as a Consul agent answers it (unsorted, with the usual serf tags).
const MEMBERS: &str = r#"[
 {"Name":"server-2","Addr":"10.0.0.2","Port":8301,"Tags":{"acls":"0","build":"1.17.0:4e3f428b","dc":"dc1","id":"b2","port":"8300","raft_vsn":"3","role":"consul","segment":"","vsn":"2","vsn_max":"3","vsn_min":"2","wan_join_port":"8302"},"Status":1,"ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},
 {"Name":"weird","Addr":"fd00::7","Port":8301,"Tags":{},"Status":3,"ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},
 {"Name":"client-1","Addr":"10.0.0.10","Port":8301,"Tags":{"build":"1.16.2:aaaa","dc":"dc1","role":"node","segment":"","vsn":"2"},"Status":4,"ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},
 {"Name":"server-1","Addr":"10.0.0.1","Port":8301,"Tags":{"build":"1.17.0:4e3f428b","dc":"dc1","role":"consul","vsn":"2"},"Status":1,"ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}
]"#;

#[test]
fn members_prints_consuls_sorted_table() {
    let agent = FakeAgent::start(vec![response("200 OK", MEMBERS)]);
    let o = run(&["members", &agent.flag()]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    let want = [
        "Node      Address         Status  Type     Build   Protocol  DC   Partition  Segment",
        "server-1  10.0.0.1:8301   alive   server   1.17.0  2         dc1  default    <all>",
        "server-2  10.0.0.2:8301   alive   server   1.17.0  2         dc1  default    <all>",
        "client-1  10.0.0.10:8301  failed  client   1.16.2  2         dc1  default    <default>",
        "weird     [fd00::7]:8301  left    unknown                                    ",
    ];
    assert_eq!(o.out, want.join("\n") + "\n");
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/v1/agent/members?segment=_all"));
    assert_eq!(req.header("X-Consul-Token"), None);
}

#[test]
fn members_detailed_status_filter_and_wan() {
    let agent = FakeAgent::start(vec![response("200 OK", MEMBERS)]);
    let o = run(&["members", &agent.flag(), "-detailed", "-wan", "-status=^al", "-token=t0k"]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    let tags1 = "acls=0,ap=default,build=1.17.0:4e3f428b,dc=dc1,id=b2,port=8300,raft_vsn=3,role=consul,segment=<all>,vsn=2,vsn_max=3,vsn_min=2,wan_join_port=8302";
    let want = format!(
        "Node      Address        Status  Tags\n\
         server-1  10.0.0.1:8301  alive   ap=default,build=1.17.0:4e3f428b,dc=dc1,role=consul,segment=<all>,vsn=2\n\
         server-2  10.0.0.2:8301  alive   {tags1}\n"
    );
    assert_eq!(o.out, want);
    let req = agent.next();
    assert_eq!(req.path, "/v1/agent/members?segment=_all&wan=1");
    assert_eq!(req.header("X-Consul-Token"), Some("t0k"));
}

#[test]
fn members_segment_filter_partition_and_no_match_exit_2() {
    let agent = FakeAgent::start(vec![response("200 OK", MEMBERS)]);
    let o = run(&["members", &agent.flag(), "-status=leaving", "-segment=", "-partition=default", "-filter=Name == x"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (2, "", ""));
    assert_eq!(agent.next().path, "/v1/agent/members?filter=Name+%3D%3D+x&partition=default&segment=");
}

#[test]
fn members_errors() {
    let o = run(&["members", "-status=("]);
    assert_eq!((o.code, o.err.as_str()), (1, "Failed to compile status regexp: error parsing regexp: missing closing ): `(`\n"));
    let agent = FakeAgent::start(vec![response("403 Forbidden", "Permission denied")]);
    let o = run(&["members", &agent.flag()]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error retrieving members: Unexpected response code: 403 (Permission denied)\n"));
    let addr = dead_addr();
    let o = run(&["members", "-http-addr", &addr]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        format!("Error retrieving members: Get \"http://{addr}/v1/agent/members?segment=_all\": dial tcp {addr}: connect: connection refused\n")
    );
    let o = run(&["members", "-http-addr=https://127.0.0.1:8501"]);
    assert!(o.err.starts_with("Error connecting to Consul agent: HTTPS is not supported"), "{}", o.err);
    // Client commands have no -datacenter or -stale.
    let o = run(&["members", "-datacenter=dc2"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("flag provided but not defined: -datacenter\nUsage: ballast members [options]"), "{}", o.err);
}

#[test]
fn members_help_lists_consuls_flags() {
    let o = run(&["members", "-h"]);
    assert_eq!(o.code, 0);
    assert!(o.err.starts_with("Usage: ballast members [options]\n\n  Outputs the members of a running ballast agent.\n\nHTTP API Options\n\n  -ca-file=<value>\n"), "{}", o.err);
    for flag in ["  -detailed\n", "  -wan\n", "  -status=<string>\n", "  -segment=<string>\n", "  -filter=<string>\n", "  -partition=<default>\n"] {
        assert!(o.err.contains(flag), "{flag} missing from {}", o.err);
    }
    assert!(!o.err.contains("-datacenter") && !o.err.contains("-stale"), "{}", o.err);
}

#[test]
fn join_reports_each_failure_and_counts_successes() {
    let agent = FakeAgent::start(vec![ok_empty(), response("500 Internal Server Error", "no route")]);
    let o = run(&["join", &agent.flag(), "-wan", "10.0.0.1:8302", "bad host"]);
    assert_eq!(o.code, 0);
    assert_eq!(o.out, "Successfully joined cluster by contacting 1 nodes.\n");
    assert_eq!(o.err, "Error joining address 'bad host': Unexpected response code: 500 (no route)\n");
    let first = agent.next();
    assert_eq!((first.method.as_str(), first.path.as_str()), ("PUT", "/v1/agent/join/10.0.0.1:8302?wan=1"));
    assert_eq!(first.header("Content-Length"), Some("0"));
    assert_eq!(agent.next().path, "/v1/agent/join/bad%20host?wan=1");
}

#[test]
fn join_failures_and_missing_address() {
    let agent = FakeAgent::start(vec![response("500 Internal Server Error", "nope")]);
    let o = run(&["join", &agent.flag(), "10.0.0.9"]);
    assert_eq!((o.code, o.out.as_str()), (1, ""));
    assert_eq!(o.err, "Error joining address '10.0.0.9': Unexpected response code: 500 (nope)\nFailed to join any nodes.\n");
    assert_eq!(agent.next().path, "/v1/agent/join/10.0.0.9");
    let o = run(&["join"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("At least one address to join must be specified.\n\nUsage: ballast join [options] address ...\n"), "{}", o.err);
    assert!(o.err.contains("Command Options\n\n  -wan\n     Joins a server to another server in the WAN pool.\n"), "{}", o.err);
}

#[test]
fn leave_and_its_errors() {
    let agent = FakeAgent::start(vec![ok_empty(), response("403 Forbidden", "Permission denied")]);
    let o = run(&["leave", &agent.flag(), "-token=secret"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Graceful leave complete\n", ""));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/leave"));
    assert_eq!(req.header("X-Consul-Token"), Some("secret"));
    let o = run(&["leave", &agent.flag()]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error leaving: Unexpected response code: 403 (Permission denied)\n"));
    let o = run(&["leave", "now", "please"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error found unexpected args: [now please]\n"));
    assert!(o.out.starts_with("Usage: ballast leave [options]\n"), "{}", o.out);
}

#[test]
fn force_leave_sends_prune_and_wan() {
    let agent = FakeAgent::start(vec![ok_empty(), ok_empty(), response("500 Internal Server Error", "agent: No node found with name 'ghost'")]);
    let o = run(&["force-leave", &agent.flag(), "-prune", "-wan", "node-3"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "", ""));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/force-leave/node-3?prune=1&wan=1"));
    let o = run(&["force-leave", &agent.flag(), "node-3"]);
    assert_eq!(o.code, 0);
    assert_eq!(agent.next().path, "/v1/agent/force-leave/node-3");
    let o = run(&["force-leave", &agent.flag(), "ghost"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "Error force leaving: Unexpected response code: 500 (agent: No node found with name 'ghost')\n")
    );
}

#[test]
fn force_leave_needs_exactly_one_node() {
    for args in [&["force-leave"][..], &["force-leave", "a", "b"][..]] {
        let o = run(args);
        assert_eq!(o.code, 1);
        assert!(
            o.err.starts_with("A single node name must be specified to force leave.\n\nUsage: ballast force-leave [options] name\n"),
            "{}",
            o.err
        );
    }
    let o = run(&["force-leave", "-h"]);
    assert!(o.err.contains("  -prune    Remove agent completely from list of members\n"), "{}", o.err);
    assert!(o.err.contains("Command Options\n\n  -partition=<default>\n"), "{}", o.err);
}

#[test]
fn the_command_list_names_the_gossip_commands() {
    let o = run(&[]);
    assert_eq!(o.code, 127);
    for line in [
        "    force-leave    Forces a member of the cluster to enter the \"left\" state\n",
        "    join           Tell ballast agent to join cluster\n",
        "    keygen         Generates a new encryption key\n",
        "    keyring        Manages gossip layer encryption keys\n",
        "    leave          Gracefully leaves the ballast cluster and shuts down\n",
        "    members        Lists the members of a ballast cluster\n",
        "    rtt            Estimates network round trip time between nodes\n",
    ] {
        assert!(o.err.contains(line), "{line:?} missing from {}", o.err);
    }
}
