//! Unit tests for the store crate, one file per concern.

mod catalog_codec;
mod catalog_indexes;
mod catalog_register;
mod catalog_scale;
mod catalog_support;
mod catalog_topics;
mod codec_tests;
mod determinism;
mod fuzz;
mod index_rules;
mod kv_rules;
mod publish_tests;
mod support;
mod txn_tests;
mod watch_tests;
