//! Unit tests of the state machine fed crafted messages.

use std::net::SocketAddr;
use std::time::Duration;

use crate::types::{Event, Output, Status};
use crate::wire::{self, Accusation, Alive, Msg, QueryMsg};
use crate::{Config, Gossip};

fn addr(p: u16) -> SocketAddr {
    format!("10.0.0.{p}:8301").parse().unwrap()
}

fn s(v: u64) -> Duration {
    Duration::from_secs(v)
}

fn me() -> Gossip {
    Gossip::new(Config::lan("me", addr(1)), s(0), 5)
}

fn feed(g: &mut Gossip, msgs: &[Msg], now: Duration) {
    let mut p = vec![wire::VERSION];
    for m in msgs {
        p.extend_from_slice(&wire::encode_msg(m));
    }
    g.handle_packet(addr(200), &p, now).unwrap();
}

fn events(g: &mut Gossip) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(o) = g.poll_output() {
        if let Output::Event(e) = o {
            v.push(e);
        }
    }
    v
}

fn alive(node: &str, p: u16, inc: u32) -> Msg {
    Msg::Alive(Alive { node: node.into(), addr: addr(p), incarnation: inc, tags: Default::default() })
}

fn acc(node: &str, inc: u32, from: &str) -> Accusation {
    Accusation { node: node.into(), incarnation: inc, from: from.into() }
}

#[test]
fn refutes_suspicion_and_death_about_itself() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1)], s(1));
    feed(&mut g, &[Msg::Suspect(acc("me", 0, "b"))], s(2));
    assert_eq!(g.member("me").unwrap().incarnation, 1, "refuted above the accusation");
    assert_eq!(g.member("me").unwrap().status, Status::Alive);
    assert_eq!(g.local_health(), 1, "refuting raises local health score");
    feed(&mut g, &[Msg::Dead(acc("me", 7, "b"))], s(3));
    assert_eq!(g.member("me").unwrap().incarnation, 8);
    // An alive claim about us with a newer incarnation we never sent: out-announce it.
    feed(&mut g, &[alive("me", 1, 20)], s(4));
    assert_eq!(g.member("me").unwrap().incarnation, 21);
    // Old claims are ignored.
    feed(&mut g, &[Msg::Suspect(acc("me", 3, "b"))], s(5));
    assert_eq!(g.member("me").unwrap().incarnation, 21);
}

#[test]
fn suspicion_times_out_to_failed_and_alive_refutation_clears_it() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1)], s(1));
    feed(&mut g, &[Msg::Suspect(acc("b", 1, "c"))], s(2));
    // Refuted in time: stays alive.
    feed(&mut g, &[alive("b", 2, 2)], s(3));
    g.tick(s(100));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    // Not refuted: failed once the suspicion timeout passes.
    feed(&mut g, &[Msg::Suspect(acc("b", 2, "c"))], s(101));
    events(&mut g);
    g.tick(s(101) + g.next_deadline().saturating_sub(s(101)));
    let mut t = s(101);
    for _ in 0..200 {
        t += Duration::from_millis(500);
        g.tick(t);
    }
    assert_eq!(g.member("b").unwrap().status, Status::Failed);
    assert!(events(&mut g).iter().any(|e| matches!(e, Event::Failed(m) if m.name == "b")));
    // Duplicates of old news change nothing.
    feed(&mut g, &[alive("b", 2, 2), Msg::Dead(acc("b", 2, "c"))], t);
    assert_eq!(g.member("b").unwrap().status, Status::Failed);
    // A restart with a higher incarnation comes back.
    feed(&mut g, &[alive("b", 2, 3)], t);
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
}

