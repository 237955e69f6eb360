//! Scripted scenarios for the behaviours the simulator only reaches by chance.
mod commit_broadcast;
mod harness;

use ballast_raft::*;
use harness::{voters, Cluster};

fn data(v: u64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

#[test]
fn single_voter_commits_and_applies_after_one_persist() {
    let mut n = RaftNode::new(
        Config::new(1),
        Bootstrap {
            conf: voters(&[1]),
            ..Default::default()
        },
        1,
    )
    .unwrap();
    n.campaign();
    assert_eq!(n.status().role, Role::Leader);
    let rd = n.ready();
    assert_eq!(rd.hard_state.map(|h| (h.term, h.vote)), Some((1, 1)));
    assert_eq!(rd.entries.len(), 1, "the leader's no-op");
    assert!(
        rd.committed_entries.is_empty(),
        "nothing commits before it is durable"
    );
    n.advance(&rd);
    let rd = n.ready();
    assert_eq!(
        rd.committed_entries
            .iter()
            .map(|e| e.kind)
            .collect::<Vec<_>>(),
        vec![EntryKind::Noop]
    );
    n.advance(&rd);
    n.applied_to(1);

    let idx = n.propose(EntryKind::Normal, data(7)).unwrap();
    assert_eq!(idx, 2);
    let rd = n.ready();
    assert_eq!(
        rd.entries.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![2]
    );
    assert!(rd.messages.is_empty());
    assert!(rd.must_sync(&HardState {
        term: 1,
        vote: 1,
        commit: 1
    }));
    n.advance(&rd);
    let rd = n.ready();
    assert_eq!(rd.committed_entries.len(), 1);
    assert_eq!(rd.committed_entries[0].data, data(7));
    assert!(rd.entries.is_empty());
    n.advance(&rd);
    n.applied_to(2);
    assert!(!n.has_ready());
    assert_eq!(n.status().applied, 2);
}

#[test]
fn restart_from_bootstrap_keeps_term_vote_and_log() {
    let mut c = Cluster::new(3);
    c.elect(1);
    for v in 0..5 {
        c.raft(1).propose(EntryKind::Normal, data(v)).unwrap();
    }
    c.deliver();
    c.tick(2);
    let before = c.status(2);
    assert_eq!(before.commit, 6);
    let boot = c.bootstrap_of(2, voters(&[1, 2, 3]));
    let restarted = RaftNode::new(Config::new(2), boot, 99).unwrap();
    let after = restarted.status();
    assert_eq!(
        (after.term, after.vote, after.last_index, after.commit),
        (before.term, 1, 6, 6)
    );
    assert_eq!(after.role, Role::Follower);
    assert_eq!(restarted.term_at(6), Some(before.term));
}

#[test]
fn bootstrap_rejects_gaps_and_terms_ahead_of_the_hard_state() {
    let e = |index, term| Entry {
        index,
        term,
        kind: EntryKind::Normal,
        data: vec![],
    };
    let gap = Bootstrap {
        hard_state: HardState {
            term: 1,
            ..Default::default()
        },
        entries: vec![e(1, 1), e(3, 1)],
        ..Default::default()
    };
    assert!(matches!(
        RaftNode::new(Config::new(1), gap, 0),
        Err(RaftError::InvalidBootstrap(_))
    ));
    let ahead = Bootstrap {
        hard_state: HardState {
            term: 1,
            ..Default::default()
        },
        entries: vec![e(1, 2)],
        ..Default::default()
    };
    assert!(matches!(
        RaftNode::new(Config::new(1), ahead, 0),
        Err(RaftError::InvalidBootstrap(_))
    ));
    assert!(RaftNode::new(Config::new(0), Bootstrap::default(), 0).is_err());
}

#[test]
fn partitioned_minority_with_prevote_does_not_raise_the_term_or_depose() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.status(1).term;
    c.isolate(3);
    c.tick(500);
    assert_eq!(c.status(3).term, term, "pre-votes never bump the term");
    assert_eq!(c.status(3).role, Role::PreCandidate);
    c.heal();
    c.tick(50);
    assert_eq!(c.leaders(), vec![1]);
    for id in 1..=3 {
        assert_eq!(c.status(id).term, term);
    }
    assert_eq!(c.status(3).leader, Some(1));
}

#[test]
fn without_prevote_the_same_partition_disrupts_the_cluster() {
    // Control for the test above: proves the scenario really exercises PreVote.
    let no_prevote = |id| Config {
        pre_vote: false,
        ..Config::new(id)
    };
    let mut c = Cluster::with_conf(&[1, 2, 3], voters(&[1, 2, 3]), no_prevote);
    c.elect(1);
    let term = c.status(1).term;
    c.isolate(3);
    c.tick(200);
    assert!(c.status(3).term > term + 5);
    c.heal();
    c.tick(50);
    assert!(
        c.status(1).term > term,
        "the returning node's term deposed leader 1"
    );
}

