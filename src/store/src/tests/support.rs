//! Shared helpers: drive an Applier through encoded commands, as Raft does.

use std::sync::Arc;

use crate::{encode_command, Applier, ApplyResult, Command, KvVerb, Store, TxnKvOp, TxnOp};

pub struct Harness {
    pub applier: Applier,
    pub next: u64,
}

impl Harness {
    pub fn new() -> Self {
        Harness {
            applier: Applier::new(Store::new()),
            next: 1,
        }
    }

    /// Apply at the next raft index (through the encoded bytes path).
    pub fn run(&mut self, cmd: Command) -> ApplyResult {
        let idx = self.next;
        self.next += 1;
        let bytes = encode_command(&cmd);
        self.applier.apply(idx, &bytes)
    }

    /// Index the next command will be applied at.
    pub fn at(&self) -> u64 {
        self.next
    }

    pub fn set(&mut self, key: &str, value: &[u8]) -> ApplyResult {
        self.run(Command::KvSet {
            key: key.into(),
            value: Some(value.to_vec()),
            flags: 0,
        })
    }

    pub fn delete(&mut self, key: &str) -> ApplyResult {
        self.run(Command::KvDelete { key: key.into() })
    }

    pub fn add_session(&mut self, id: &str) {
        self.applier
            .working_mut_for_test()
            .sessions
            .insert(Arc::from(id));
    }

    pub fn state(&self) -> &crate::StateSnapshot {
        self.applier.working()
    }
}

pub fn kv(verb: &str, key: &str) -> TxnKvOp {
    TxnKvOp {
        verb: KvVerb::parse(verb),
        key: key.into(),
        value: None,
        flags: 0,
        index: 0,
        session: String::new(),
    }
}

pub fn op(k: TxnKvOp) -> TxnOp {
    TxnOp::Kv(k)
}

pub fn with_value(mut k: TxnKvOp, v: &[u8]) -> TxnKvOp {
    k.value = Some(v.to_vec());
    k
}

pub fn with_index(mut k: TxnKvOp, i: u64) -> TxnKvOp {
    k.index = i;
    k
}

pub fn with_session(mut k: TxnKvOp, s: &str) -> TxnKvOp {
    k.session = s.into();
    k
}
