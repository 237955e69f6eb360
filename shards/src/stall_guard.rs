//! Work-around for a lost wakeup in glommio 0.9's executor loop.
//!
//! `LocalExecutor::run_task_queues` returns "ran nothing" when the preemption
//! timer has already fired before it runs a single task (the thread was
//! descheduled for longer than `preempt_timer`, which happens on a loaded
//! machine). The loop then parks in `io_uring_enter` although task queues are
//! runnable, and nothing wakes it: the shard hangs. Seen here as a flaky hang
//! of a 3-shard ping-pong test (control asleep, peer waiting on it); fixed
//! upstream only in a fork (glommio/glommio PR 53), and 0.9.0 is the latest
//! release.
//!
//! A pending timer bounds every park: when it fires, the executor loops,
//! consumes the stale preemption event and runs its queues.
//!
//! The tick adapts: `tick` while the shard is doing work (when the stall can
//! happen), doubling up to `IDLE_TICK_MAX` once it ran nothing else between
//! two ticks. Each wakeup of an executor costs time proportional to what it
//! holds (≈0.4 ms with 10,000 parked HTTP requests), so a fixed 10 ms tick
//! burned ~4% of a core on an idle agent; backed off, idle costs ~0.2%.

use std::time::Duration;

/// The slowest tick once the shard has been idle for a while: the longest a
/// stalled shard can stay asleep after work resumes.
const IDLE_TICK_MAX: Duration = Duration::from_millis(250);

/// Spawns the guard on the current executor. It lives until the executor's
/// main future returns.
pub(crate) fn spawn(tick: Option<Duration>) {
    let Some(tick) = tick else { return };
    if tick.is_zero() {
        return;
    }
    glommio::spawn_local(async move {
        let max = IDLE_TICK_MAX.max(tick);
        let mut current = tick;
        let mut last = glommio::executor().executor_stats().tasks_executed();
        loop {
            glommio::timer::sleep(current).await;
            let now = glommio::executor().executor_stats().tasks_executed();
            // The guard itself runs once per tick: more than that means other work ran.
            let busy = now.saturating_sub(last) > 1;
            last = now;
            current = if busy { tick } else { (current * 2).min(max) };
        }
    })
    .detach();
}
