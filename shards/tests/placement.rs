//! Placement resolution table: Auto / Cores / Unbound on 1, 2 and 8 cores.

use ballast_shards::placement::{resolve, usable_cores};
use ballast_shards::{Binding, Placement, ShardPlan};

fn cores(n: usize) -> Vec<usize> {
    (0..n).collect()
}

fn pinned(ids: &[usize]) -> Vec<Binding> {
    ids.iter().map(|&c| Binding::Core(c)).collect()
}

fn plan(control: usize, services: &[usize]) -> ShardPlan {
    ShardPlan {
        control: Binding::Core(control),
        services: pinned(services),
    }
}

#[test]
fn auto_puts_control_on_first_core_and_services_on_the_rest() {
    let table: &[(usize, Option<usize>, ShardPlan)] = &[
        // one core: everything shares it, still one service shard
        (1, None, plan(0, &[0])),
        (2, None, plan(0, &[1])),
        (8, None, plan(0, &[1, 2, 3, 4, 5, 6, 7])),
        // more service shards than cores: they cycle over cores 1..C-1, never core 0
        (2, Some(2), plan(0, &[1, 1])),
        (8, Some(9), plan(0, &[1, 2, 3, 4, 5, 6, 7, 1, 2])),
        (1, Some(3), plan(0, &[0, 0, 0])),
        // fewer requested than cores
        (8, Some(2), plan(0, &[1, 2])),
        // colocated: one executor
        (1, Some(0), plan(0, &[])),
        (8, Some(0), plan(0, &[])),
    ];
    for (n, shards, want) in table {
        let got = resolve(&Placement::Auto, *shards, &cores(*n)).unwrap();
        assert_eq!(&got, want, "Auto on {n} cores, service_shards {shards:?}");
    }
}

#[test]
fn explicit_cores_wrap_modulo_the_core_count() {
    let table: &[(&[usize], usize, Option<usize>, ShardPlan)] = &[
        (&[0, 1], 2, None, plan(0, &[1])),
        // 5 % 2 = 1, 6 % 2 = 0, 7 % 2 = 1
        (&[5, 6, 7], 2, None, plan(1, &[0, 1])),
        (&[3, 4], 1, None, plan(0, &[0])),
        (&[9, 10, 11], 8, None, plan(1, &[2, 3])),
        // only the control core listed: the service shard shares it
        (&[3], 8, None, plan(3, &[3])),
        (&[3], 2, None, plan(1, &[1])),
        // more service shards than listed cores: cycle over the list
        (&[0, 1, 2], 8, Some(5), plan(0, &[1, 2, 1, 2, 1])),
        (&[0, 1], 2, Some(0), plan(0, &[])),
    ];
    for (list, n, shards, want) in table {
        let got = resolve(&Placement::Cores(list.to_vec()), *shards, &cores(*n)).unwrap();
        assert_eq!(
            &got, want,
            "Cores({list:?}) on {n} cores, service_shards {shards:?}"
        );
    }
}

#[test]
fn positions_map_onto_the_usable_core_ids() {
    // A process restricted to CPUs 4 and 6 (taskset): positions index that list.
    let usable = [4, 6];
    assert_eq!(
        resolve(&Placement::Auto, None, &usable).unwrap(),
        plan(4, &[6])
    );
    assert_eq!(
        resolve(&Placement::Cores(vec![1, 2, 3]), None, &usable).unwrap(),
        plan(6, &[4, 6])
    );
}

#[test]
fn unbound_pins_nothing() {
    for (n, shards, count) in [
        (1, None, 1),
        (2, None, 1),
        (8, None, 7),
        (2, Some(3), 3),
        (8, Some(0), 0),
    ] {
        let got = resolve(&Placement::Unbound, shards, &cores(n)).unwrap();
        assert_eq!(got.control, Binding::Unbound);
        assert_eq!(
            got.services,
            vec![Binding::Unbound; count],
            "Unbound on {n} cores"
        );
        assert_eq!(got.colocated(), count == 0);
    }
}

#[test]
fn empty_inputs_are_errors_not_panics() {
    assert!(resolve(&Placement::Cores(vec![]), None, &cores(2)).is_err());
    assert!(resolve(&Placement::Auto, None, &[]).is_err());
}

#[test]
fn usable_cores_lists_this_machine() {
    let ids = usable_cores();
    assert!(!ids.is_empty());
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}
