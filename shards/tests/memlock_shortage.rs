//! Too little lockable memory: glommio reports it only when a shard thread is
//! joined. `ShardSet::join` must return it as a clear error (with a hint), and
//! no shard may hang waiting for the ones that never started.
//!
//! Lowering the hard RLIMIT_MEMLOCK cannot be undone (raising it needs
//! CAP_SYS_RESOURCE), so `main` re-runs this binary as a child that does it.

use std::process::Command;
use std::time::{Duration, Instant};

use ballast_shards::limits::set;
use ballast_shards::{
    ControlCtx, Placement, ServiceCtx, ShardError, ShardResult, ShardSet, ShardSpec,
};

const CHILD_ENV: &str = "BALLAST_SHARDS_MEMLOCK_CHILD";

async fn idle_control(ctx: ControlCtx<(), ()>) -> ShardResult {
    for link in &ctx.links {
        while link.requests.recv().await.is_some() {}
    }
    Ok(())
}

async fn idle_service(_ctx: ServiceCtx<(), ()>) -> ShardResult {
    Ok(())
}

/// In the child: lower the limit, start, print what join said, exit 0 when it
/// is the expected error.
fn child() -> i32 {
    if let Err(e) = set(libc::RLIMIT_MEMLOCK, 16 * 1024, 16 * 1024) {
        println!("RESULT cannot-lower-limit {e}");
        return 3;
    }
    let spec = ShardSpec {
        placement: Placement::Unbound,
        service_shards: Some(2),
        name_prefix: "mem".into(),
        ..ShardSpec::default()
    };
    let shards = match ShardSet::start(spec, idle_control, idle_service) {
        Ok(s) => s,
        Err(e) => {
            println!("RESULT start-error {e}");
            return 4;
        }
    };
    match shards.join() {
        Ok(()) => {
            println!("RESULT started-anyway");
            5
        }
        Err(err) => {
            println!("RESULT error: {err}");
            let first_is_memlock = matches!(
                err.primary(),
                Some(ShardError::StartFailed { memlock_hint: Some(h), .. }) if h.contains("RLIMIT_MEMLOCK")
            );
            if first_is_memlock && err.to_string().contains("ulimit -l") {
                0
            } else {
                println!("RESULT unexpected {err:?}");
                6
            }
        }
    }
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        std::process::exit(child());
    }
    print!("test memlock_shortage_is_a_clear_error_at_join ... ");
    let exe = std::env::current_exe().expect("own path");
    let started = Instant::now();
    let mut child = Command::new(exe)
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child");
    // A shard waiting forever for a peer that never started would hang here.
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("shard set hung after a start failure");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("child output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed ({}):\n{text}",
        out.status
    );
    println!("ok\n  {}", text.trim());
}
