#!/usr/bin/env bash
# Runs every test of ballast, installing first what the tests need.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the suites need beyond the Rust toolchain: nftables for the cluster tests' one-way
# loss case (they say so and skip only that case when it cannot be had).
if ! command -v nft >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq nftables >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq nftables >/dev/null 2>&1) \
      || echo "run-all: could not install nftables; the one-way loss case will be skipped"
  fi
fi

# Release profile: the crash and parked-query tests run real agents under load, and one
# build serves both the tests and the benchmarks.
cargo build --release --locked --workspace --all-targets
cargo test --release --locked --workspace --no-fail-fast
