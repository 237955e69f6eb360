//! Process limits: RLIMIT_MEMLOCK / RLIMIT_NOFILE soft limits raised to the
//! hard ones. (A locked-memory shortage is tested in memlock_shortage.rs, in
//! its own process.) Limits are process-wide, so these tests hold one lock.

use std::sync::Mutex;

use ballast_shards::limits::{get, raise_memlock, raise_nofile, set};
use ballast_shards::{
    ControlCtx, LimitOutcome, Placement, ServiceCtx, ShardResult, ShardSet, ShardSpec,
};

static LIMITS_LOCK: Mutex<()> = Mutex::new(());

async fn idle_control(ctx: ControlCtx<(), ()>) -> ShardResult {
    for link in &ctx.links {
        assert!(link.requests.recv().await.is_none());
    }
    Ok(())
}

async fn idle_service(_ctx: ServiceCtx<(), ()>) -> ShardResult {
    Ok(())
}

fn spec() -> ShardSpec {
    ShardSpec {
        placement: Placement::Unbound,
        service_shards: Some(2),
        name_prefix: "l".into(),
        ..ShardSpec::default()
    }
}

#[test]
fn soft_limits_are_raised_to_hard() {
    let _g = LIMITS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (_, mem_hard) = get(libc::RLIMIT_MEMLOCK).unwrap();
    let (_, fd_hard) = get(libc::RLIMIT_NOFILE).unwrap();
    let low_mem = (64 * 1024).min(mem_hard);
    set(libc::RLIMIT_MEMLOCK, low_mem, mem_hard).unwrap();
    set(libc::RLIMIT_NOFILE, 256.min(fd_hard), fd_hard).unwrap();

    if low_mem < mem_hard {
        assert_eq!(
            raise_memlock(),
            LimitOutcome::Raised {
                from: low_mem,
                to: mem_hard
            }
        );
    }
    assert_eq!(get(libc::RLIMIT_MEMLOCK).unwrap(), (mem_hard, mem_hard));
    assert_eq!(
        raise_memlock(),
        LimitOutcome::AlreadyMax { value: mem_hard }
    );
    raise_nofile();
    assert_eq!(get(libc::RLIMIT_NOFILE).unwrap(), (fd_hard, fd_hard));

    // ShardSet::start does the same before any executor exists.
    set(libc::RLIMIT_MEMLOCK, low_mem, mem_hard).unwrap();
    let shards = ShardSet::start(spec(), idle_control, idle_service).unwrap();
    if low_mem < mem_hard {
        assert_eq!(
            shards.limits().memlock,
            LimitOutcome::Raised {
                from: low_mem,
                to: mem_hard
            }
        );
    }
    assert_eq!(get(libc::RLIMIT_MEMLOCK).unwrap().0, mem_hard);
    shards.join().unwrap();
}