#[test]
fn leave_intent_ordering_by_lamport_time() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1)], s(1));
    feed(&mut g, &[Msg::JoinIntent { node: "b".into(), ltime: 10 }], s(1));
    // An older leave intent is ignored.
    feed(&mut g, &[Msg::LeaveIntent { node: "b".into(), ltime: 5, prune: false }], s(2));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    // A newer one marks it leaving; a yet newer join brings it back.
    feed(&mut g, &[Msg::LeaveIntent { node: "b".into(), ltime: 11, prune: false }], s(3));
    assert_eq!(g.member("b").unwrap().status, Status::Leaving);
    feed(&mut g, &[Msg::JoinIntent { node: "b".into(), ltime: 12 }], s(4));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    // Leaving then the leave message: Left, not Failed.
    feed(&mut g, &[Msg::LeaveIntent { node: "b".into(), ltime: 13, prune: false }], s(5));
    feed(&mut g, &[Msg::Dead(acc("b", 1, "b"))], s(6));
    assert_eq!(g.member("b").unwrap().status, Status::Left);
    // An intent about an unknown node is kept for when it joins.
    feed(&mut g, &[Msg::LeaveIntent { node: "z".into(), ltime: 30, prune: false }], s(7));
    feed(&mut g, &[alive("z", 9, 1)], s(8));
    assert_eq!(g.member("z").unwrap().status, Status::Leaving);
    // A leave intent about ourselves while we are not leaving is answered, not believed.
    feed(&mut g, &[Msg::LeaveIntent { node: "me".into(), ltime: 40, prune: false }], s(9));
    assert_eq!(g.member("me").unwrap().status, Status::Alive);
}

#[test]
fn force_leave_and_prune() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1)], s(1));
    feed(&mut g, &[Msg::Dead(acc("b", 1, "c"))], s(2));
    assert_eq!(g.member("b").unwrap().status, Status::Failed);
    events(&mut g);
    g.force_leave("b", false, s(3)).unwrap();
    assert_eq!(g.member("b").unwrap().status, Status::Left);
    assert!(events(&mut g).iter().any(|e| matches!(e, Event::Leave(m) if m.name == "b")));
    g.force_leave("b", true, s(4)).unwrap();
    assert!(g.member("b").is_none());
    assert!(events(&mut g).iter().any(|e| matches!(e, Event::Reap(m) if m.name == "b")));
    assert!(g.force_leave("nobody", false, s(5)).is_err());
    assert!(g.force_leave("me", false, s(5)).is_err());
}

#[test]
fn reap_after_reconnect_and_tombstone_timeouts() {
    let mut cfg = Config::lan("me", addr(1));
    cfg.reconnect_timeout = s(100);
    cfg.tombstone_timeout = s(50);
    let mut g = Gossip::new(cfg, s(0), 1);
    feed(&mut g, &[alive("f", 2, 1), alive("l", 3, 1), alive("a", 4, 1)], s(1));
    feed(&mut g, &[Msg::Dead(acc("f", 1, "a")), Msg::Dead(acc("l", 1, "l"))], s(10));
    assert_eq!(g.member("l").unwrap().status, Status::Left);
    for t in (10..=200).step_by(5) {
        g.tick(s(t));
        if t == 55 {
            assert!(g.member("l").is_some() && g.member("f").is_some());
        }
        if t == 80 {
            assert!(g.member("l").is_none(), "left reaped after tombstone_timeout");
            assert!(g.member("f").is_some());
        }
    }
    assert!(g.member("f").is_none(), "failed reaped after reconnect_timeout");
    assert!(g.member("me").is_some(), "never reaps itself");
    let reaped: Vec<String> =
        events(&mut g).into_iter().filter_map(|e| if let Event::Reap(m) = e { Some(m.name) } else { None }).collect();
    assert!(reaped.contains(&"f".to_string()) && reaped.contains(&"l".to_string()));
}

#[test]
fn query_dedup_and_single_answer() {
    let mut g = me();
    let q = QueryMsg {
        id: 77,
        ltime: 3,
        origin: "o".into(),
        origin_addr: addr(9),
        timeout_ms: 5000,
        name: "ping".into(),
        payload: vec![1],
    };
    feed(&mut g, &[Msg::Query(q.clone())], s(1));
    feed(&mut g, &[Msg::Query(q.clone()), Msg::Query(q)], s(1));
    let qs = events(&mut g).into_iter().filter(|e| matches!(e, Event::Query { .. })).count();
    assert_eq!(qs, 1, "a query is delivered once");
    g.respond(77, b"pong".to_vec(), s(2));
    let mut answers = 0;
    while let Some(o) = g.poll_output() {
        if let Output::Packet { to, bytes } = o {
            let msgs = wire::decode_packet(&bytes).unwrap();
            if msgs.iter().any(|m| matches!(m, Msg::QueryResponse { id: 77, .. })) {
                assert_eq!(to, addr(9), "answers go straight to the originator");
                answers += 1;
            }
        }
    }
    assert_eq!(answers, 1);
    g.respond(77, b"again".to_vec(), s(2));
    assert!(g.poll_output().is_none(), "one answer per query");
    // Originator side: responses deduplicated by responder, done at timeout.
    let id = g.query("x", vec![], s(3), s(10));
    events(&mut g);
    let resp = Msg::QueryResponse { id, from: "b".into(), payload: vec![] };
    feed(&mut g, &[resp.clone(), resp], s(11));
    let got = events(&mut g).into_iter().filter(|e| matches!(e, Event::QueryResponse { .. })).count();
    assert_eq!(got, 1);
    g.tick(s(14));
    assert!(events(&mut g).contains(&Event::QueryDone { id }));
}

