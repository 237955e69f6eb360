//! Tiny single-threaded wake-up primitives (no locks: everything runs on one executor).
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A one-shot "stop" that any number of tasks can wait for. Waiters deregister on drop,
/// so the waker table holds at most one entry per live waiter.
#[derive(Default)]
pub(crate) struct StopSignal {
    stopped: Cell<bool>,
    next_key: Cell<u64>,
    waiters: RefCell<HashMap<u64, Waker>>,
}

impl StopSignal {
    pub(crate) fn stop(&self) {
        self.stopped.set(true);
        let waiters: Vec<Waker> = self.waiters.borrow_mut().drain().map(|(_, w)| w).collect();
        for w in waiters {
            w.wake();
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.get()
    }

    pub(crate) fn wait(self: &Rc<Self>) -> Stopped {
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        Stopped {
            signal: self.clone(),
            key,
        }
    }
}

pub(crate) struct Stopped {
    signal: Rc<StopSignal>,
    key: u64,
}

impl Future for Stopped {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.stopped.get() {
            return Poll::Ready(());
        }
        self.signal
            .waiters
            .borrow_mut()
            .insert(self.key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        self.signal.waiters.borrow_mut().remove(&self.key);
    }
}

/// Where a single waiting task leaves its waker.
#[derive(Default)]
pub(crate) struct WakerSlot(Cell<Option<Waker>>);

impl WakerSlot {
    pub(crate) fn register(&self, cx: &Context<'_>) {
        self.0.set(Some(cx.waker().clone()));
    }

    pub(crate) fn wake(&self) {
        if let Some(w) = self.0.take() {
            w.wake();
        }
    }
}
