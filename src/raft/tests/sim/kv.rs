//! The simulated state machine: a few registers written through the log, plus the chain
//! hash the safety checker compares across nodes. Commands carry the client's operation
//! id so the proposer can answer its client and the history can name every write.
use crate::checker::mix;
use ballast_raft::{Entry, EntryKind};

pub const KEYS: usize = 4;

/// A client operation on one register. Values are unique per write (the op id), so a
/// read names the write it observed; 0 is the initial value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Read,
    Write(u64),
    Cas { expect: u64, new: u64 },
}

/// What the client was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Value(u64),
    Written,
    Swapped(bool),
}

/// A write or cas as it travels in a `Normal` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    pub op_id: u64,
    pub key: u8,
    pub op: Op,
}

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        let (tag, a, b) = match self.op {
            Op::Read => (0u8, 0, 0),
            Op::Write(v) => (1, v, 0),
            Op::Cas { expect, new } => (2, expect, new),
        };
        let mut out = Vec::with_capacity(26);
        out.extend_from_slice(&self.op_id.to_le_bytes());
        out.push(self.key);
        out.push(tag);
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
        out
    }

    pub fn decode(data: &[u8]) -> Option<Self> {
        if data.len() != 26 || usize::from(data[8]) >= KEYS {
            return None;
        }
        let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"));
        let op = match data[9] {
            1 => Op::Write(word(10)),
            2 => Op::Cas {
                expect: word(10),
                new: word(18),
            },
            _ => return None,
        };
        Some(Self {
            op_id: word(0),
            key: data[8],
            op,
        })
    }
}

/// The state machine of one host (and what a snapshot of it carries).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sm {
    /// Chain hash over every applied entry: equal on two nodes iff they applied the same.
    pub hash: u64,
    pub kv: [u64; KEYS],
}

impl Sm {
    /// Applies one committed entry; for a client command returns its id and outcome.
    pub fn apply(&mut self, e: &Entry) -> Option<(Command, Outcome)> {
        self.hash = mix(self.hash, e);
        if e.kind != EntryKind::Normal {
            return None;
        }
        let cmd = Command::decode(&e.data).expect("the sim proposes only well-formed commands");
        let slot = &mut self.kv[usize::from(cmd.key)];
        let outcome = match cmd.op {
            Op::Read => Outcome::Value(*slot),
            Op::Write(v) => {
                *slot = v;
                Outcome::Written
            }
            Op::Cas { expect, new } => {
                let ok = *slot == expect;
                if ok {
                    *slot = new;
                }
                Outcome::Swapped(ok)
            }
        };
        Some((cmd, outcome))
    }
}
