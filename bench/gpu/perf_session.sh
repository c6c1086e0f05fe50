#!/bin/bash
# perf_session.sh - one GPU session for ch01:performance: build the standalone
# driver, run the GPU correctness tests, time both aisp variants at the book's
# shape, time the PyTorch peers in the same session, then repeat the aisp
# timing REPEAT times (spread of medians). Logs go to $OUT (or ./perf-out).
#   bench/gpu/perf_session.sh [tests|bench|all|profile|ab]   (default all)
# ab: the tests, then one driver run with the branch A/B (--ab 1) and the W2
# update-period A/B (--ab-period 1: v3 graph vs lazy periods 1 2 4 8, each
# timed and verified), then REPEAT more driver runs; no PyTorch.
set -u -o pipefail
OUT=${OUT:-perf-out}
WHAT=${1:-all}
REPEAT=${REPEAT:-5}
mkdir -p "$OUT"
B=build-perf
{
	date -u +"%Y-%m-%dT%H:%M:%SZ"
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
	nvcc --version | tail -1
} 2>&1 | tee "$OUT/env.txt"
tests/gpu/perf_build.sh $B 2>&1 | tee "$OUT/build.txt" || exit 1
if [ "$WHAT" = profile ]; then
	$B/perf_driver --input 256 --hidden 256 --iters 3 --ab 1 2>&1 | tee "$OUT/tests.txt"
	$B/perf_driver --iters 20 --warmup 3 --verify 0 --ab 1 --tune 5 --profile 10 2>&1 | tee "$OUT/profile.txt"
	exit 0
fi
if [ "$WHAT" = ab ]; then
	tests/gpu/perf_test.sh $B 2>&1 | tee "$OUT/tests.txt"
	$B/perf_driver --iters 20 --warmup 3 --ab 1 --ab-period 1 2>&1 | tee "$OUT/aisp.txt"
	for i in $(seq "$REPEAT"); do
		$B/perf_driver --iters 20 --warmup 3 --verify 0 2>&1 | grep median
	done 2>&1 | tee "$OUT/repeat.txt"
	echo "== summary"; grep -h "FAIL\|perf_test:" "$OUT/tests.txt"
	grep -h "median\|speedup\|verify\|graph" "$OUT/aisp.txt"
	awk '/median/ {n[$1]++; v[$1]=v[$1] " " $3} END {for (k in n) print k, "medians:" v[k]}' "$OUT/repeat.txt"
	exit 0
fi
if [ "$WHAT" != bench ]; then
	tests/gpu/perf_test.sh $B 2>&1 | tee "$OUT/tests.txt"
fi
if [ "$WHAT" != tests ]; then
	$B/perf_driver --iters 20 --warmup 3 --ab 1 2>&1 | tee "$OUT/aisp.txt"
	PYTHONUNBUFFERED=1 python3 bench/torch_performance.py --iters 20 2>&1 | tee "$OUT/torch.txt"
	for i in $(seq "$REPEAT"); do
		$B/perf_driver --iters 20 --warmup 3 --verify 0 2>&1 | grep median
	done 2>&1 | tee "$OUT/repeat.txt"
	echo "== summary"; grep -h "median\|speedup\|ceilings" "$OUT/aisp.txt" "$OUT/torch.txt"
	awk '/median/ {n[$1]++; v[$1]=v[$1] " " $3} END {for (k in n) print k, "medians:" v[k]}' "$OUT/repeat.txt"
fi
