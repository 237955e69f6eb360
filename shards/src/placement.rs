//! Where each shard runs: turning a `Placement` policy into one binding per shard.
//!
//! Resolution is a pure function of the policy, the requested number of service
//! shards and the list of usable cores, so it is tested as a table without
//! starting threads. Core numbers given by the operator are *positions* that wrap
//! modulo the usable cores: glommio's `Placement::Fixed(n)` fails when `n` is not
//! an online core, and several agents on a 2-core machine must all start.

use std::fmt;
use std::io;

/// Operator's placement policy.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Placement {
    /// Control shard on the first usable core, service shards on the others
    /// (at least one service shard; on a single core everything shares it).
    #[default]
    Auto,
    /// Explicit cores: the first entry is the control shard's, the rest are the
    /// service shards'. Entries wrap modulo the number of usable cores.
    Cores(Vec<usize>),
    /// Pin nothing; the kernel places the threads.
    Unbound,
}

/// Where one shard's executor runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Pinned to this CPU id.
    Core(usize),
    /// Not pinned.
    Unbound,
}

impl Binding {
    /// The CPU id, when pinned.
    pub fn core(self) -> Option<usize> {
        match self {
            Binding::Core(c) => Some(c),
            Binding::Unbound => None,
        }
    }

    pub(crate) fn to_glommio(self) -> glommio::Placement {
        match self {
            Binding::Core(c) => glommio::Placement::Fixed(c),
            Binding::Unbound => glommio::Placement::Unbound,
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binding::Core(c) => write!(f, "core {c}"),
            Binding::Unbound => f.write_str("unbound"),
        }
    }
}

/// The resolved layout: one binding for the control shard and one per service shard.
/// `services` empty means "colocated": control and service code share one executor
/// (separate task queues).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardPlan {
    pub control: Binding,
    pub services: Vec<Binding>,
}

impl ShardPlan {
    /// True when control and service run on one executor.
    pub fn colocated(&self) -> bool {
        self.services.is_empty()
    }
}

/// CPU ids this process may run on (its affinity mask), in ascending order.
/// Falls back to `0..available_parallelism` when the mask cannot be read.
pub fn usable_cores() -> Vec<usize> {
    let mut ids: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    if ids.is_empty() {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        ids = (0..n).collect();
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Resolves `placement` for a machine whose usable CPU ids are `cores`.
///
/// `service_shards`: `None` derives the count from the policy (Auto and Unbound:
/// one per core but the control's, at least one; Cores: one per listed core after
/// the first, at least one). `Some(0)` asks for the colocated single-executor shape.
pub fn resolve(
    placement: &Placement,
    service_shards: Option<usize>,
    cores: &[usize],
) -> io::Result<ShardPlan> {
    if cores.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no usable cores",
        ));
    }
    let n_cores = cores.len();
    let at = |position: usize| Binding::Core(cores[position % n_cores]);
    match placement {
        Placement::Auto => {
            let count = service_shards.unwrap_or_else(|| (n_cores - 1).max(1));
            // Service shards cycle over cores 1..C-1 so the control core stays
            // theirs alone when there is more than one core.
            let services = (0..count)
                .map(|i| {
                    if n_cores == 1 {
                        at(0)
                    } else {
                        at(1 + i % (n_cores - 1))
                    }
                })
                .collect();
            Ok(ShardPlan {
                control: at(0),
                services,
            })
        }
        Placement::Cores(list) => {
            let Some((&first, rest)) = list.split_first() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "placement core list is empty",
                ));
            };
            // With only the control core listed, service shards share it.
            let pool: &[usize] = if rest.is_empty() { &list[..1] } else { rest };
            let count = service_shards.unwrap_or(pool.len());
            let services = (0..count).map(|i| at(pool[i % pool.len()])).collect();
            Ok(ShardPlan {
                control: at(first),
                services,
            })
        }
        Placement::Unbound => {
            let count = service_shards.unwrap_or_else(|| (n_cores - 1).max(1));
            Ok(ShardPlan {
                control: Binding::Unbound,
                services: vec![Binding::Unbound; count],
            })
        }
    }
}
