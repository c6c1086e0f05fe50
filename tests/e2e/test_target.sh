#!/bin/sh
# A target added by a test (README "Adding a target"): test:axpy is one file
# in tests/targets/ and one line in tests/targets/targets.def, built into the
# test binary. It lists, runs on two ranks under mpirun, gathers into
# expectations and compares against them; the shipped aisp knows it not.
# The gather and compare read the run quieted (tests/tools/quiet_run.py: the
# same files, samples as a quiet machine would give them): on a busy machine
# the two real ranks were seen 38% apart, a verdict no test can promise.
# Its variant optimized_axpy_launch carries AISP_VARIANT_HOST_LAUNCH from
# the worker to the rank file (host_launch 1) and to the verdicts: judged by
# device time, which the host backend has none of (as a CUDA run without
# CUPTI), so it is not judged on either GPU: never pass, never a drain, exit 3.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "list-targets of the test binary" env AISP_TEST_TARGETS=1 "$AISP_TEST" bench list-targets --chapter test
expect_text "optimized_axpy" "test:axpy is listed with its variants"
expect_exit 2 "the shipped binary has no test:axpy" "$AISP" bench run --targets test:axpy --out "$T/none"
expect_exit 0 "mpirun -np 2 bench run --targets test:axpy" \
	$MPIRUN -np 2 "$AISP_TEST" bench run --targets test:axpy --backend host --out "$T/run" \
	--iterations 5 --time-budget 0.2
expect_text "[6/6]" "both ranks ran the three variants"
check "2 rank files pass the independent h5py reader" \
	"$PY" "$(dirname "$0")/../tools/check_rankfiles.py" "$T/run" --ranks 2 --targets test:axpy
check "the rank files say which variant is host-launch-bound" "$PY" - "$T/run" <<'PYEOF'
import glob, sys, h5py
for p in sorted(glob.glob(sys.argv[1] + "/rank-*.h5")):
    with h5py.File(p, "r") as f:
        g = f["targets/test:axpy"]
        got = {v: int(g[v].attrs["host_launch"]) for v in g}
        assert got == {"baseline_axpy": 0, "optimized_axpy": 0, "optimized_axpy_launch": 1}, (p, got)
PYEOF
check "the run quieted" "$PY" "$(dirname "$0")/../tools/quiet_run.py" "$T/run" "$T/run" "$T/quiet"
expect_exit 0 "gather the run into expectations" "$AISP_TEST" gather "$T/quiet" --out "$T/exp"
expect_text "optimized_axpy_launch: host-launch-bound, judged by device time (CUPTI): 0 of 2 GPUs" \
	"gather says what the flagged variant is judged by"
E=$(ls "$T"/exp/expectations_*.json 2>/dev/null | head -1)
check "expectations hold test:axpy" grep -q '"test:axpy' "$E"
check "the flagged variant is judged_by device_ms, with no device time" "$PY" - "$E" <<'PYEOF'
import json, sys
vs = json.load(open(sys.argv[1]))["examples"]["axpy_host"]["fleet"]["variants"]
assert vs["optimized_axpy_launch"]["judged_by"] == "device_ms", vs["optimized_axpy_launch"]
assert vs["optimized_axpy_launch"]["device_median_ms"] is None
assert vs["optimized_axpy_launch"]["device_gpus"] == 0
assert vs["optimized_axpy"]["judged_by"] == "median_ms" and "device_median_ms" not in vs["optimized_axpy"]
PYEOF
expect_exit 3 "compare the run against its own expectations: one variant not judged" \
	"$AISP_TEST" compare "$T/quiet" --expectations "$E" --drain-list "$T/drain"
expect_text "unjudged  test:axpy/optimized_axpy_launch GPU" "the flagged variant is not judged"
expect_text "not judged (host launch path, no device time)" "and says why"
expect_text "4 pass, 0 improved, 0 skipped, 2 not judged, 0 missing, 0 outlier, 0 regressed, 0 failed; 0 fleet-wide; 0 of 1 nodes to drain; exit 3" \
	"never pass, never a drain"
check "the drain list is empty" test ! -s "$T/drain"
"$AISP_TEST" report "$T/quiet" --expectations "$E" -o "$T/r.md" >/dev/null 2>&1
check "report: NOT JUDGED, with the reason" grep -q "NOT JUDGED test:axpy/optimized_axpy_launch on .*not judged (host launch path, no device" "$T/r.md"
finish
