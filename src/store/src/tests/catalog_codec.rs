//! Catalog commands through both apply paths, random streams against
//! invariants, snapshot round trips (current and version 1 formats) and
//! garbage input.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::catalog_support::*;
use super::support::Harness;
use crate::catalog::{HEALTH_CRITICAL, HEALTH_PASSING, HEALTH_WARNING, SERF_CHECK_ID};
use crate::codec::encode_snapshot_v1;
use crate::{
    decode_command, decode_snapshot, encode_command, encode_snapshot, Applier, Command, Store,
};

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

pub fn random_catalog_command(rng: &mut StdRng) -> Command {
    let nodes = ["n1", "N1", "n2", "n3"];
    let n = pick(rng, &nodes);
    match rng.gen_range(0..10) {
        0..=5 => {
            let mut r = node(n, pick(rng, &["10.0.0.1", "10.0.0.2"]));
            r.id = pick(rng, &["", ID_A, ID_B]).into();
            if rng.gen_bool(0.3) {
                r.node_meta
                    .insert("rack".into(), pick(rng, &["r1", "r2"]).into());
            }
            r.skip_node_update = rng.gen_bool(0.2);
            if rng.gen_bool(0.6) {
                let tags: Vec<&str> = (0..rng.gen_range(0..3))
                    .map(|_| pick(rng, &["a", "b", "c"]))
                    .collect();
                let id = pick(rng, &["s1", "S1", "s2"]);
                let mut s = svc(id, pick(rng, &["web", "Web", "api"]), &tags);
                if rng.gen_bool(0.05) {
                    s.meta.insert("consul-bad".into(), "x".into());
                }
                r.service = Some(s);
            }
            for _ in 0..rng.gen_range(0..3) {
                let statuses = ["", HEALTH_PASSING, HEALTH_WARNING, HEALTH_CRITICAL];
                let node_name = if rng.gen_bool(0.95) { n } else { "other" };
                r.checks.push(check(
                    node_name,
                    pick(rng, &["c1", "C1", "c2", SERF_CHECK_ID]),
                    pick(rng, &statuses),
                    pick(rng, &["", "", "s1", "s2", "missing"]),
                ));
            }
            Command::CatalogRegister(r)
        }
        6 => dereg(n, None, None),
        7 => dereg(n, Some(pick(rng, &["s1", "s2", "x"])), None),
        8 => dereg(n, None, Some(pick(rng, &["c1", "c2", SERF_CHECK_ID]))),
        _ => dereg(n, Some(""), Some(pick(rng, &["c1", ""]))),
    }
}

/// Structural invariants every reachable state keeps.
fn check_invariants(s: &crate::StateSnapshot) {
    let t = &s.catalog;
    assert_eq!(s.catalog_services().0, services_by_scan(s));
    let max = t.max_index();
    for ((nk, _), svc) in t.services.iter() {
        assert!(t.nodes.contains_key(nk), "service on a missing node");
        assert!(svc.create_index <= svc.modify_index && svc.modify_index <= max);
        if !svc.service.is_empty() {
            let (list, idx) = s.catalog_service_nodes(&svc.service);
            assert!(list.iter().any(|(_, x)| x.id == svc.id));
            assert!(idx >= svc.modify_index, "service index below an instance");
        }
    }
    for ((nk, _), c) in t.checks.iter() {
        assert!(t.nodes.contains_key(nk), "check on a missing node");
        assert!(!c.status.is_empty());
        assert!(c.modify_index <= t.checks_index);
        if !c.service_id.is_empty() {
            assert!(t
                .services
                .contains_key(&(nk.clone(), crate::catalog::tables::lower(&c.service_id))));
        }
    }
    let by_status: usize = ["passing", "warning", "critical"]
        .iter()
        .map(|st| s.checks_in_state(st).0.len())
        .sum();
    assert_eq!(by_status, s.checks_in_state("any").0.len());
    assert_eq!(
        t.node_ids.len(),
        t.nodes.values().filter(|n| !n.id.is_empty()).count()
    );
}

