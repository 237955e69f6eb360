//! Followers learn a new commit index from the Append that follows the commit, not from
//! the next heartbeat; followers that are only being probed are not flooded.
use crate::harness::{voters, Cluster};
use ballast_raft::*;

/// Delivers what is queued now (one hop) and returns the messages delivered.
fn deliver_one_round(c: &mut Cluster) -> Vec<Message> {
    let ids: Vec<NodeId> = c.nodes.keys().copied().collect();
    for id in &ids {
        c.process(*id);
    }
    let round: Vec<Message> = c.queue.drain(..).collect();
    let mut delivered = Vec::new();
    for m in round {
        if c.blocked.contains(&(m.from, m.to)) || !c.nodes.contains_key(&m.to) {
            continue;
        }
        let to = m.to;
        delivered.push(m.clone());
        c.raft(to).step(m).expect("step");
        c.process(to);
    }
    delivered
}

fn commits(c: &Cluster) -> Vec<(NodeId, Index)> {
    c.nodes
        .keys()
        .map(|&id| (id, c.status(id).commit))
        .collect()
}

fn check_commit_reaches_followers_in_one_exchange(n: u64) {
    let mut c = Cluster::new(n);
    c.elect(1);
    c.tick(3); // settle: every follower replicating, heartbeats done
    let idx = c
        .raft(1)
        .propose(EntryKind::Normal, 7u64.to_le_bytes().to_vec())
        .unwrap();
    // Hop 1: the Appends; hop 2: the acknowledgements (the leader commits); hop 3: the
    // followers hear about it. No tick anywhere, so no heartbeat can be what told them.
    let mut all = Vec::new();
    for _ in 0..3 {
        all.extend(deliver_one_round(&mut c));
    }
    assert_eq!(c.status(1).commit, idx, "the leader committed");
    for (id, commit) in commits(&c) {
        assert_eq!(
            commit,
            idx,
            "node {id} after one exchange: {:?}",
            commits(&c)
        );
        assert_eq!(c.nodes[&id].applied.last().map(|e| e.index), Some(idx));
    }
    assert!(
        all.iter().all(|m| !m.body.is_heartbeat()),
        "no heartbeat was involved"
    );
    // Nothing left to say: the commit notices do not echo back and forth.
    c.deliver();
    let again = deliver_one_round(&mut c);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn three_followers_learn_the_commit_after_one_exchange_without_a_tick() {
    check_commit_reaches_followers_in_one_exchange(3);
}

#[test]
fn five_followers_learn_the_commit_after_one_exchange_without_a_tick() {
    check_commit_reaches_followers_in_one_exchange(5);
}

#[test]
fn a_follower_that_acknowledges_late_is_told_the_commit_when_it_does() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.tick(3);
    // Follower 3 acknowledges slowly: it is behind when the leader commits with 2.
    c.blocked.insert((3, 1));
    c.raft(1)
        .propose(EntryKind::Normal, 1u64.to_le_bytes().to_vec())
        .unwrap();
    c.deliver();
    let commit = c.status(1).commit;
    assert_eq!(c.status(2).commit, commit);
    // 3 holds the entry but the leader does not know: it was told only what it was
    // known to hold, never more.
    assert!(c.status(3).commit < commit);
    assert_eq!(
        c.status(1).peers.iter().find(|p| p.id == 3).unwrap().state,
        ReplicationState::Replicate
    );
    c.blocked.clear();
    // A second proposal: 3's acknowledgement of it lets the leader tell it the commit.
    c.raft(1)
        .propose(EntryKind::Normal, 2u64.to_le_bytes().to_vec())
        .unwrap();
    c.deliver();
    let commit = c.status(1).commit;
    for (id, got) in commits(&c) {
        assert_eq!(got, commit, "node {id}");
    }
    assert_eq!(c.leaders(), vec![1]);
}

#[test]
fn a_probed_follower_gets_no_commit_notices() {
    // Learner 4 never answers: it stays in Probe with its one probe outstanding.
    let conf = ConfState {
        voters: vec![1, 2, 3],
        learners: vec![4],
        ..Default::default()
    };
    let mut c = Cluster::with_conf(&[1, 2, 3, 4], conf, Config::new);
    c.blocked.insert((4, 1));
    c.elect(1);
    let probe = c
        .status(1)
        .peers
        .iter()
        .find(|p| p.id == 4)
        .unwrap()
        .clone();
    assert_eq!(probe.state, ReplicationState::Probe);
    c.delivered.clear();
    for v in 0..5u64 {
        c.raft(1)
            .propose(EntryKind::Normal, v.to_le_bytes().to_vec())
            .unwrap();
        c.deliver();
    }
    let to_4 = c.delivered.iter().filter(|m| m.to == 4).count();
    assert_eq!(to_4, 0, "5 commits sent nothing to a paused probe");
    assert_eq!(c.status(2).commit, c.status(1).commit);
    assert_eq!(c.status(3).commit, c.status(1).commit);
}

#[test]
fn peer_status_counts_ticks_since_the_leader_heard_from_each_peer() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.blocked.insert((3, 1)); // 3 hears the leader, the leader no longer hears 3
    c.tick(7);
    let peers = c.status(1).peers;
    let since = |id: NodeId| {
        peers
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .ticks_since_contact
    };
    assert_eq!(since(1), 0, "the leader itself");
    assert!(since(2) <= 1, "2 answers every heartbeat: {}", since(2));
    assert_eq!(since(3), 7);
    c.blocked.clear();
    c.tick(1);
    let peers = c.status(1).peers;
    assert!(
        peers.iter().all(|p| p.ticks_since_contact <= 1),
        "{peers:?}"
    );
    assert_eq!(c.status(2).peers, vec![], "followers report no peers");
    let _ = voters(&[1]);
}
