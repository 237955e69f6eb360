//! Bounded queues between shards.
//!
//! Cross-executor queues wrap glommio's `shared_channel` (a lock-free SPSC ring);
//! the colocated shape (control and service on one executor) uses glommio's
//! `local_channel` behind the same types, so shard code does not care.
//!
//! Bounds are exact: a depth counter shared by the queue's two ends (and by no
//! one else) admits at most `capacity` items, because glommio rounds ring sizes
//! up to a power of two. `try_send` answers `Full` at once and never allocates;
//! the caller turns that into a 429/503.
//!
//! Cost model (pitfall 4; figures from `round_trip_latency_parked_vs_busy`,
//! debug build, shared 2-core machine): a round trip to a *parked* executor on
//! another core costs ~0.1-0.2 ms (eventfd write + futex wake each way). A
//! *busy* executor only looks at its queues at its preemption points, so a
//! message waits up to `ShardSpec::preempt_timer` plus the running task's
//! slice: p50 ~10 ms with a 5 ms timer and a CPU-bound task in the same task
//! queue. A batch of 100 messages took ~0.45 ms in all (~4.5 us each). So:
//! batch (`recv_batch`, reply in groups), keep CPU-heavy work in its own task
//! queue and yielding, and never block a thread in a crossbeam/std `recv()`
//! on an executor (it stalls every task on that core).

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::channels::shared_channel::{self, ConnectedReceiver, ConnectedSender};
use glommio::GlommioError;

use crate::metrics::{self, Counter, MetricKey};

/// Why `try_send` did not enqueue; the item comes back.
#[derive(PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The queue holds `capacity` items.
    Full(T),
    /// The receiving shard is gone.
    Closed(T),
}

/// Why `send` did not enqueue before its deadline; the item comes back.
#[derive(PartialEq, Eq)]
pub enum SendError<T> {
    /// Still full at the deadline.
    Timeout(T),
    /// The receiving shard is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(t) | TrySendError::Closed(t) => t,
        }
    }
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }
}

impl<T> SendError<T> {
    pub fn into_inner(self) -> T {
        match self {
            SendError::Timeout(t) | SendError::Closed(t) => t,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::Timeout(_) => "Timeout(..)",
            SendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "queue full",
            TrySendError::Closed(_) => "queue closed",
        })
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::Timeout(_) => "queue still full at deadline",
            SendError::Closed(_) => "queue closed",
        })
    }
}

/// Sending half before it is bound to an executor: `Send`, moved into the
/// shard that will use it, then `connect`ed there.
pub struct UnboundSender<T: Send> {
    inner: shared_channel::SharedSender<T>,
    depth: Arc<AtomicUsize>,
    capacity: usize,
}

/// Receiving half before it is bound to an executor.
pub struct UnboundReceiver<T: Send> {
    inner: shared_channel::SharedReceiver<T>,
    depth: Arc<AtomicUsize>,
}

/// A bounded cross-executor queue of exactly `capacity` items (at least 1).
/// Both halves must be connected (on their own executors) before either
/// `connect` returns: connect them concurrently or in the same order on both sides.
pub fn bounded<T: Send + 'static>(capacity: usize) -> (UnboundSender<T>, UnboundReceiver<T>) {
    let capacity = capacity.max(1);
    let (tx, rx) = shared_channel::new_bounded(capacity);
    let depth = Arc::new(AtomicUsize::new(0));
    (
        UnboundSender {
            inner: tx,
            depth: depth.clone(),
            capacity,
        },
        UnboundReceiver { inner: rx, depth },
    )
}

/// A bounded queue whose two halves live on the current executor
/// (colocated control and service code).
pub fn local_bounded<T: Send + 'static>(capacity: usize) -> (QueueSender<T>, QueueReceiver<T>) {
    let capacity = capacity.max(1);
    let (tx, rx) = local_channel::new_bounded(capacity);
    let depth = Depth::Local(Rc::new(Cell::new(0)));
    (
        QueueSender::new(SenderChan::Local(tx), depth.clone(), capacity),
        QueueReceiver {
            chan: ReceiverChan::Local(rx),
            depth,
        },
    )
}

