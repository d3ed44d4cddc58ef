#!/bin/sh
# Every network benchmark, one backend per invocation (each bounded to a few minutes). The raw
# JSON lines go to bench/results/<run>/<benchmark>.jsonl (run: $1, default a UTC timestamp).
# Run from the project root: sh bench/run_network.sh [run-name]
set -u
. .venv/bin/activate
JUKINET_BENCH_RESULTS="bench/results/${1:-$(date -u +%Y%m%dT%H%M%SZ)}"
export JUKINET_BENCH_RESULTS
mkdir -p "$JUKINET_BENCH_RESULTS"
run() {
    backend=$1
    shift
    echo "JUKINET_BENCH_BACKENDS=$backend python -m $*" | tee -a "$JUKINET_BENCH_RESULTS/commands.txt" >&2
    JUKINET_BENCH_BACKENDS=$backend timeout 420 python -m "$@" || echo "!! failed: $*" >&2
}
for b in sqlite postgresql; do run $b bench.seed_population 100000; done
for b in sqlite postgresql; do run $b bench.network_propagation; done
for b in sqlite postgresql; do run $b bench.network_propagation --rate 50; done
for b in sqlite postgresql; do run $b bench.network_throughput 20000; done
for b in sqlite postgresql; do run $b bench.network_throughput 20000 --batch 500; done
for b in sqlite postgresql; do run $b bench.network_throughput 20000 --profile; done
for b in sqlite postgresql; do run $b bench.network_hop_profile 4000 --batch 2000; done
for b in sqlite postgresql; do run $b bench.initial_load 20000; done
