#!/bin/sh
# perf_test.sh - GPU checks of ch01:performance on CUDA (needs a GPU), each a
# run of perf_driver (built by make into BUILD/tests/gpu): "### what", the
# driver's output, then "ok - what" or "FAIL - what".
#  1. the own update kernel alone (both forms) against float64 (three shapes,
#     the book's);
#  2. both variants on small and odd shapes against the float64 host
#     reference, every tensor (W1 b1 W2 b2 W3 b3) and the loss curve, with
#     the cuBLASLt update and with the own fused update kernel (both forms);
#  3. graph branch levels 0-2 give the same losses and parameters bit for bit;
#  4. planted mutants of the fused step are caught: W1 / W2 not updated, the
#     b2 update dropped, a stale FP16 copy, one SGD step of the 8 skipped,
#     lr doubled (each with both update kernels where it applies);
#  5. the book's shape: both variants against the plain-FP32 GPU reference;
#     with each update kernel, branch levels 0-2 verified, bit for bit, timed
#     (median of 20) and one step profiled op by op; the FP16 loss curve
#     follows FP32 over 40 steps; a zero bound on that curve fails.
#   tests/gpu/perf_test.sh [BUILD_DIR]   (default build)
# shellcheck disable=SC2086 # SMALL, ODD, ODD2 are option lists, split on purpose
set -u
B=${1:-build}
D=$B/tests/gpu/perf_driver
SMALL="--input 256 --hidden 256"
ODD="--input 200 --hidden 384 --classes 7 --microbatch 16 --microbatches 12 --accum 3 --seed 7"
ODD2="--input 384 --hidden 256 --classes 7 --microbatch 16 --microbatches 12 --accum 4 --seed 9"
fails=0
check() { # expect-status description command...
	want=$1; shift; what=$1; shift
	echo "### $what"
	"$@"; got=$?
	if [ "$got" -eq "$want" ]; then echo "ok   - $what"; else echo "FAIL - $what (status $got, wanted $want)"; fails=$((fails + 1)); fi
}
[ -x "$D" ] || { echo "FAIL - $D not built (make)"; exit 1; }
check 0 "update kernel alone, 128x128x32" "$D" --hidden 128 --input 128 --microbatch 32 --accum 1 --unit-update 1
check 0 "update kernel alone, 256x384x64" "$D" --hidden 256 --input 384 --microbatch 16 --accum 4 --unit-update 1
check 0 "update kernel alone, book shape 8192x8192x256" "$D" --unit-update 1
for up in lt fused pre; do
	check 0 "small shape vs float64, update $up" "$D" $SMALL --iters 0 --update $up
	check 0 "single-step groups vs float64, update $up" "$D" --input 128 --hidden 256 \
		--microbatch 64 --microbatches 4 --accum 1 --lr 0.1 --iters 0 --seed 3 --update $up
	check 0 "odd shape (B=64, 3 steps) vs float64, update $up" "$D" $ODD2 --iters 0 --update $up
	check 0 "branch levels bit-identical and verified, update $up" "$D" $SMALL --iters 2 \
		--ab 1 --variant optimized --update $up
	[ "$up" = pre ] && continue # the mutants test the check, not the kernel
	for m in w1 w2 bias step lr2; do
		check 0 "mutant $m caught, update $up" "$D" $SMALL --iters 0 --variant optimized \
			--update $up --mutant $m
	done
done
check 0 "odd shape (200/384/7, B=48: cuBLASLt update) vs float64" "$D" $ODD --iters 0
check 0 "mutant copy (stale FP16 W1) caught" "$D" $SMALL --iters 0 --variant optimized \
	--update lt --mutant copy
check 0 "book shape: both variants vs FP32 GPU reference" "$D" --iters 3
for up in lt fused pre; do
	check 0 "book shape, update $up: branch levels 0-2 verified and bit-identical (timed, profiled)" \
		"$D" --variant optimized --update $up --ab 1 --iters 20 --warmup 3 --profile 10
done
check 0 "fp16 loss curve follows fp32 (small, 40 steps)" "$D" $SMALL --curve 5
check 0 "fp16 loss curve follows fp32 (book shape, 40 steps)" "$D" --curve 5
check 1 "a zero curve bound fails" "$D" $SMALL --curve 1 --curve-tol 0
echo "perf_test: $fails failed"
[ "$fails" -eq 0 ]
