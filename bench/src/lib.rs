//! ballast-bench: a load generator for Consul's HTTP KV API (ballast, Consul)
//! and etcd's v3 API (native gRPC or its JSON gateway), and the side-by-side
//! table that `bench/compare` prints. See bench/README.md.

pub mod catalog_scale;
pub mod conn;
pub mod cpu;
pub mod driver;
pub mod duration;
pub mod etcd_proto;
pub mod http1;
pub mod leader;
pub mod report;
pub mod stats;
pub mod table;
pub mod workload;