#[test]
fn both_apply_paths_agree_and_states_stay_consistent() {
    for seed in 0..12u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut bytes_path = Harness::new();
        let mut owned_path = Applier::new(Store::new());
        for i in 1..=250u64 {
            let cmd = random_catalog_command(&mut rng);
            let a = bytes_path.applier.apply(i, &encode_command(&cmd));
            let b = owned_path.apply_command(i, &cmd);
            assert_eq!(a, b, "seed {seed} index {i} {cmd:?}");
            assert_eq!(decode_command(&encode_command(&cmd)).unwrap(), cmd);
            let pa = bytes_path.applier.publish();
            let pb = owned_path.publish();
            assert_eq!(pa, pb);
            let mut sorted = pa.topics.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted, pa.topics, "topics sorted and unique");
            check_invariants(bytes_path.state());
        }
        bytes_path.next = 251;
        assert_eq!(bytes_path.state(), owned_path.working(), "seed {seed}");
        let snap = encode_snapshot(bytes_path.state());
        let back = decode_snapshot(&snap).unwrap();
        assert_eq!(&back, bytes_path.state(), "seed {seed}");
        assert_eq!(encode_snapshot(&back), snap, "encoding is deterministic");
    }
}

#[test]
fn snapshot_carries_the_catalog_and_its_indexes() {
    let mut h = Harness::new();
    let mut r = with_check(
        with_service(node("n1", "10.0.0.1"), svc("w", "Web", &["x"])),
        check("n1", "c", HEALTH_PASSING, "w"),
    );
    r.id = ID_A.into();
    h.register_ok(r);
    h.register_ok(with_service(node("n2", "b"), svc("a", "api", &[])));
    h.run(dereg("n2", None, None));
    h.set("k", b"v");
    let s = h.state().clone();
    let back = decode_snapshot(&encode_snapshot(&s)).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        back.catalog_service_nodes("Web"),
        s.catalog_service_nodes("Web")
    );
    assert_eq!(
        back.catalog_node_services("n2").1,
        s.catalog_node_services("n2").1
    );
    assert_eq!(
        back.catalog_node_services(&ID_A[..8]).0.unwrap().0.node,
        "n1"
    );
    assert_eq!(
        back.check_service_nodes("web"),
        s.check_service_nodes("web")
    );
}

#[test]
fn version_one_snapshots_still_load_with_an_empty_catalog() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.register_ok(node("n1", "a"));
    let s = h.state().clone();
    let v1 = encode_snapshot_v1(&s);
    assert_eq!(u32::from_le_bytes([v1[8], v1[9], v1[10], v1[11]]), 1);
    let back = decode_snapshot(&v1).unwrap();
    assert_eq!(back.kv_entry("a"), s.kv_entry("a"));
    assert_eq!(back.applied_index(), s.applied_index());
    assert!(back.catalog_nodes().0.is_empty());
    assert_eq!(back.catalog, Default::default());
    let v2 = encode_snapshot(&s);
    assert_eq!(u32::from_le_bytes([v2[8], v2[9], v2[10], v2[11]]), 2);
}

#[test]
fn garbage_and_mutated_catalog_commands_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xca7);
    let mut h = Harness::new();
    for _ in 0..5_000 {
        let mut bytes = encode_command(&random_catalog_command(&mut rng));
        for _ in 0..rng.gen_range(1..4) {
            if bytes.is_empty() {
                break;
            }
            let i = rng.gen_range(0..bytes.len());
            match rng.gen_range(0..3) {
                0 => bytes[i] ^= 1 << rng.gen_range(0..8),
                1 => bytes[i] = rng.gen(),
                _ => bytes.truncate(i),
            }
        }
        let _ = decode_command(&bytes);
        let idx = h.at();
        h.next += 1;
        let _ = h.applier.apply(idx, &bytes);
        h.applier.publish();
    }
    check_invariants(h.state());
    assert!(decode_snapshot(&encode_snapshot(h.state())).is_ok());
}

#[test]
fn mutated_catalog_snapshots_never_panic() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut h = Harness::new();
    for _ in 0..150 {
        h.run(random_catalog_command(&mut rng));
    }
    let good = encode_snapshot(h.state());
    let mut rejected = 0;
    for _ in 0..2_000 {
        let mut b = good.clone();
        let i = rng.gen_range(0..b.len());
        b[i] ^= 1 << rng.gen_range(0..8);
        match decode_snapshot(&b) {
            Ok(s) => {
                let _ = s.check_service_nodes("web");
                let _ = s.catalog_services();
            }
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > 0, "corruption must be caught at least sometimes");
}