#[test]
fn leave_goes_leaving_then_left_and_stops_refuting() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1)], s(1));
    g.leave(s(2));
    assert_eq!(g.member("me").unwrap().status, Status::Leaving);
    assert!(!g.leave_done());
    let mut t = s(2);
    for _ in 0..100 {
        t += Duration::from_millis(200);
        g.tick(t);
        while g.poll_output().is_some() {}
    }
    assert!(g.leave_done());
    assert_eq!(g.member("me").unwrap().status, Status::Left);
    let inc = g.member("me").unwrap().incarnation;
    feed(&mut g, &[Msg::Suspect(acc("me", inc, "b"))], t);
    assert_eq!(g.member("me").unwrap().incarnation, inc, "a leaving node does not refute");
}

#[test]
fn packets_respect_the_budget() {
    let mut cfg = Config::lan("me", addr(1));
    cfg.packet_budget = 300;
    let mut g = Gossip::new(cfg, s(0), 1);
    let many: Vec<Msg> = (0..40).map(|i| alive(&format!("n{i}"), 10 + i as u16, 1)).collect();
    for chunk in many.chunks(5) {
        feed(&mut g, chunk, s(1));
    }
    let mut t = s(1);
    let mut seen = 0;
    for _ in 0..50 {
        t += Duration::from_millis(200);
        g.tick(t);
        while let Some(o) = g.poll_output() {
            if let Output::Packet { bytes, .. } = o {
                assert!(bytes.len() <= 300, "packet of {} bytes", bytes.len());
                assert!(wire::decode_packet(&bytes).is_ok());
                seen += 1;
            }
        }
    }
    assert!(seen > 0);
}

/// Tick at every deadline up to `until`, as a prompt driver does, with
/// every peer answering our pings at once.
fn run_to(g: &mut Gossip, until: Duration) {
    loop {
        let d = g.next_deadline();
        if d > until {
            break;
        }
        g.tick(d);
        let mut acks = Vec::new();
        while let Some(o) = g.poll_output() {
            if let Output::Packet { bytes, .. } = o {
                for m in wire::decode_packet(&bytes).unwrap() {
                    if let Msg::Ping { seq, .. } = m {
                        acks.push(Msg::Ack { seq, payload: vec![] });
                    }
                }
            }
        }
        if !acks.is_empty() {
            feed(g, &acks, d);
        }
    }
    g.tick(until);
}

fn packets(g: &mut Gossip) -> Vec<(SocketAddr, Vec<Msg>)> {
    let mut v = Vec::new();
    while let Some(o) = g.poll_output() {
        if let Output::Packet { to, bytes } = o {
            v.push((to, wire::decode_packet(&bytes).unwrap()));
        }
    }
    v
}

fn carries_alive(msgs: &[Msg], node: &str, inc: u32) -> bool {
    msgs.iter().any(|m| matches!(m, Msg::Alive(a) if a.node == node && a.incarnation == inc))
}

