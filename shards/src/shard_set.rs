//! Starting and joining the shards: one control executor plus N service
//! executors (or one executor with two task queues in the colocated shape).

use std::future::Future;
use std::io;
use std::time::Duration;

use glommio::{ExecutorJoinHandle, Latency, LocalExecutorBuilder, Shares};

use crate::context::{set_current_shard, ControlCtx, ServiceCtx, ServiceLink, ShardId};
use crate::error::{memlock_hint, rank, ShardError, ShardResult, ShardSetError};
use crate::limits::{raise_process_limits, LimitsReport};
use crate::placement::{resolve, usable_cores, Binding, Placement, ShardPlan};
use crate::priority::{raise_thread_priority, PriorityOutcome};
use crate::queue::{bounded, local_bounded, UnboundReceiver, UnboundSender};
use crate::stall_guard;

/// How to lay out and run the shards.
#[derive(Clone, Debug)]
pub struct ShardSpec {
    pub placement: Placement,
    /// `None`: derived from the placement. `Some(0)`: control and service code
    /// share one executor (separate task queues).
    pub service_shards: Option<usize>,
    /// Nice value for the control shard's thread (-10 by default). Refusal is a
    /// warning, never an error.
    pub control_nice: i32,
    /// Thread name prefix (Linux shows 15 characters).
    pub name_prefix: String,
    /// Bound of each service->control request queue.
    pub request_queue_capacity: usize,
    /// Bound of each control->service event queue.
    pub event_queue_capacity: usize,
    /// How long a task queue may run before the executor looks at timers, I/O
    /// and cross-shard queues again. Bounds message pickup latency on a busy shard.
    pub preempt_timer: Duration,
    /// Colocated shape: shares and latency target of the control task queue...
    pub control_shares: usize,
    pub control_latency: Duration,
    /// ...and shares of the service task queue.
    pub service_shares: usize,
    /// Bytes of io_uring buffer memory per executor (locked memory); `None`
    /// keeps glommio's default (10 MiB).
    pub io_memory: Option<usize>,
    /// Longest an executor may stay parked while it has runnable tasks (a
    /// glommio 0.9 lost-wakeup bug, see `stall_guard`). `None` disables the guard.
    pub stall_guard_tick: Option<Duration>,
}

impl Default for ShardSpec {
    fn default() -> Self {
        ShardSpec {
            placement: Placement::Auto,
            service_shards: None,
            control_nice: -10,
            name_prefix: "ballast".into(),
            request_queue_capacity: 1024,
            event_queue_capacity: 1024,
            preempt_timer: Duration::from_millis(5),
            control_shares: 1000,
            control_latency: Duration::from_millis(2),
            service_shares: 250,
            io_memory: None,
            stall_guard_tick: Some(Duration::from_millis(10)),
        }
    }
}

/// Running shards. Drop does not stop them: the control shard's code decides
/// when to return, and service shards see their event queue close then.
pub struct ShardSet {
    handles: Vec<(ShardId, ExecutorJoinHandle<Vec<ShardError>>)>,
    plan: ShardPlan,
    limits: LimitsReport,
}

// The control shard's halves of one service shard's queues, before connecting.
struct ControlEnds<Req: Send, Evt: Send> {
    requests: UnboundReceiver<Req>,
    events: UnboundSender<Evt>,
    ready: UnboundReceiver<()>,
    go: UnboundSender<()>,
}

struct ServiceEnds<Req: Send, Evt: Send> {
    requests: UnboundSender<Req>,
    events: UnboundReceiver<Evt>,
    ready: UnboundSender<()>,
    go: UnboundReceiver<()>,
}

impl ShardSet {
    /// Raises process limits, resolves placement and starts the executors.
    /// `control` runs once on the control shard; `service` runs once per
    /// service shard. Neither runs unless every shard started: a shard that
    /// fails to start makes the others return `ShardError::Aborted`.
    pub fn start<Req, Evt, C, CF, S, SF>(
        spec: ShardSpec,
        control: C,
        service: S,
    ) -> io::Result<ShardSet>
    where
        Req: Send + 'static,
        Evt: Send + 'static,
        C: FnOnce(ControlCtx<Req, Evt>) -> CF + Send + 'static,
        CF: Future<Output = ShardResult> + 'static,
        S: Fn(ServiceCtx<Req, Evt>) -> SF + Send + Clone + 'static,
        SF: Future<Output = ShardResult> + 'static,
    {
        let limits = raise_process_limits();
        let plan = resolve(&spec.placement, spec.service_shards, &usable_cores())?;
        tracing::info!(
            target: "ballast::shards",
            "starting shards: control on {}, {} service shard(s) on [{}]",
            plan.control,
            plan.services.len(),
            plan.services.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", ")
        );
        if plan.colocated() {
            let handle = builder(&spec, plan.control, "ctl")
                .spawn(move || {
                    stall_guard::spawn(spec.stall_guard_tick);
                    run_colocated(spec, plan.control, control, service)
                })
                .map_err(glommio_to_io)?;
            return Ok(ShardSet {
                handles: vec![(ShardId::Control, handle)],
                plan,
                limits,
            });
        }

