//! What each shard's code receives, and which shard the current thread is.

use std::cell::Cell;
use std::fmt;

use crate::placement::Binding;
use crate::priority::PriorityOutcome;
use crate::queue::{QueueReceiver, QueueSender};

/// Identity of a shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShardId {
    Control,
    Service(usize),
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardId::Control => f.write_str("control"),
            ShardId::Service(i) => write!(f, "service-{i}"),
        }
    }
}

thread_local! {
    static CURRENT: Cell<Option<ShardId>> = const { Cell::new(None) };
}

/// The shard running on this thread (`None` off the shard threads). In the
/// colocated shape both run on one thread, which reports `Control`.
pub fn current_shard() -> Option<ShardId> {
    CURRENT.with(|c| c.get())
}

pub(crate) fn set_current_shard(id: ShardId) {
    CURRENT.with(|c| c.set(Some(id)));
}

/// The control shard's end of one service shard's queues.
pub struct ServiceLink<Req: Send + 'static, Evt: Send + 'static> {
    /// Which service shard this link leads to.
    pub shard: usize,
    /// Requests from that service shard.
    pub requests: QueueReceiver<Req>,
    /// Events to that service shard.
    pub events: QueueSender<Evt>,
}

/// Given to the control shard's code.
pub struct ControlCtx<Req: Send + 'static, Evt: Send + 'static> {
    /// One link per service shard, in shard order.
    pub links: Vec<ServiceLink<Req, Evt>>,
    /// Where this executor runs.
    pub binding: Binding,
    /// Whether the requested nice value was applied.
    pub priority: PriorityOutcome,
    /// True when the service code runs on this same executor (in its own,
    /// lower-share task queue) rather than on its own shard.
    pub colocated: bool,
}

/// Given to each service shard's code.
pub struct ServiceCtx<Req: Send + 'static, Evt: Send + 'static> {
    /// 0-based service shard index.
    pub index: usize,
    /// Requests to the control shard.
    pub requests: QueueSender<Req>,
    /// Events from the control shard.
    pub events: QueueReceiver<Evt>,
    /// Where this executor runs.
    pub binding: Binding,
    /// True when running on the control shard's executor (colocated shape).
    pub colocated: bool,
}