#[test]
fn buddy_accusation_goes_first_so_the_ack_carries_the_refutation() {
    // Prober side: a probe of a suspect puts the accusation before the ping.
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1)], s(1));
    feed(&mut g, &[Msg::Suspect(acc("b", 1, "x"))], s(1));
    packets(&mut g);
    let mut probe = None;
    for t in 2..6 {
        g.tick(s(t));
        for (to, msgs) in packets(&mut g) {
            if to == addr(2) && msgs.iter().any(|m| matches!(m, Msg::Ping { .. })) {
                probe = Some(msgs);
            }
        }
        if probe.is_some() {
            break;
        }
    }
    let msgs = probe.expect("b is probed");
    assert!(matches!(&msgs[0], Msg::Suspect(a) if a.node == "b" && a.from == "me"), "{msgs:?}");
    assert!(matches!(&msgs[1], Msg::Ping { target, .. } if target == "b"));
    assert_eq!(g.metrics().buddy_suspects_sent, 1);

    // Suspect side: the ack to that packet already carries our refutation.
    let mut b = me();
    feed(&mut b, &[alive("p", 200, 1)], s(1));
    packets(&mut b);
    feed(&mut b, &[Msg::Suspect(acc("me", 0, "p")), Msg::Ping { seq: 9, target: "me".into() }], s(2));
    let out = packets(&mut b);
    let ack = out
        .iter()
        .find(|(_, m)| m.iter().any(|m| matches!(m, Msg::Ack { seq: 9, .. })))
        .expect("acked");
    assert_eq!(ack.0, addr(200));
    assert!(carries_alive(&ack.1, "me", 1), "ack carries the refutation: {:?}", ack.1);
}

#[test]
fn refutation_leaves_at_once_to_the_accuser_with_lifeguard() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1), alive("d", 4, 1)], s(1));
    packets(&mut g);
    // Heard through gossip (no ping to answer): no tick needed to send it.
    feed(&mut g, &[Msg::Suspect(acc("me", 0, "c"))], s(2));
    let out = packets(&mut g);
    assert!(out.iter().any(|(to, m)| *to == addr(3) && carries_alive(m, "me", 1)), "{out:?}");
    assert!(out.iter().filter(|(_, m)| carries_alive(m, "me", 1)).count() >= 2, "and a gossip round");
    assert_eq!(g.metrics().refutations, 1);

    // Plain SWIM waits for its gossip tick.
    let mut cfg = Config::lan("me", addr(1));
    cfg.lifeguard = false;
    let mut p = Gossip::new(cfg, s(0), 5);
    feed(&mut p, &[alive("b", 2, 1), alive("c", 3, 1)], s(1));
    packets(&mut p);
    feed(&mut p, &[Msg::Suspect(acc("me", 0, "c"))], s(2));
    assert!(packets(&mut p).is_empty());
    assert_eq!(p.member("me").unwrap().incarnation, 1);
}

#[test]
fn accusation_of_a_newer_incarnation_restarts_the_suspicion() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1), alive("d", 4, 1)], s(1));
    // 4 live members: k = 2, min 4 s, max 24 s. Suspected at incarnation 1.
    feed(&mut g, &[Msg::Suspect(acc("b", 1, "c"))], s(1));
    assert_eq!(g.metrics().suspicions_started, 1);
    // b refuted (we missed its alive) and is accused again at 2 by d.
    // Taken as a confirmation of the old suspicion this would shorten it to
    // 1 + 11.4 s, past already; as a new suspicion it runs 24 s from now.
    run_to(&mut g, s(20));
    feed(&mut g, &[Msg::Suspect(acc("b", 2, "d"))], s(20));
    assert_eq!(g.member("b").unwrap().incarnation, 2);
    assert_eq!(g.metrics().suspicions_started, 2);
    run_to(&mut g, s(30));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    // A death at the refuted incarnation is old news.
    feed(&mut g, &[Msg::Dead(acc("b", 1, "c"))], s(31));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    // Same-incarnation accusations still confirm (and shorten) it.
    feed(&mut g, &[Msg::Suspect(acc("b", 2, "c"))], s(32));
    assert_eq!(g.metrics().suspicions_started, 2);
    run_to(&mut g, s(45));
    assert_eq!(g.member("b").unwrap().status, Status::Failed);
    assert_eq!(g.member("b").unwrap().incarnation, 2);
    assert_eq!(g.metrics().suspicions_expired, 1);
}

