#!/bin/sh
# A target added by a test (README "Adding a target"): test:axpy is one file
# in tests/targets/ and one line in tests/targets/targets.def, built into the
# test binary. It lists, runs on two ranks under mpirun, gathers into
# expectations and compares clean against them; the shipped aisp knows it not.
# The gather and compare read the run quieted (tests/tools/quiet_run.py: the
# same files, samples as a quiet machine would give them): on a busy machine
# the two real ranks were seen 38% apart, a verdict no test can promise.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "list-targets of the test binary" env AISP_TEST_TARGETS=1 "$AISP_TEST" bench list-targets --chapter test
expect_text "optimized_axpy" "test:axpy is listed with its variants"
expect_exit 2 "the shipped binary has no test:axpy" "$AISP" bench run --targets test:axpy --out "$T/none"
expect_exit 0 "mpirun -np 2 bench run --targets test:axpy" \
	$MPIRUN -np 2 "$AISP_TEST" bench run --targets test:axpy --backend host --out "$T/run" \
	--iterations 5 --time-budget 0.2
expect_text "[4/4]" "both ranks ran both variants"
check "2 rank files pass the independent h5py reader" \
	"$PY" "$(dirname "$0")/../tools/check_rankfiles.py" "$T/run" --ranks 2 --targets test:axpy
check "the run quieted" "$PY" "$(dirname "$0")/../tools/quiet_run.py" "$T/run" "$T/run" "$T/quiet"
expect_exit 0 "gather the run into expectations" "$AISP_TEST" gather "$T/quiet" --out "$T/exp"
E=$(ls "$T"/exp/expectations_*.json 2>/dev/null | head -1)
check "expectations hold test:axpy" grep -q '"test:axpy' "$E"
expect_exit 0 "compare the run against its own expectations" "$AISP_TEST" compare "$T/quiet" --expectations "$E"
finish
