#!/bin/bash
# perf_session.sh - one GPU session for ch01:performance: build the standalone
# driver, run the GPU correctness tests, time both aisp variants at the book's
# shape, time the PyTorch peers in the same session, then repeat the aisp
# timing REPEAT times (spread of medians). Logs go to $OUT (or ./perf-out).
#   bench/gpu/perf_session.sh [tests|bench|all|profile|ab|ab2|rep]   (default all)
# ab: the tests, then one driver run with the branch A/B (--ab 1) and the W2
# update-period A/B (--ab-period 1: v3 graph vs lazy periods 1 2 4 8, each
# timed and verified), then REPEAT more driver runs; no PyTorch. ab2: the
# tests, the W1-split A/B and lazy op profile, a full-shape race check of the
# split, the PyTorch peer, REPEAT runs of the default and the split graph.
# rep: the tests, then REPEAT runs of the default graph and of branch level 3
# (50 iterations each), then one run of both variants.
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
if [ "$WHAT" = rep ]; then
	# repeatability of the default graph (median of 50 iterations, REPEAT
	# processes), and of branch level 3 (dW2 at low priority) beside it
	tests/gpu/perf_test.sh $B 2>&1 | tee "$OUT/tests.txt"
	for i in $(seq "$REPEAT"); do
		$B/perf_driver --variant optimized --iters 50 --warmup 5 --verify 0 2>&1 |
			grep median
		$B/perf_driver --variant optimized --iters 50 --warmup 5 --verify 0 \
			--branches 3 2>&1 | grep median | sed 's/^optimized_performance/branches3/'
	done 2>&1 | tee "$OUT/repeat.txt"
	$B/perf_driver --iters 50 --warmup 5 2>&1 | tee "$OUT/aisp.txt"
	echo "== summary"; grep -h "FAIL\|perf_test:" "$OUT/tests.txt"
	grep -h "median\|speedup\|verify" "$OUT/aisp.txt"
	awk '/median/ {n[$1]++; v[$1]=v[$1] " " $3} END {for (k in n) print k, "medians:" v[k]}' "$OUT/repeat.txt"
	exit 0
fi
if [ "$WHAT" = ab2 ]; then
	# v5: W1 update split A/B, race check of it at full shape, lazy op profile,
	# PyTorch peer, then REPEAT runs of the default and of the split variant
	tests/gpu/perf_test.sh $B 2>&1 | tee "$OUT/tests.txt"
	$B/perf_driver --iters 20 --warmup 3 --ab-split 1 --profile-lazy 10 2>&1 |
		tee "$OUT/aisp.txt"
	$B/perf_driver --variant optimized --iters 5 --warmup 2 --w1split 6 --w1sm 66 \
		--ab 1 2>&1 | tee "$OUT/race.txt"
	PYTHONUNBUFFERED=1 timeout 150 python3 bench/torch_performance.py --iters 20 2>&1 |
		tee "$OUT/torch.txt"
	for i in $(seq "$REPEAT"); do
		$B/perf_driver --iters 20 --warmup 3 --verify 0 2>&1 | grep median
		$B/perf_driver --iters 20 --warmup 3 --verify 0 --variant optimized \
			--w1split 6 --w1sm 66 2>&1 | grep median | sed 's/^optimized_performance/split6_66/'
	done 2>&1 | tee "$OUT/repeat.txt"
	echo "== summary"; grep -h "FAIL\|perf_test:" "$OUT/tests.txt"
	grep -h "median\|speedup\|verify\|graph\|W1\|us$" "$OUT/aisp.txt" "$OUT/race.txt"
	grep -h "median\|ceilings" "$OUT/torch.txt"
	awk '/median/ {n[$1]++; v[$1]=v[$1] " " $3} END {for (k in n) print k, "medians:" v[k]}' "$OUT/repeat.txt"
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
