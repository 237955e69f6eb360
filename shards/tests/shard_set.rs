//! Starting shard sets and moving messages through the bounded queues.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_shards::metrics;
use ballast_shards::{
    current_shard, Binding, ControlCtx, Placement, ServiceCtx, ShardError, ShardId, ShardResult,
    ShardSet, ShardSpec, TrySendError,
};

#[derive(Debug)]
enum Req {
    Ping { from: usize, seq: u64 },
}

#[derive(Debug)]
enum Evt {
    Pong { seq: u64 },
}

const PINGS: u64 = 50;

fn spec(placement: Placement, service_shards: Option<usize>) -> ShardSpec {
    ShardSpec {
        placement,
        service_shards,
        name_prefix: "t".into(),
        ..ShardSpec::default()
    }
}

/// Control: answer every ping on every link until each service shard hangs up.
async fn echo_control(ctx: ControlCtx<Req, Evt>) -> ShardResult {
    assert_eq!(current_shard(), Some(ShardId::Control));
    let mut tasks = Vec::new();
    for link in ctx.links {
        tasks.push(glommio::spawn_local(async move {
            let mut batch = Vec::new();
            let mut answered = 0u64;
            while link.requests.recv_batch(&mut batch, 64).await > 0 {
                for Req::Ping { from, seq } in batch.drain(..) {
                    assert_eq!(from, link.shard, "request arrived on the wrong link");
                    link.events
                        .try_send(Evt::Pong { seq })
                        .expect("event queue has room");
                    answered += 1;
                }
            }
            answered
        }));
    }
    for t in tasks {
        assert_eq!(t.await, PINGS);
    }
    Ok(())
}

/// Service: PINGS pings, each answered in order.
async fn ping_service(ctx: ServiceCtx<Req, Evt>) -> ShardResult {
    assert_eq!(
        current_shard(),
        Some(if ctx.colocated {
            ShardId::Control
        } else {
            ShardId::Service(ctx.index)
        })
    );
    for seq in 0..PINGS {
        ctx.requests
            .try_send(Req::Ping {
                from: ctx.index,
                seq,
            })
            .map_err(|e| e.to_string())?;
        match ctx.events.recv().await {
            Some(Evt::Pong { seq: got }) if got == seq => {}
            other => return Err(format!("expected pong {seq}, got {other:?}").into()),
        }
    }
    Ok(())
}

#[test]
fn unbound_one_control_two_services_messages_both_ways() {
    let set = ShardSet::start(
        spec(Placement::Unbound, Some(2)),
        echo_control,
        ping_service,
    )
    .unwrap();
    assert_eq!(set.plan().services, vec![Binding::Unbound; 2]);
    set.join().unwrap();
}

#[test]
fn auto_on_this_machine_pins_as_planned() {
    // On this 2-core machine: control on core 0, both service shards on core 1.
    // Nothing needs a free core: other agents may be pinned to the same cores.
    let control = |ctx: ControlCtx<Req, Evt>| async move {
        check_pinned(ctx.binding)?;
        echo_control(ctx).await
    };
    let service = |ctx: ServiceCtx<Req, Evt>| async move {
        check_pinned(ctx.binding)?;
        ping_service(ctx).await
    };
    let set = ShardSet::start(spec(Placement::Auto, Some(2)), control, service).unwrap();
    let cores = ballast_shards::placement::usable_cores();
    assert_eq!(set.plan().control, Binding::Core(cores[0]));
    assert_eq!(set.plan().services.len(), 2);
    set.join().unwrap();
}

fn check_pinned(binding: Binding) -> ShardResult {
    let mask: Vec<usize> = core_affinity::get_core_ids()
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    match binding {
        Binding::Core(c) if mask == vec![c] => Ok(()),
        Binding::Core(c) => Err(format!("pinned to {c} but affinity mask is {mask:?}").into()),
        Binding::Unbound => Err("Auto should pin".into()),
    }
}

#[test]
fn explicit_cores_beyond_the_machine_wrap_and_start() {
    // Core 7 and 8 do not exist on a 2-core machine; glommio's Fixed(7) would fail.
    let set = ShardSet::start(
        spec(Placement::Cores(vec![7, 8]), None),
        echo_control,
        ping_service,
    )
    .unwrap();
    assert_eq!(set.plan().services.len(), 1);
    set.join().unwrap();
}

