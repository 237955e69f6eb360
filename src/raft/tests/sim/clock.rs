//! Virtual clock: a binary heap of timed events, ties broken by insertion order so a
//! seed always replays the same history.
use std::cmp::Ordering;
use std::collections::BinaryHeap;

pub struct Timed<E> {
    pub at: u64,
    seq: u64,
    pub ev: E,
}
impl<E> PartialEq for Timed<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<E> Eq for Timed<E> {}
impl<E> PartialOrd for Timed<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Timed<E> {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest event first.
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

pub struct Clock<E> {
    pub now: u64,
    seq: u64,
    heap: BinaryHeap<Timed<E>>,
}

impl<E> Clock<E> {
    pub fn new() -> Self {
        Self {
            now: 0,
            seq: 0,
            heap: BinaryHeap::new(),
        }
    }
    pub fn at(&mut self, at: u64, ev: E) {
        self.seq += 1;
        self.heap.push(Timed {
            at: at.max(self.now),
            seq: self.seq,
            ev,
        });
    }
    pub fn after(&mut self, delay: u64, ev: E) {
        self.at(self.now + delay, ev);
    }
    pub fn pop_until(&mut self, end: u64) -> Option<E> {
        if self.heap.peek()?.at > end {
            return None;
        }
        let t = self.heap.pop()?;
        self.now = t.at;
        Some(t.ev)
    }
}
