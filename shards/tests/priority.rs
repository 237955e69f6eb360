//! Control-shard priority: applied when permitted, a single warning when not.
//!
//! As root the refusal path is made real per thread: Linux capabilities are
//! per thread, so a test thread drops CAP_SYS_NICE from its effective set and
//! RLIMIT_NICE (process-wide, hence the lock) decides, exactly as for an
//! unprivileged agent.

mod common;

use std::sync::Mutex;

use ballast_shards::priority::{current_thread_nice, set_thread_nice};
use ballast_shards::{
    ControlCtx, Placement, PriorityOutcome, PriorityWarning, ServiceCtx, ShardResult, ShardSet,
    ShardSpec,
};
use common::{capture_warnings, drop_effective_cap, has_effective_cap, warnings, CAP_SYS_NICE};

static RLIMIT_NICE_LOCK: Mutex<()> = Mutex::new(());

fn with_rlimit_nice<R>(soft_and_hard: u64, f: impl FnOnce() -> R) -> R {
    let _guard = RLIMIT_NICE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let before = ballast_shards::limits::get(libc::RLIMIT_NICE).unwrap();
    let set = ballast_shards::limits::set(
        libc::RLIMIT_NICE,
        soft_and_hard,
        soft_and_hard.max(before.1),
    );
    let out = f();
    if set.is_ok() {
        let _ = ballast_shards::limits::set(libc::RLIMIT_NICE, before.0, before.1);
    }
    out
}

/// Runs `f` on a fresh thread without CAP_SYS_NICE.
fn unprivileged<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::spawn(move || {
        drop_effective_cap(CAP_SYS_NICE).expect("capset");
        assert!(!has_effective_cap(CAP_SYS_NICE));
        f()
    })
    .join()
    .unwrap()
}

#[test]
fn refused_without_capability_when_rlimit_nice_forbids() {
    with_rlimit_nice(0, || {
        unprivileged(|| {
            assert_eq!(current_thread_nice().unwrap(), 0);
            match set_thread_nice(-10) {
                PriorityOutcome::Warning(PriorityWarning::NotPermitted {
                    requested,
                    rlimit_nice,
                    errno,
                }) => {
                    assert_eq!(requested, -10);
                    assert_eq!(rlimit_nice, Some(0));
                    assert!(
                        errno == libc::EACCES || errno == libc::EPERM,
                        "errno {errno}"
                    );
                }
                other => panic!("expected NotPermitted, got {other:?}"),
            }
            assert_eq!(current_thread_nice().unwrap(), 0, "priority unchanged");
            // Lowering one's own priority is always allowed.
            assert_eq!(set_thread_nice(5), PriorityOutcome::Applied { nice: 5 });
            assert_eq!(current_thread_nice().unwrap(), 5);
        })
    });
}

#[test]
fn rlimit_nice_alone_permits_it() {
    // RLIMIT_NICE 30 allows nice down to 20 - 30 = -10 without the capability.
    with_rlimit_nice(30, || {
        let (soft, _) = ballast_shards::limits::get(libc::RLIMIT_NICE).unwrap();
        unprivileged(move || {
            let got = set_thread_nice(-10);
            if soft >= 30 {
                assert_eq!(got, PriorityOutcome::Applied { nice: -10 });
                assert_eq!(current_thread_nice().unwrap(), -10);
                // One step further is beyond the limit.
                assert!(matches!(
                    set_thread_nice(-11),
                    PriorityOutcome::Warning(PriorityWarning::NotPermitted { .. })
                ));
            } else {
                // Not root: the limit could not be raised, so the refusal path holds.
                assert!(matches!(
                    got,
                    PriorityOutcome::Warning(PriorityWarning::NotPermitted { .. })
                ));
            }
        })
    });
}

#[test]
fn out_of_range_nice_is_a_warning_not_a_clamp() {
    std::thread::spawn(|| {
        for nice in [-21, 20, i32::MIN, i32::MAX] {
            assert_eq!(
                set_thread_nice(nice),
                PriorityOutcome::Warning(PriorityWarning::OutOfRange { requested: nice })
            );
        }
        assert_eq!(current_thread_nice().unwrap(), 0);
    })
    .join()
    .unwrap();
}

async fn check_control(ctx: ControlCtx<(), ()>, privileged: bool) -> ShardResult {
    let nice = current_thread_nice()?;
    if privileged {
        assert_eq!(ctx.priority, PriorityOutcome::Applied { nice: -10 });
        assert_eq!(nice, -10);
    } else {
        assert!(
            matches!(
                ctx.priority,
                PriorityOutcome::Warning(PriorityWarning::NotPermitted { .. })
            ),
            "{:?}",
            ctx.priority
        );
        assert_eq!(nice, 0, "control keeps running at normal priority");
    }
    for link in &ctx.links {
        assert!(link.requests.recv().await.is_none());
    }
    Ok(())
}

async fn check_service(_ctx: ServiceCtx<(), ()>) -> ShardResult {
    // Only the control thread is reprioritised.
    assert_eq!(current_thread_nice()?, 0);
    Ok(())
}

fn spec() -> ShardSpec {
    ShardSpec {
        placement: Placement::Unbound,
        service_shards: Some(2),
        name_prefix: "p".into(),
        ..ShardSpec::default()
    }
}

#[test]
fn unprivileged_shard_set_logs_one_warning_and_runs() {
    capture_warnings();
    let count = || {
        warnings()
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.contains("control shard priority"))
            .count()
    };
    let before = count();
    with_rlimit_nice(0, || {
        unprivileged(|| {
            // Executor threads spawned from here inherit the reduced capabilities.
            ShardSet::start(spec(), |ctx| check_control(ctx, false), check_service)
                .unwrap()
                .join()
                .unwrap();
        })
    });
    assert_eq!(
        count() - before,
        1,
        "exactly one warning: {:?}",
        warnings().lock().unwrap()
    );
}

#[test]
fn privileged_control_thread_runs_at_its_nice() {
    let _guard = RLIMIT_NICE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let privileged = has_effective_cap(CAP_SYS_NICE)
        || ballast_shards::limits::get(libc::RLIMIT_NICE).unwrap().0 >= 30;
    ShardSet::start(
        spec(),
        move |ctx| check_control(ctx, privileged),
        check_service,
    )
    .unwrap()
    .join()
    .unwrap();
}