#[test]
fn colocated_runs_control_and_service_in_separate_task_queues() {
    let control = |ctx: ControlCtx<Req, Evt>| async move {
        assert!(ctx.colocated);
        assert_eq!(ctx.links.len(), 1);
        let ex = glommio::executor();
        let shares = ex
            .task_queue_stats(ex.current_task_queue())
            .unwrap()
            .current_shares();
        assert_eq!(shares, 1000, "control task queue shares");
        echo_control(ctx).await
    };
    let service = |ctx: ServiceCtx<Req, Evt>| async move {
        assert!(ctx.colocated);
        let ex = glommio::executor();
        let shares = ex
            .task_queue_stats(ex.current_task_queue())
            .unwrap()
            .current_shares();
        assert_eq!(shares, 250, "service task queue shares");
        ping_service(ctx).await
    };
    let set = ShardSet::start(spec(Placement::Unbound, Some(0)), control, service).unwrap();
    assert!(set.plan().colocated());
    set.join().unwrap();
}

#[test]
fn full_request_queue_rejects_at_once_and_never_grows() {
    const CAP: usize = 4;
    let control_may_read = Arc::new(AtomicBool::new(false));
    let flag = control_may_read.clone();
    let control = move |ctx: ControlCtx<Req, Evt>| async move {
        while !flag.load(Ordering::Acquire) {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        let link = &ctx.links[0];
        let mut got = Vec::new();
        while got.len() < CAP {
            if link.requests.recv_batch(&mut got, 100).await == 0 {
                return Err("request queue closed early".into());
            }
        }
        assert_eq!(got.len(), CAP, "exactly the accepted requests arrive");
        assert_eq!(link.requests.depth(), 0);
        link.events
            .try_send(Evt::Pong { seq: 0 })
            .map_err(|e| e.to_string())?;
        // The send made after room appeared, then the hang-up.
        assert!(matches!(
            link.requests.recv().await,
            Some(Req::Ping { seq: 7, .. })
        ));
        assert!(link.requests.recv().await.is_none());
        Ok(())
    };
    let service = move |ctx: ServiceCtx<Req, Evt>| {
        let flag = control_may_read.clone();
        async move {
            let q = &ctx.requests;
            assert_eq!(q.capacity(), CAP);
            for seq in 0..CAP as u64 {
                q.try_send(Req::Ping { from: 0, seq })
                    .expect("room below capacity");
            }
            for seq in 0..1000 {
                match q.try_send(Req::Ping { from: 0, seq }) {
                    Err(TrySendError::Full(Req::Ping { seq: back, .. })) => assert_eq!(back, seq),
                    other => return Err(format!("expected Full, got {other:?}").into()),
                }
            }
            assert_eq!(q.depth(), CAP);
            let before = Instant::now();
            let res = q
                .send_timeout(Req::Ping { from: 0, seq: 99 }, Duration::from_millis(20))
                .await;
            assert!(matches!(
                res,
                Err(ballast_shards::SendError::Timeout(Req::Ping {
                    seq: 99,
                    ..
                }))
            ));
            assert!(before.elapsed() >= Duration::from_millis(20));

            let snap = metrics::snapshot();
            let labels = [("queue", "requests"), ("link", "0")];
            assert_eq!(
                snap.counter("ballast.shard.queue.sent", &labels),
                Some(CAP as u64)
            );
            let full = snap
                .counter("ballast.shard.queue.full", &labels)
                .unwrap_or(0);
            assert!(
                full > 1000,
                "1000 rejections plus the timed-out send's tries, got {full}"
            );
            let depth = snap
                .gauge("ballast.shard.queue.depth", &labels)
                .map(|v| v.as_f64());
            assert_eq!(depth, Some(CAP as f64));

            flag.store(true, Ordering::Release);
            assert!(matches!(
                ctx.events.recv().await,
                Some(Evt::Pong { seq: 0 })
            ));
            q.send_timeout(Req::Ping { from: 0, seq: 7 }, Duration::from_secs(5))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        }
    };
    let mut s = spec(Placement::Unbound, Some(1));
    s.request_queue_capacity = CAP;
    ShardSet::start(s, control, service)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn colocated_queue_is_bounded_too() {
    let control = |ctx: ControlCtx<Req, Evt>| async move {
        let events = &ctx.links[0].events;
        for seq in 0..3 {
            events
                .try_send(Evt::Pong { seq })
                .map_err(|e| e.to_string())?;
        }
        assert!(matches!(
            events.try_send(Evt::Pong { seq: 3 }),
            Err(TrySendError::Full(_))
        ));
        assert_eq!(events.depth(), 3);
        Ok(())
    };
    let service = |ctx: ServiceCtx<Req, Evt>| async move {
        let mut got = Vec::new();
        while ctx.events.recv_batch(&mut got, 10).await > 0 {}
        assert_eq!(got.len(), 3);
        Ok(())
    };
    let mut s = spec(Placement::Unbound, Some(0));
    s.event_queue_capacity = 3;
    ShardSet::start(s, control, service)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn shard_errors_and_panics_come_back_from_join() {
    let control = |ctx: ControlCtx<Req, Evt>| async move {
        for link in &ctx.links {
            while link.requests.recv().await.is_some() {}
        }
        Ok(())
    };
    let service = |ctx: ServiceCtx<Req, Evt>| async move {
        if ctx.index == 0 {
            return Err("bind 127.0.0.1:8500: address in use".into());
        }
        panic!("service one exploded");
    };
    let err = ShardSet::start(spec(Placement::Unbound, Some(2)), control, service)
        .unwrap()
        .join()
        .unwrap_err();
    assert_eq!(err.errors.len(), 2, "{err}");
    assert!(
        matches!(&err.errors[0], ShardError::Panicked { shard: ShardId::Service(1), message } if message.contains("exploded"))
    );
    assert!(
        matches!(&err.errors[1], ShardError::Failed { shard: ShardId::Service(0), error } if error.to_string().contains("address in use"))
    );
}

#[test]
fn round_trip_latency_parked_vs_busy() {
    // Printed, not asserted: the machine is shared and noisy.
    const ROUNDS: usize = 300;
    const BATCH: u64 = 100;
    let control = |ctx: ControlCtx<Req, Evt>| async move {
        let link = &ctx.links[0];
        for phase in ["parked peer", "busy peer"] {
            let mut rtts = Vec::with_capacity(ROUNDS);
            for seq in 0..ROUNDS as u64 {
                // Let the peer go idle (and park) before each ping in phase one.
                glommio::timer::sleep(Duration::from_micros(200)).await;
                let t = Instant::now();
                link.events
                    .try_send(Evt::Pong { seq })
                    .map_err(|e| e.to_string())?;
                link.requests.recv().await.ok_or("service gone")?;
                rtts.push(t.elapsed());
            }
            rtts.sort();
            let t = Instant::now();
            for seq in 0..BATCH {
                link.events
                    .try_send(Evt::Pong { seq })
                    .map_err(|e| e.to_string())?;
            }
            let mut got = Vec::new();
            while (got.len() as u64) < BATCH {
                link.requests.recv_batch(&mut got, BATCH as usize).await;
            }
            let batch = t.elapsed();
            println!(
                "control<->service round trip, {phase}: p50 {:?} p90 {:?} p99 {:?}; batch of {BATCH}: {:?} ({:?}/msg)",
                rtts[ROUNDS / 2], rtts[ROUNDS * 9 / 10], rtts[ROUNDS * 99 / 100], batch, batch / BATCH as u32
            );
        }
        Ok(())
    };
    let service = |ctx: ServiceCtx<Req, Evt>| async move {
        let per_phase = ROUNDS as u64 + BATCH;
        let busy = Rc::new(std::cell::Cell::new(true));
        let mut answered = 0u64;
        let mut spinner = None;
        while let Some(Evt::Pong { seq }) = ctx.events.recv().await {
            ctx.requests
                .try_send(Req::Ping { from: 0, seq })
                .map_err(|e| e.to_string())?;
            answered += 1;
            if answered == per_phase {
                // Phase two: keep this executor busy with CPU work that yields
                // when glommio asks (preempt timer), so it never parks.
                let flag = busy.clone();
                spinner = Some(glommio::spawn_local(async move {
                    while flag.get() {
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_micros(50) {
                            std::hint::spin_loop();
                        }
                        glommio::yield_if_needed().await;
                    }
                }));
            }
            if answered == 2 * per_phase {
                break;
            }
        }
        busy.set(false);
        if let Some(s) = spinner {
            s.await;
        }
        Ok(())
    };
    let mut s = spec(Placement::Unbound, Some(1));
    s.control_nice = 0;
    ShardSet::start(s, control, service)
        .unwrap()
        .join()
        .unwrap();
}