impl<T: Send + 'static> UnboundSender<T> {
    /// Binds this half to the current executor; waits for the receiver to connect.
    pub async fn connect(self) -> QueueSender<T> {
        let connected = self.inner.connect().await;
        QueueSender::new(
            SenderChan::Shared(connected),
            Depth::Shared(self.depth),
            self.capacity,
        )
    }
}

impl<T: Send + 'static> UnboundReceiver<T> {
    /// Binds this half to the current executor; waits for the sender to connect.
    pub async fn connect(self) -> QueueReceiver<T> {
        let connected = self.inner.connect().await;
        QueueReceiver {
            chan: ReceiverChan::Shared(connected),
            depth: Depth::Shared(self.depth),
        }
    }
}

/// Items reserved by the sender and not yet taken by the receiver. Shared only
/// by the queue's two ends. Reserving before pushing keeps the bound exact
/// (glommio rounds rings up to a power of two) and never under-counts.
#[derive(Clone)]
enum Depth {
    Shared(Arc<AtomicUsize>),
    Local(Rc<Cell<usize>>),
}

impl Depth {
    fn get(&self) -> usize {
        match self {
            Depth::Shared(d) => d.load(Ordering::Acquire),
            Depth::Local(d) => d.get(),
        }
    }

    fn try_reserve(&self, capacity: usize) -> bool {
        match self {
            Depth::Shared(d) => {
                if d.fetch_add(1, Ordering::AcqRel) >= capacity {
                    d.fetch_sub(1, Ordering::AcqRel);
                    false
                } else {
                    true
                }
            }
            Depth::Local(d) => {
                if d.get() >= capacity {
                    false
                } else {
                    d.set(d.get() + 1);
                    true
                }
            }
        }
    }

    fn release(&self) {
        match self {
            Depth::Shared(d) => {
                d.fetch_sub(1, Ordering::AcqRel);
            }
            Depth::Local(d) => d.set(d.get().saturating_sub(1)),
        }
    }
}

enum SenderChan<T: Send + 'static> {
    Shared(ConnectedSender<T>),
    Local(LocalSender<T>),
}

enum ReceiverChan<T: Send + 'static> {
    Shared(ConnectedReceiver<T>),
    Local(LocalReceiver<T>),
}

struct SenderState<T: Send + 'static> {
    chan: SenderChan<T>,
    depth: Depth,
    capacity: usize,
    sent: Counter,
    rejected_full: Counter,
}

/// Sending half bound to the current executor. Cheap to clone (many tasks of a
/// shard may hold one); the queue closes when the last clone is dropped.
pub struct QueueSender<T: Send + 'static> {
    state: Rc<SenderState<T>>,
}

impl<T: Send + 'static> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        QueueSender {
            state: self.state.clone(),
        }
    }
}

/// Receiving half bound to the current executor.
pub struct QueueReceiver<T: Send + 'static> {
    chan: ReceiverChan<T>,
    depth: Depth,
}

/// First wait when a queue is full; doubles up to `MAX_BACKOFF`. glommio gives
/// no public "wait for room" that hands the item back on timeout, so `send`
/// re-tries on a timer. This only runs while a queue is full (overload).
const FIRST_BACKOFF: Duration = Duration::from_micros(50);
const MAX_BACKOFF: Duration = Duration::from_millis(2);

