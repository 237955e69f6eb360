#!/usr/bin/env bash
# Profiles a running ballast agent with perf while a workload runs, and writes a folded
# stack file (and a flamegraph when inferno is installed) under perf/out/.
#   perf/record.sh <pid> [seconds]
set -euo pipefail
pid=${1:?usage: perf/record.sh <agent pid> [seconds]}
secs=${2:-10}
out="$(dirname "$0")/out/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
command -v perf >/dev/null || { echo "perf not found: apt-get install -y linux-perf" >&2; exit 1; }
perf record -F 999 -g -p "$pid" -o "$out/perf.data" -- sleep "$secs"
perf script -i "$out/perf.data" > "$out/perf.script"
if command -v inferno-collapse-perf >/dev/null; then
  inferno-collapse-perf < "$out/perf.script" > "$out/folded.txt"
  inferno-flamegraph < "$out/folded.txt" > "$out/flamegraph.svg"
fi
echo "profile in $out"