#[test]
fn follower_that_cannot_hear_the_leader_does_not_depose_it() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.status(1).term;
    c.blocked.insert((1, 3)); // 3 no longer hears 1; 1 and 2 still hear 3
    c.tick(300);
    assert_eq!(c.leaders(), vec![1]);
    assert_eq!(c.status(1).term, term);
    assert_eq!(c.status(2).term, term);
    assert!(c.status(3).ticks_since_leader_contact >= 290);
    assert!(
        c.raft(1).propose(EntryKind::Normal, data(1)).is_ok(),
        "the leader keeps serving"
    );
}

#[test]
fn check_quorum_leader_steps_down_when_isolated() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.status(1).term;
    c.isolate(1);
    // CheckQuorum looks back over whole election-timeout windows; the window in progress
    // saw the election's acknowledgements, the next one sees nothing.
    c.tick(2 * Config::new(1).election_tick);
    assert_eq!(
        c.status(1).role,
        Role::Follower,
        "a whole election timeout without a quorum"
    );
    assert!(matches!(
        c.raft(1).propose(EntryKind::Normal, data(1)),
        Err(ProposeError::NotLeader { .. })
    ));
    c.tick(40);
    let others: Vec<_> = c.leaders();
    assert_eq!(others.len(), 1);
    assert_ne!(others[0], 1);
    assert!(c.status(others[0]).term > term);
}

#[test]
fn leadership_transfer_hands_over_and_blocks_proposals_meanwhile() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.status(1).term;
    c.raft(1).propose(EntryKind::Normal, data(1)).unwrap();
    c.raft(1).transfer_leader(2);
    assert_eq!(
        c.raft(1).propose(EntryKind::Normal, data(2)),
        Err(ProposeError::TransferInProgress)
    );
    c.deliver();
    assert_eq!(c.leaders(), vec![2]);
    assert_eq!(c.status(2).term, term + 1);
    assert!(c
        .delivered
        .iter()
        .any(|m| matches!(m.body, MessageBody::TimeoutNow)));
    // Transfer votes are granted despite leader stickiness.
    assert!(c
        .delivered
        .iter()
        .any(|m| matches!(m.body, MessageBody::Vote { transfer: true, .. })));
    c.tick(5);
    assert_eq!(c.leaders(), vec![2]);
}

#[test]
fn transfer_to_an_unreachable_node_is_abandoned_after_an_election_timeout() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.isolate(3);
    c.blocked.remove(&(3, 1)); // 1 still hears 3, so CheckQuorum stays happy via 2
    c.raft(1).transfer_leader(3);
    assert_eq!(c.status(1).transferring_to, Some(3));
    c.tick(Config::new(1).election_tick + 1);
    assert_eq!(c.leaders(), vec![1]);
    assert_eq!(c.status(1).transferring_to, None);
    assert!(c.raft(1).propose(EntryKind::Normal, data(1)).is_ok());
}

#[test]
fn read_index_needs_a_quorum_round() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let commit = c.status(1).commit;
    c.isolate(1);
    c.raft(1).read_index(77).unwrap();
    c.deliver();
    c.tick(3);
    assert!(
        c.nodes[&1].read_states.is_empty(),
        "no read without hearing from a quorum"
    );
    c.heal();
    c.tick(1);
    assert_eq!(
        c.nodes[&1].read_states,
        vec![ReadState {
            index: commit,
            ctx: 77
        }]
    );
    assert!(matches!(
        c.raft(2).read_index(1),
        Err(ProposeError::NotLeader { leader: Some(1) })
    ));
}

#[test]
fn read_index_waits_until_the_leader_commits_in_its_term() {
    let mut n = RaftNode::new(
        Config::new(1),
        Bootstrap {
            conf: voters(&[1]),
            ..Default::default()
        },
        1,
    )
    .unwrap();
    n.campaign();
    n.read_index(5).unwrap();
    let rd = n.ready();
    assert!(rd.read_states.is_empty(), "the no-op is not committed yet");
    n.advance(&rd);
    let rd = n.ready();
    assert_eq!(rd.read_states, vec![ReadState { index: 1, ctx: 5 }]);
}