        let mut control_ends = Vec::new();
        let mut service_ends = Vec::new();
        for _ in &plan.services {
            let (req_tx, req_rx) = bounded::<Req>(spec.request_queue_capacity);
            let (evt_tx, evt_rx) = bounded::<Evt>(spec.event_queue_capacity);
            let (ready_tx, ready_rx) = bounded::<()>(1);
            let (go_tx, go_rx) = bounded::<()>(1);
            control_ends.push(ControlEnds {
                requests: req_rx,
                events: evt_tx,
                ready: ready_rx,
                go: go_tx,
            });
            service_ends.push(ServiceEnds {
                requests: req_tx,
                events: evt_rx,
                ready: ready_tx,
                go: go_rx,
            });
        }

        let mut handles = Vec::new();
        let (nice, binding, tick) = (spec.control_nice, plan.control, spec.stall_guard_tick);
        let spawned = builder(&spec, plan.control, "ctl").spawn(move || {
            stall_guard::spawn(tick);
            run_control(nice, binding, control_ends, control)
        });
        match spawned {
            Ok(h) => handles.push((ShardId::Control, h)),
            Err(e) => return Err(glommio_to_io(e)),
        }
        for (i, (ends, binding)) in service_ends
            .into_iter()
            .zip(plan.services.clone())
            .enumerate()
        {
            let service = service.clone();
            let spawned = builder(&spec, binding, &format!("svc{i}")).spawn(move || {
                stall_guard::spawn(tick);
                run_service(i, binding, ends, service)
            });
            match spawned {
                Ok(h) => handles.push((ShardId::Service(i), h)),
                Err(e) => {
                    // Shards already started see this one's queues close and
                    // abort; wait for them so no thread outlives the error.
                    let started = ShardSet {
                        handles,
                        plan: plan.clone(),
                        limits: limits.clone(),
                    };
                    let _ = started.join();
                    return Err(glommio_to_io(e));
                }
            }
        }
        Ok(ShardSet {
            handles,
            plan,
            limits,
        })
    }

    /// Where each shard was placed.
    pub fn plan(&self) -> &ShardPlan {
        &self.plan
    }

    /// What raising RLIMIT_MEMLOCK / RLIMIT_NOFILE did.
    pub fn limits(&self) -> &LimitsReport {
        &self.limits
    }

    /// Waits for every shard to finish. Start failures that glommio reports
    /// only here (too little locked memory, io_uring setup) come back as
    /// `ShardError::StartFailed` with a hint, ahead of the aborts they caused.
    pub fn join(self) -> Result<(), ShardSetError> {
        let mut errors = Vec::new();
        for (shard, handle) in self.handles {
            match handle.join() {
                Ok(errs) => errors.extend(errs),
                Err(glommio::GlommioError::BuilderError(
                    glommio::BuilderErrorKind::ThreadPanic(payload),
                )) => errors.push(ShardError::Panicked {
                    shard,
                    message: panic_text(&*payload),
                }),
                Err(e) => {
                    let detail = e.to_string();
                    let memlock_hint = memlock_hint(&detail);
                    errors.push(ShardError::StartFailed {
                        shard,
                        detail,
                        memlock_hint,
                    });
                }
            }
        }
        errors.sort_by_key(rank);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ShardSetError { errors })
        }
    }
}

fn builder(spec: &ShardSpec, binding: Binding, role: &str) -> LocalExecutorBuilder {
    let mut b = LocalExecutorBuilder::new(binding.to_glommio())
        .name(&format!("{}-{role}", spec.name_prefix))
        .preempt_timer(spec.preempt_timer);
    if let Some(bytes) = spec.io_memory {
        b = b.io_memory(bytes);
    }
    b
}

fn control_priority(nice: i32) -> PriorityOutcome {
    if nice == 0 {
        PriorityOutcome::Unchanged
    } else {
        raise_thread_priority(nice)
    }
}

