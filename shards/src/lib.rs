//! ballast's thread-per-core runtime: where shards run (placement), at what
//! priority, how they talk (bounded queues) and what they measure (per-shard
//! metrics merged on read). Everything glommio-specific stays in this crate.
//!
//! Shape: one control shard (Raft, gossip, apply) and N service shards (HTTP,
//! DNS). Each service shard has a request queue to the control shard and an
//! event queue from it; both bounded. See `ShardSet::start`.

pub mod context;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod placement;
pub mod priority;
pub mod queue;
mod shard_set;
mod stall_guard;

pub use context::{current_shard, ControlCtx, ServiceCtx, ServiceLink, ShardId};
pub use error::{ShardError, ShardResult, ShardSetError};
pub use limits::{LimitOutcome, LimitsReport};
pub use metrics::MetricsSnapshot;
pub use placement::{Binding, Placement, ShardPlan};
pub use priority::{PriorityOutcome, PriorityWarning};
pub use queue::{QueueReceiver, QueueSender, SendError, TrySendError};
pub use shard_set::{ShardSet, ShardSpec};
