#!/usr/bin/env bash
# Runs every test of ballast, installing first what the tests need.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the suites need beyond the Rust toolchain. Nothing from Debian or PyPI yet: the
# compatibility suite (py-consul) and the fault suite (nftables) add their installs here.

# Release profile: the crash and parked-query tests run real agents under load, and one
# build serves both the tests and the benchmarks.
cargo build --release --locked --workspace --all-targets
cargo test --release --locked --workspace