async fn run_control<Req, Evt, C, CF>(
    nice: i32,
    binding: Binding,
    ends: Vec<ControlEnds<Req, Evt>>,
    control: C,
) -> Vec<ShardError>
where
    Req: Send + 'static,
    Evt: Send + 'static,
    C: FnOnce(ControlCtx<Req, Evt>) -> CF,
    CF: Future<Output = ShardResult>,
{
    set_current_shard(ShardId::Control);
    let priority = control_priority(nice);
    let mut links = Vec::new();
    let mut readies = Vec::new();
    let mut gos = Vec::new();
    // Same order as `run_service` connects: both sides of a channel must be
    // connecting at once, so a different order would deadlock.
    for (shard, e) in ends.into_iter().enumerate() {
        let requests = e.requests.connect().await;
        let mut events = e.events.connect().await;
        events.instrument("events", shard);
        readies.push(e.ready.connect().await);
        gos.push(e.go.connect().await);
        links.push(ServiceLink {
            shard,
            requests,
            events,
        });
    }
    let mut missing = Vec::new();
    for (i, ready) in readies.iter().enumerate() {
        if ready.recv().await.is_none() {
            missing.push(i.to_string());
        }
    }
    if !missing.is_empty() {
        // Dropping `gos` unblocks the shards that did start; they abort too.
        let reason = format!("service shard(s) {} did not start", missing.join(", "));
        return vec![ShardError::Aborted {
            shard: ShardId::Control,
            reason,
        }];
    }
    for go in &gos {
        let _ = go.try_send(());
    }
    drop((readies, gos));
    let ctx = ControlCtx {
        links,
        binding,
        priority,
        colocated: false,
    };
    match control(ctx).await {
        Ok(()) => Vec::new(),
        Err(error) => vec![ShardError::Failed {
            shard: ShardId::Control,
            error,
        }],
    }
}

async fn run_service<Req, Evt, S, SF>(
    index: usize,
    binding: Binding,
    ends: ServiceEnds<Req, Evt>,
    service: S,
) -> Vec<ShardError>
where
    Req: Send + 'static,
    Evt: Send + 'static,
    S: Fn(ServiceCtx<Req, Evt>) -> SF,
    SF: Future<Output = ShardResult>,
{
    let shard = ShardId::Service(index);
    set_current_shard(shard);
    let mut requests = ends.requests.connect().await;
    requests.instrument("requests", index);
    let events = ends.events.connect().await;
    let ready = ends.ready.connect().await;
    let go = ends.go.connect().await;
    let aborted = |reason: &str| {
        vec![ShardError::Aborted {
            shard,
            reason: reason.into(),
        }]
    };
    if ready.try_send(()).is_err() {
        return aborted("control shard did not start");
    }
    if go.recv().await.is_none() {
        return aborted("another shard did not start");
    }
    drop((ready, go));
    let ctx = ServiceCtx {
        index,
        requests,
        events,
        binding,
        colocated: false,
    };
    match service(ctx).await {
        Ok(()) => Vec::new(),
        Err(error) => vec![ShardError::Failed { shard, error }],
    }
}

async fn run_colocated<Req, Evt, C, CF, S, SF>(
    spec: ShardSpec,
    binding: Binding,
    control: C,
    service: S,
) -> Vec<ShardError>
where
    Req: Send + 'static,
    Evt: Send + 'static,
    C: FnOnce(ControlCtx<Req, Evt>) -> CF,
    CF: Future<Output = ShardResult> + 'static,
    S: Fn(ServiceCtx<Req, Evt>) -> SF,
    SF: Future<Output = ShardResult> + 'static,
{
    set_current_shard(ShardId::Control);
    let priority = control_priority(spec.control_nice);
    let ex = glommio::executor();
    // Raft and apply get more shares and ask for short preemption intervals;
    // HTTP runs in a lower-share queue on the same core.
    let control_tq = ex.create_task_queue(
        Shares::Static(spec.control_shares),
        Latency::Matters(spec.control_latency),
        "control",
    );
    let service_tq = ex.create_task_queue(
        Shares::Static(spec.service_shares),
        Latency::NotImportant,
        "service",
    );
    let (mut req_tx, req_rx) = local_bounded::<Req>(spec.request_queue_capacity);
    let (mut evt_tx, evt_rx) = local_bounded::<Evt>(spec.event_queue_capacity);
    req_tx.instrument("requests", 0);
    evt_tx.instrument("events", 0);
    let cctx = ControlCtx {
        links: vec![ServiceLink {
            shard: 0,
            requests: req_rx,
            events: evt_tx,
        }],
        binding,
        priority,
        colocated: true,
    };
    let sctx = ServiceCtx {
        index: 0,
        requests: req_tx,
        events: evt_rx,
        binding,
        colocated: true,
    };
    let spawned = (
        glommio::spawn_local_into(control(cctx), control_tq),
        glommio::spawn_local_into(service(sctx), service_tq),
    );
    let (c, s) = match spawned {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => {
            let detail = format!("creating task queues: {e}");
            return vec![ShardError::StartFailed {
                shard: ShardId::Control,
                detail,
                memlock_hint: None,
            }];
        }
    };
    let (rc, rs) = futures_lite::future::zip(c, s).await;
    let mut errors = Vec::new();
    if let Err(error) = rc {
        errors.push(ShardError::Failed {
            shard: ShardId::Control,
            error,
        });
    }
    if let Err(error) = rs {
        errors.push(ShardError::Failed {
            shard: ShardId::Service(0),
            error,
        });
    }
    errors
}

fn glommio_to_io(e: glommio::GlommioError<()>) -> io::Error {
    match e {
        glommio::GlommioError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-text panic payload".into()
    }
}