#[test]
fn entries_of_older_terms_are_not_committed_by_counting() {
    // Raft §5.4.2 / Figure 8: node 1 holds an entry of term 2 that never committed.
    let e = |index, term| Entry {
        index,
        term,
        kind: EntryKind::Normal,
        data: vec![],
    };
    let conf = voters(&[1, 2, 3]);
    let boot = Bootstrap {
        hard_state: HardState {
            term: 2,
            vote: 1,
            commit: 1,
        },
        conf: conf.clone(),
        snapshot: None,
        entries: vec![e(1, 1), e(2, 2)],
    };
    let mut n = RaftNode::new(Config::new(1), boot, 3).unwrap();
    n.campaign();
    for from in [2, 3] {
        n.step(Message {
            from,
            to: 1,
            term: 3,
            body: MessageBody::PreVoteResp { reject: false },
        })
        .unwrap();
    }
    n.step(Message {
        from: 2,
        to: 1,
        term: 3,
        body: MessageBody::VoteResp { reject: false },
    })
    .unwrap();
    assert_eq!(n.status().role, Role::Leader);
    // Follower 2 now holds entry 2 as well: a majority has it, but it is of term 2.
    n.step(Message {
        from: 2,
        to: 1,
        term: 3,
        body: MessageBody::AppendResp {
            reject: false,
            index: 2,
            reject_hint: 0,
            hint_term: 0,
        },
    })
    .unwrap();
    assert_eq!(
        n.status().commit,
        1,
        "an old-term entry must not commit by replica count"
    );
    let rd = n.ready();
    n.advance(&rd);
    n.step(Message {
        from: 2,
        to: 1,
        term: 3,
        body: MessageBody::AppendResp {
            reject: false,
            index: 3,
            reject_hint: 0,
            hint_term: 0,
        },
    })
    .unwrap();
    assert_eq!(
        n.status().commit,
        3,
        "the no-op of term 3 commits, and entry 2 with it"
    );
}

#[test]
fn learners_replicate_but_never_vote_count_or_campaign() {
    let conf = ConfState {
        voters: vec![1, 2, 3],
        learners: vec![4],
        ..Default::default()
    };
    let mut c = Cluster::with_conf(&[1, 2, 3, 4], conf, Config::new);
    c.elect(1);
    c.raft(1).propose(EntryKind::Normal, data(1)).unwrap();
    c.tick(2);
    assert_eq!(
        c.nodes[&4].applied.len(),
        2,
        "the learner applies what commits"
    );
    // With two voters gone, the learner's acknowledgement must not make a quorum.
    c.isolate(2);
    c.isolate(3);
    let commit = c.status(1).commit;
    c.raft(1).propose(EntryKind::Normal, data(2)).unwrap();
    c.tick(3);
    assert_eq!(c.status(1).commit, commit);
    assert_eq!(c.status(4).last_index, commit + 1, "but it does replicate");
    // An isolated learner never campaigns.
    c.heal();
    c.isolate(4);
    let term4 = c.status(4).term;
    c.tick(200);
    assert_eq!(c.status(4).term, term4);
    assert_eq!(c.status(4).role, Role::Follower);
    assert!(!c.delivered.iter().any(|m| m.from == 4
        && matches!(
            m.body,
            MessageBody::PreVote { .. } | MessageBody::Vote { .. }
        )));
}

#[test]
fn membership_add_promote_and_remove_the_leader() {
    let mut c = Cluster::with_conf(&[1, 2, 3], voters(&[1, 2, 3]), Config::new);
    c.elect(1);
    c.tick(1);
    // Node 4 joins empty, first as a learner.
    let four = RaftNode::new(Config::new(4), Bootstrap::default(), 4).unwrap();
    c.add_node(4, four);
    let with_learner = ConfState {
        voters: vec![1, 2, 3],
        learners: vec![4],
        ..Default::default()
    };
    c.raft(1)
        .propose(EntryKind::Config, encode_conf(&with_learner))
        .unwrap();
    assert_eq!(
        c.status(1).conf,
        with_learner,
        "in force as soon as appended"
    );
    assert_eq!(
        c.raft(1)
            .propose(EntryKind::Config, encode_conf(&voters(&[1, 2, 3, 4]))),
        Err(ProposeError::ConfChangePending)
    );
    c.tick(5);
    assert_eq!(c.status(4).conf, with_learner);
    assert_eq!(c.status(4).commit, c.status(1).commit);
    assert_eq!(
        c.raft(1)
            .propose(EntryKind::Config, encode_conf(&voters(&[1, 2, 4]))),
        Err(ProposeError::InvalidConfChange(
            "more than one voter changes at once"
        ))
    );
    c.raft(1)
        .propose(EntryKind::Config, encode_conf(&voters(&[1, 2, 3, 4])))
        .unwrap();
    c.tick(3);
    // Remove the leader itself: it steps down once the change commits.
    c.raft(1)
        .propose(EntryKind::Config, encode_conf(&voters(&[2, 3, 4])))
        .unwrap();
    c.tick(3);
    assert_ne!(c.status(1).role, Role::Leader);
    c.tick(60);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    assert_ne!(leaders[0], 1);
    let l = leaders[0];
    c.raft(l).propose(EntryKind::Normal, data(9)).unwrap();
    c.tick(3);
    for id in [2, 3, 4] {
        assert_eq!(
            c.nodes[&id].applied.last().map(|e| e.data.clone()),
            Some(data(9))
        );
    }
}

