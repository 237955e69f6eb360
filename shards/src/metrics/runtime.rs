//! Executor figures (glommio's own counters) copied into the shard registry at
//! snapshot time, labelled with the shard, for the agent to export.

use super::key::MetricKey;
use super::registry::counter_key;

/// Copies glommio's executor and task-queue statistics into this shard's
/// registry. Call only on a glommio executor thread.
pub(crate) fn refresh() {
    let shard = match crate::context::current_shard() {
        Some(s) => s.to_string(),
        None => return,
    };
    let ex = glommio::executor();
    let stats = ex.executor_stats();
    let key = |name| MetricKey::new(name).label("shard", &shard);
    counter_key(key("ballast.runtime.tasks_executed")).set_total(stats.tasks_executed());
    counter_key(key("ballast.runtime.scheduler_runs")).set_total(stats.scheduler_runs());
    counter_key(key("ballast.runtime.busy_us"))
        .set_total(stats.executor_runtime().as_micros() as u64);
    let queues = ex.all_task_queue_stats(Vec::new());
    for q in queues {
        let tq = q.index().index();
        let key = |name| key(name).label("task_queue", tq);
        counter_key(key("ballast.runtime.task_queue.runtime_us"))
            .set_total(q.runtime().as_micros() as u64);
        counter_key(key("ballast.runtime.task_queue.selected")).set_total(q.queue_selected());
    }
}
