//! Requests a service shard has sent to the control shard and still waits on.
//! Single-threaded (one per shard): no locks. Bounded: `begin` refuses past `capacity`, so a
//! storm of writes gets 429 at once instead of a growing backlog.
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

enum Slot<T> {
    Waiting(Option<Waker>),
    Done(T),
}

pub struct Pending<T> {
    inner: RefCell<Inner<T>>,
}

struct Inner<T> {
    next_id: u64,
    capacity: usize,
    slots: HashMap<u64, Slot<T>>,
}

impl<T> Pending<T> {
    pub fn new(capacity: usize) -> Rc<Self> {
        Rc::new(Pending { inner: RefCell::new(Inner { next_id: 1, capacity, slots: HashMap::new() }) })
    }

    /// Reserves a slot; None when the shard already has `capacity` requests in flight.
    pub fn begin(self: &Rc<Self>) -> Option<Ticket<T>> {
        let mut inner = self.inner.borrow_mut();
        if inner.slots.len() >= inner.capacity {
            return None;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.slots.insert(id, Slot::Waiting(None));
        Some(Ticket { id, owner: self.clone() })
    }

    /// Delivers a result; ignored when the waiter already gave up (its ticket was dropped).
    pub fn complete(&self, id: u64, value: T) {
        let mut inner = self.inner.borrow_mut();
        if let Some(slot) = inner.slots.get_mut(&id) {
            if let Slot::Waiting(w) = std::mem::replace(slot, Slot::Done(value)) {
                if let Some(w) = w {
                    w.wake();
                }
            }
        }
    }

    /// Fails every waiting request (control shard gone, shutting down).
    pub fn fail_all(&self, make: impl Fn() -> T) {
        let ids: Vec<u64> = self.inner.borrow().slots.keys().copied().collect();
        for id in ids {
            self.complete(id, make());
        }
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.inner.borrow().slots.len()
    }
}

/// A reserved slot; awaiting it yields the result. Dropping it (client went away, deadline)
/// frees the slot, so abandoned requests never pile up.
pub struct Ticket<T> {
    pub id: u64,
    owner: Rc<Pending<T>>,
}

impl<T> Future for Ticket<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut inner = self.owner.inner.borrow_mut();
        let slot = inner.slots.get_mut(&self.id).expect("slot lives as long as its ticket");
        match slot {
            Slot::Done(_) => match inner.slots.remove(&self.id) {
                Some(Slot::Done(v)) => {
                    // keep the slot reserved until drop so ids are not reused meanwhile
                    inner.slots.insert(self.id, Slot::Waiting(None));
                    Poll::Ready(v)
                }
                _ => unreachable!(),
            },
            Slot::Waiting(w) => {
                *w = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Ticket<T> {
    fn drop(&mut self) {
        self.owner.inner.borrow_mut().slots.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;
    use std::sync::Arc;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn bounded_and_freed_on_drop() {
        let p: Rc<Pending<u32>> = Pending::new(2);
        let a = p.begin().unwrap();
        let b = p.begin().unwrap();
        assert!(p.begin().is_none(), "third request over the bound is refused");
        drop(a);
        assert!(p.begin().is_some());
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut b = Box::pin(b);
        assert!(b.as_mut().poll(&mut cx).is_pending());
        p.complete(b.id, 7);
        assert_eq!(b.as_mut().poll(&mut cx), Poll::Ready(7));
        drop(b);
        assert_eq!(p.in_flight(), 0);
        p.complete(999, 1); // unknown ids are ignored
    }
}
