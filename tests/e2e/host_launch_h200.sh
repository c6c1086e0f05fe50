#!/bin/sh
# Host-launch-bound variants judged by their CUPTI device time, on the real
# H200 rank files of bench/gpu/final-2026-12-04 (aisp cc1787f, 2026-12-04):
# the make-run file against a baseline gathered from the 5 ch01-final runs of
# the same GPU. Its ch01:gemm/baseline_gemm median (40 cuBLAS launches) was
# +58.7% over theirs (the host's launch path), its device time -0.2%: judged
# by median it drained the healthy node; judged by device time it passes.
# Then fleets of 8 GPUs made from that file (tests/tools/fleet_from_run.py):
# a GPU whose host launch path is 60% slower is not drained, one whose device
# time is 10% slower is, and one without a device time is not judged.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
D=$(cd "$(dirname "$0")/../../bench/gpu/final-2026-12-04" && pwd)
RUN=$D/make-run-rundir
tar xzf "$D/repeat-results.tgz" -C "$T" --wildcards 'runs/ch01-final-*' ||
	{ no "unpack the H200 runs"; finish; }
R=$T/runs
expect_exit 0 "gather of the 5 ch01-final runs" "$AISP" gather "$R/ch01-final-1" "$R/ch01-final-2" \
	"$R/ch01-final-3" "$R/ch01-final-4" "$R/ch01-final-5" --out "$T/g"
expect_text "h200 ch01:gemm/baseline_gemm: host-launch-bound, judged by device time (CUPTI): 1 of 1 GPUs, median 0.262957 ms" \
	"gather: baseline_gemm (a file from before the attribute) judged by its device time"
n=$(grep -c "host-launch-bound, judged by device time" "$T/out")
if [ "$n" = 3 ]; then ok "3 variants judged by device time"; else no "3 variants judged by device time (got $n)"; fi
E=$T/g/expectations_h200.json
check "numbers match numpy (tests/tools/check_fleet.py)" "$PY" "$TOOLS/check_fleet.py" "$T/g" \
	"$R/ch01-final-1" "$R/ch01-final-2" "$R/ch01-final-3" "$R/ch01-final-4" "$R/ch01-final-5"
check "expectations: judged_by, the medians kept, the tolerance from the device noise" "$PY" - "$E" <<'PYEOF'
import sys, json
e = json.load(open(sys.argv[1]))["examples"]["gemm_cuda"]
vs = e["fleet"]["variants"]
dev = {v for v, x in vs.items() if x["judged_by"] == "device_ms"}
assert dev == {"baseline_gemm", "optimized_gemm_batched", "optimized_gemm_strided"}, dev
assert abs(vs["baseline_gemm"]["median_ms"] - 0.3458) < 1e-4, vs["baseline_gemm"]
assert abs(e["metrics"]["baseline_time_ms"] - 0.3458) < 1e-4, e["metrics"]
assert abs(vs["baseline_gemm"]["device_median_ms"] - 0.262957) < 1e-9, vs["baseline_gemm"]
assert vs["baseline_gemm"]["device_noise_run_pairs"] == 4, vs["baseline_gemm"]
assert e["tolerance"] == {"lower": 0.027, "upper": 0.027, "source": "noise"}, e["tolerance"]
PYEOF
expect_exit 0 "compare of the make-run file (healthy node vm) exits 0" \
	"$AISP" compare "$RUN" --expectations "$E" --drain-list "$T/drain" --verbose
expect_text "pass      ch01:gemm/baseline_gemm GPU GPU-30c21d09-5cdd-90d7-c89a-0b8129d7fce7 node vm rank 0: 0.262525 ms, device time -0.2% (CUPTI) vs expected 0.262957 ms" \
	"baseline_gemm passes on its device time"
expect_text "the event median, host launch path included, was 0.548768 ms, not judged" \
	"its event median (+58.7%) is shown, not judged"