#[test]
fn stale_accusations_are_answered_with_the_newer_alive() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 4), alive("c", 3, 1)], s(1));
    // A refutation of ours the sender missed: it accuses us at 1, we are at 3.
    feed(&mut g, &[Msg::Suspect(acc("me", 2, "c"))], s(1));
    assert_eq!(g.member("me").unwrap().incarnation, 3);
    packets(&mut g);
    // addr(200) still accuses b at 3 and us at 1, in one datagram.
    feed(&mut g, &[Msg::Suspect(acc("b", 3, "c")), Msg::Dead(acc("me", 1, "c"))], s(2));
    let out = packets(&mut g);
    let to_sender: Vec<&Vec<Msg>> = out.iter().filter(|(to, _)| *to == addr(200)).map(|(_, m)| m).collect();
    assert_eq!(to_sender.len(), 1, "one datagram answers the whole packet: {out:?}");
    assert!(carries_alive(to_sender[0], "b", 4) && carries_alive(to_sender[0], "me", 3));
    assert_eq!(g.member("me").unwrap().incarnation, 3, "no refutation for stale news");
    assert_eq!(g.metrics().suspicions_started, 0);
    // Current accusations are not stale: b is suspected, nothing goes back.
    feed(&mut g, &[Msg::Suspect(acc("b", 4, "c"))], s(3));
    assert!(packets(&mut g).iter().all(|(to, m)| *to != addr(200) || !carries_alive(m, "b", 4)));
    // Nor do we correct from a suspect view of our own.
    feed(&mut g, &[Msg::Suspect(acc("b", 2, "c"))], s(4));
    assert!(packets(&mut g).iter().all(|(to, _)| *to != addr(200)));
}

#[test]
fn timers_noticed_late_accuse_nobody_until_input_is_read() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1), alive("d", 4, 1)], s(1));
    feed(&mut g, &[Msg::Suspect(acc("b", 1, "c")), Msg::Suspect(acc("b", 1, "d"))], s(1));
    run_to(&mut g, s(5));
    let due = g.next_deadline();
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    // Our process was stopped for 20 s across the suspicion's deadline (and
    // our probe's): on waking, nothing is accused yet.
    let failed_before = g.metrics().probes_failed;
    let wake = s(45);
    g.tick(wake);
    assert_eq!(g.member("b").unwrap().status, Status::Alive, "deadline {due:?} passed while we were stopped");
    assert_eq!(g.metrics().probes_failed, failed_before);
    assert!(g.next_deadline() > wake, "no busy loop while holding");
    // The refutation waiting in our receive buffer is read: b stays alive.
    feed(&mut g, &[alive("b", 2, 2)], wake);
    run_to(&mut g, s(200));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);

    // Without a refutation the hold ends (as long again as we were away) and
    // the suspicion expires as usual.
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1), alive("d", 4, 1)], s(1));
    feed(&mut g, &[Msg::Suspect(acc("b", 1, "c")), Msg::Suspect(acc("b", 1, "d"))], s(1));
    run_to(&mut g, s(5));
    g.tick(s(45));
    assert_eq!(g.member("b").unwrap().status, Status::Alive);
    run_to(&mut g, s(200));
    assert_eq!(g.member("b").unwrap().status, Status::Failed);

    // Plain SWIM acts on its timers at once.
    let mut cfg = Config::lan("me", addr(1));
    cfg.lifeguard = false;
    let mut p = Gossip::new(cfg, s(0), 5);
    feed(&mut p, &[alive("b", 2, 1), alive("c", 3, 1), alive("d", 4, 1)], s(1));
    feed(&mut p, &[Msg::Suspect(acc("b", 1, "c"))], s(1));
    run_to(&mut p, s(5));
    p.tick(s(45));
    assert_eq!(p.member("b").unwrap().status, Status::Failed);
}

#[test]
fn an_idle_gossip_timer_is_not_lateness() {
    let mut g = me();
    feed(&mut g, &[alive("b", 2, 1), alive("c", 3, 1), alive("d", 4, 1)], s(1));
    run_to(&mut g, s(20));
    assert_eq!(g.broadcast_queue_len(), 0, "everything gossiped");
    // A probe starts (and is answered) at `at`; the gossip timer, idle, is
    // left at `at` + 200 ms. Nothing is due before the next probe at `at` + 1 s.
    let at = g.next_deadline();
    run_to(&mut g, at);
    assert_eq!(g.next_deadline(), at + s(1));
    // News arrives 900 ms later: the stale gossip timer becomes due at once,
    // 700 ms ago, but we were running all along.
    let now = at + Duration::from_millis(900);
    feed(&mut g, &[Msg::Suspect(acc("b", 1, "c"))], now);
    g.tick(now);
    assert!(g.hold_accusations_until <= now, "no hold from a stale gossip timer");
}
