//! Test support (feature `testing`): an in-process [`TestBackend`] over a
//! real `ballast_store` applier (and a settable fake Raft configuration), a minimal HTTP/1.1 client for glommio,
//! and a harness that runs a server on 127.0.0.1 inside a LocalExecutor.

mod backend;
mod client;
mod harness;
mod raft;

pub use backend::TestBackend;
pub use client::{ClientResponse, TestClient};
pub use harness::{raise_memlock_limit, rss_bytes, run_with_server};
pub use raft::{default_server, FakeRaft};