#[test]
fn follower_behind_the_compaction_point_gets_a_snapshot() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.isolate(3);
    for v in 0..20 {
        c.raft(1).propose(EntryKind::Normal, data(v)).unwrap();
        c.deliver();
    }
    c.tick(1);
    let applied = c.status(1).applied;
    let term = c.raft(1).term_at(applied).unwrap();
    assert!(c.raft(1).compact(SnapshotMeta {
        index: applied,
        term,
        conf: voters(&[1, 2, 3])
    }));
    assert_eq!(c.status(1).first_index, applied + 1);
    c.heal();
    c.tick(Config::new(1).election_tick);
    let snap = c.nodes[&3]
        .readies
        .iter()
        .find_map(|r| r.snapshot.clone())
        .expect("node 3 was sent a snapshot");
    assert_eq!(
        (snap.index, snap.term, snap.conf),
        (applied, term, voters(&[1, 2, 3]))
    );
    assert_eq!(c.status(3).commit, c.status(1).commit);
    assert_eq!(c.status(3).first_index, applied + 1);
}

#[test]
fn proposals_are_refused_with_reasons() {
    let mut c = Cluster::new(3);
    c.elect(1);
    assert_eq!(
        c.raft(2).propose(EntryKind::Normal, data(1)),
        Err(ProposeError::NotLeader { leader: Some(1) })
    );
    let big = vec![0u8; Config::new(1).max_bytes_per_msg + 1];
    assert!(matches!(
        c.raft(1).propose(EntryKind::Normal, big),
        Err(ProposeError::TooLarge { .. })
    ));
    assert!(matches!(
        c.raft(1).propose(EntryKind::Config, vec![1, 2, 3]),
        Err(ProposeError::InvalidConfChange(_))
    ));
}

#[test]
fn messages_round_trip_through_rkyv_and_garbage_is_an_error() {
    let m = Message {
        from: 1,
        to: 2,
        term: 3,
        body: MessageBody::Append {
            prev_index: 4,
            prev_term: 2,
            entries: vec![Entry {
                term: 3,
                index: 5,
                kind: EntryKind::Config,
                data: encode_conf(&voters(&[1, 2])),
            }],
            commit: 4,
        },
    };
    let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&m).unwrap();
    let back = rkyv::from_bytes::<Message, rkyv::rancor::Error>(&bytes).unwrap();
    assert_eq!(back, m);
    assert!(rkyv::from_bytes::<Message, rkyv::rancor::Error>(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn messages_for_another_node_are_refused() {
    let mut c = Cluster::new(3);
    let m = Message {
        from: 2,
        to: 3,
        term: 1,
        body: MessageBody::TimeoutNow,
    };
    assert_eq!(
        c.raft(1).step(m),
        Err(RaftError::WrongRecipient { to: 3, me: 1 })
    );
}

#[test]
fn answering_a_pre_vote_never_changes_the_receivers_term_or_vote() {
    let mut c = Cluster::new(3);
    // No leader known, so stickiness does not apply and the pre-vote is answered.
    let pv = Message {
        from: 2,
        to: 3,
        term: 5,
        body: MessageBody::PreVote {
            last_index: 0,
            last_term: 0,
        },
    };
    c.raft(3).step(pv).unwrap();
    let st = c.status(3);
    assert_eq!((st.term, st.vote, st.role), (0, 0, Role::Follower));
    let rd = c.raft(3).ready();
    assert_eq!(
        rd.messages,
        vec![Message {
            from: 3,
            to: 2,
            term: 5,
            body: MessageBody::PreVoteResp { reject: false }
        }]
    );
    assert!(rd.hard_state.is_none(), "nothing to persist for a pre-vote");
    // A real vote in a newer term does move the term and records the vote.
    c.raft(3).advance(&rd);
    let v = Message {
        from: 2,
        to: 3,
        term: 5,
        body: MessageBody::Vote {
            last_index: 0,
            last_term: 0,
            transfer: false,
        },
    };
    c.raft(3).step(v).unwrap();
    assert_eq!((c.status(3).term, c.status(3).vote), (5, 2));
}