expect_text "0 not judged, 0 missing, 0 outlier, 0 regressed, 0 failed; 0 fleet-wide; 0 of 1 nodes to drain; exit 0" \
	"nothing regressed, nobody drained"
check "the drain list is empty" sh -c "[ ! -s '$T/drain' ]"
expect_exit 0 "report of the make-run file exits 0" "$AISP" report "$RUN" --expectations "$E" -o "$T/r.md"
check "report: nothing to drain, baseline_gemm PASS by its device time" sh -c \
	"grep -q 'Nothing to drain' '$T/r.md' && grep -Eq '^\| ch01:gemm/baseline_gemm \(device time\) +\| 0\.263 +\| 0\.2625 +\| -0\.2% +\| PASS' '$T/r.md'"
mkdir "$T/nodev" && cp "$RUN/rank-00000.h5" "$RUN/job.yaml" "$T/nodev/"
"$PY" -c 'import h5py, sys; h5py.File(sys.argv[1], "r+")["targets/ch01:gemm/baseline_gemm"].attrs["device_ms"] = float("nan")' \
	"$T/nodev/rank-00000.h5"
expect_exit 3 "without baseline_gemm's device time: incomplete (exit 3)" \
	"$AISP" compare "$T/nodev" --expectations "$E" --drain-list "$T/drain"
expect_text "unjudged  ch01:gemm/baseline_gemm GPU GPU-30c21d09-5cdd-90d7-c89a-0b8129d7fce7 node vm rank 0: not judged (host launch path, no device time); the event median, host launch path included, was 0.548768 ms" \
	"not judged (host launch path, no device time)"
check "...and never drained" sh -c "[ ! -s '$T/drain' ]"

# fleet NAME ARGS...: 4 nodes x 2 GPUs from the make-run file into $T/NAME.
fleet() {
	name=$1; shift
	"$PY" "$TOOLS/fleet_from_run.py" "$RUN" "$T/$name" --seed 7 --run-id "$name" "$@" ||
		no "fleet $name"
}
fleet host --host-slow 5:1.6:ch01:gemm/baseline_gemm
expect_exit 0 "8 GPUs, GPU 5's host launch path 60% slower: exit 0" \
	"$AISP" compare "$T/host" --expectations "$E" --drain-list "$T/drain" --verbose
expect_text "0 of 4 nodes to drain; exit 0" "nobody drained"
check "GPU 5 passes on its device time" grep -Eq \
	'^pass      ch01:gemm/baseline_gemm GPU .* node n03 rank 5: .*device time [+-]0\.[0-9]% \(CUPTI\) vs its siblings' "$T/out"
fleet dev --device-slow 5:1.10:ch01:gemm/baseline_gemm
expect_exit 1 "GPU 5's device time 10% slower: exit 1" \
	"$AISP" compare "$T/dev" --expectations "$E" --drain-list "$T/drain"
check "its node alone is drained, the device time named" sh -c "[ \$(wc -l <'$T/drain') = 1 ] &&
	grep -Eq '^n03 aisp regressed: 1 of 14 items slow; worst ch01:gemm/baseline_gemm device time \(CUPTI\) \+(9|10)\.[0-9]% ' '$T/drain'"
expect_text "device time +" "compare says device time"
cp "$T/drain" "$T/drain.compare"
"$AISP" report "$T/dev" --expectations "$E" -o "$T/dev.md" --drain-list "$T/drain" >/dev/null 2>&1
check "report drains the same node for the same reason" cmp -s "$T/drain" "$T/drain.compare"
fleet nodev8 --no-device 5:ch01:gemm/baseline_gemm --host-slow 5:1.6:ch01:gemm/baseline_gemm
expect_exit 3 "GPU 5 without a device time (host path 60% slower): exit 3" \
	"$AISP" compare "$T/nodev8" --expectations "$E" --drain-list "$T/drain"
expect_text "not judged (host launch path, no device time)" "GPU 5 not judged, and why"
check "...and nobody drained" sh -c "[ ! -s '$T/drain' ]"
finish