impl<T: Send + 'static> QueueSender<T> {
    fn new(chan: SenderChan<T>, depth: Depth, capacity: usize) -> Self {
        QueueSender {
            state: Rc::new(SenderState {
                chan,
                depth,
                capacity,
                sent: Counter::detached(),
                rejected_full: Counter::detached(),
            }),
        }
    }

    /// Exact bound of the queue.
    pub fn capacity(&self) -> usize {
        self.state.capacity
    }

    /// Items enqueued and not yet taken by the receiver.
    pub fn depth(&self) -> usize {
        self.state.depth.get()
    }

    /// Enqueues without waiting. `Full` comes back at once when `capacity`
    /// items are queued; nothing grows.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let state = &*self.state;
        let res = if !state.depth.try_reserve(state.capacity) {
            Err(TrySendError::Full(item))
        } else {
            let pushed = match &state.chan {
                SenderChan::Shared(tx) => tx.try_send(item),
                SenderChan::Local(tx) => tx.try_send(item),
            };
            pushed.map_err(|e| {
                state.depth.release();
                map_glommio(e)
            })
        };
        match &res {
            Ok(()) => self.state.sent.inc(),
            Err(TrySendError::Full(_)) => self.state.rejected_full.inc(),
            Err(TrySendError::Closed(_)) => {}
        }
        res
    }

    /// Enqueues, waiting for room until `deadline`. On timeout the item comes back.
    pub async fn send(&self, item: T, deadline: Instant) -> Result<(), SendError<T>> {
        let mut item = item;
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(t)) => return Err(SendError::Closed(t)),
                Err(TrySendError::Full(t)) => item = t,
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(SendError::Timeout(item));
            }
            glommio::timer::sleep(backoff.min(deadline - now)).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// `send` with a timeout instead of a deadline.
    pub async fn send_timeout(&self, item: T, timeout: Duration) -> Result<(), SendError<T>> {
        self.send(item, Instant::now() + timeout).await
    }

    /// Registers this queue's figures in the current shard's metrics registry:
    /// `ballast.shard.queue.sent`, `.full` (counters) and `.depth` (gauge, read
    /// at snapshot time), all labelled `queue=<name>` and `link=<link>`.
    pub fn instrument(&mut self, name: &'static str, link: usize) {
        let key = |metric| {
            MetricKey::new(metric)
                .label("queue", name)
                .label("link", link)
        };
        let Some(state) = Rc::get_mut(&mut self.state) else {
            return; // already shared: instrument before cloning
        };
        state.sent = metrics::counter_key(key("ballast.shard.queue.sent"));
        state.rejected_full = metrics::counter_key(key("ballast.shard.queue.full"));
        let weak = Rc::downgrade(&self.state);
        metrics::register_probe(key("ballast.shard.queue.depth"), move || {
            weak.upgrade()
                .map(|s| QueueSender { state: s }.depth() as i64)
        });
    }
}

impl<T: Send + 'static> QueueReceiver<T> {
    /// Next item; `None` once every sender is gone and the queue is drained.
    pub async fn recv(&self) -> Option<T> {
        let item = match &self.chan {
            ReceiverChan::Shared(rx) => rx.recv().await,
            ReceiverChan::Local(rx) => rx.recv().await,
        };
        if item.is_some() {
            self.taken();
        }
        item
    }

    /// Waits for one item, then takes up to `max - 1` more that are already
    /// queued, without waiting. Returns how many were appended to `out`;
    /// 0 means closed (or `max == 0`). One wakeup, many items (pitfall 4).
    pub async fn recv_batch(&self, out: &mut Vec<T>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let Some(first) = self.recv().await else {
            return 0;
        };
        out.push(first);
        let mut n = 1;
        // Only poll while the depth says something is there: each poll of an
        // empty channel would park another waker in glommio's reactor.
        while n < max && self.depth() > 0 {
            let next = match &self.chan {
                ReceiverChan::Shared(rx) => futures_lite::future::poll_once(rx.recv()).await,
                ReceiverChan::Local(rx) => futures_lite::future::poll_once(rx.recv()).await,
            };
            match next {
                Some(Some(item)) => {
                    self.taken();
                    out.push(item);
                    n += 1;
                }
                // Reserved by the sender but not yet visible, or closed.
                _ => break,
            }
        }
        n
    }

    /// Items queued and not yet received.
    pub fn depth(&self) -> usize {
        self.depth.get()
    }

    fn taken(&self) {
        self.depth.release();
    }
}

fn map_glommio<T>(e: GlommioError<T>) -> TrySendError<T> {
    match e {
        GlommioError::WouldBlock(glommio::ResourceType::Channel(t)) => TrySendError::Full(t),
        GlommioError::Closed(glommio::ResourceType::Channel(t)) => TrySendError::Closed(t),
        // glommio's channel try_send returns only the two variants above (they
        // carry the item back); no input can produce another.
        _ => unreachable!("glommio channel send failed with a non-channel error"),
    }
}
