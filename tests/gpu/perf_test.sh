#!/bin/sh
# perf_test.sh - GPU correctness checks of ch01:performance on CUDA (needs a GPU):
#  1. both variants on small shapes vs the float64 host reference (mlp_ref.h):
#     losses of every step and parameters after one iteration;
#  2. the FP16 loss curve follows the FP32 one over a few dozen steps and falls,
#     on a small shape and on the full one;
#  3. the fused graph's branch levels give bit-identical losses (no race), for
#     the default graph, the v3 graph (--period 0) and W2 period 1;
#  4. every W2 update period of the lazy graph (0 = v3 graph, 1..8) vs float64
#     on the small and the odd shape (tail periods, B = 48);
#     and the W1 update split on a side stream (--w1split, v5) likewise;
#  5. a check that must fail: a loss-curve bound of 0 (proves the comparison bites).
#   tests/gpu/perf_test.sh [BUILD_DIR]   (built by tests/gpu/perf_build.sh)
set -u
B=${1:-build-perf}
D=$B/perf_driver
fails=0
check() { # expect-status description command...
	want=$1; shift; what=$1; shift
	"$@"; got=$?
	if [ "$got" -eq "$want" ]; then echo "ok   - $what"; else echo "FAIL - $what (status $got, wanted $want)"; fails=$((fails + 1)); fi
}
check 0 "small shape vs float64 reference" $D --input 256 --hidden 256 --iters 0
check 0 "odd shape vs float64 reference" $D --input 200 --hidden 384 --classes 7 \
	--microbatch 16 --microbatches 12 --accum 3 --iters 0 --seed 7
check 0 "single-step groups vs float64 reference" $D --input 128 --hidden 256 \
	--microbatch 64 --microbatches 4 --accum 1 --lr 0.1 --iters 0 --seed 3
check 0 "graph branch levels: same losses bit for bit, each verified" $D --input 256 \
	--hidden 256 --iters 2 --ab 1 --variant optimized
check 0 "graph branch levels, v3 graph (period 0)" $D --input 256 --hidden 256 --iters 2 \
	--ab 1 --variant optimized --period 0
check 0 "graph branch levels, W2 period 1" $D --input 256 --hidden 256 --iters 2 --ab 1 \
	--variant optimized --period 1
for p in 0 1 2 3 4 8; do
	check 0 "W2 period $p vs float64 reference (small)" $D --input 256 --hidden 256 \
		--iters 0 --variant optimized --period $p
	check 0 "W2 period $p vs float64 reference (odd)" $D --input 200 --hidden 384 \
		--classes 7 --microbatch 16 --microbatches 12 --accum 3 --iters 0 --seed 7 \
		--variant optimized --period $p
done
check 0 "graph branch levels, W1 update split 6 on a side stream (half the SMs)" $D \
	--input 256 --hidden 256 --iters 2 --ab 1 --variant optimized --w1split 6 --w1sm 66
for sm in 0 66; do
	check 0 "W1 split 6 ($sm SMs) vs float64 reference (small)" $D --input 256 \
		--hidden 256 --iters 0 --variant optimized --w1split 6 --w1sm $sm
done
check 0 "W1 split 2 vs float64 reference (odd)" $D --input 200 --hidden 384 --classes 7 \
	--microbatch 16 --microbatches 12 --accum 3 --iters 0 --seed 7 --variant optimized \
	--w1split 2 --w1sm 66
check 0 "fp16 loss curve follows fp32 (small, 40 steps)" $D --input 256 --hidden 256 --curve 5
check 0 "fp16 loss curve follows fp32 (full shape, 40 steps)" $D --curve 5
check 1 "a zero curve bound fails" $D --input 256 --hidden 256 --curve 1 --curve-tol 0
echo "perf_test: $fails failed"
[ "$fails" -eq 0 ]
