#!/bin/sh
# The real pipeline: four `mpirun -np 4 aisp bench run` runs of the host
# backend (16 ranks on 8 pretend nodes via SLURMD_NODENAME): A healthy, B
# with rank 2 slowed 50% by the test knob, C every rank 50% slow, D every
# rank 50% slow and rank 1 150%. What holds on a loaded machine is checked
# on the real rank files: the knobs recorded, every sample at least the
# knob's share over the 2 ms a sample sleeps, gather refusing the knobs'
# files unless told, 8 GPUs on 4 nodes, the numbers matching numpy. The
# verdicts are checked on the same runs as a quiet machine measures them
# (tests/tools/quiet_run.py: the real files, names and knobs, samples of a
# 0.5% spread around one quiet time per variant, times each file's knob):
# a busy machine spreads these ranks by 70% and shifts whole runs by 50%,
# so no verdict on their raw timings is certain. Quieted, gather flags rank
# 2 of B, compare exits 1 naming it and its node, the drain list holds that
# node, the HTML report shows it, A passes, C is a fleet-wide finding (exit
# 1, nobody drained) and D drains only rank 1's node.
# --update-expectations writes the same schema and refuses a run under
# test knobs.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
command -v mpirun >/dev/null 2>&1 || { echo "skip: no mpirun"; exit 77; }
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
cat >"$T/job.yaml" <<'YAML'
name: fleet
iterations: 15
warmup: 2
max_iterations: 30
time_budget_s: 0.1
timeout_s: 20
targets:
  - target: test:fault
    variants: [baseline_fault]
    params: {ms: 2, mode: 0}
YAML
cat >"$T/as_node.sh" <<'SH'
#!/bin/sh
# Play a node per two ranks; every rank ALL_PCT percent slow (when set), rank
# SLOW_RANK SLOW_PCT percent (50 unless set).
r=${OMPI_COMM_WORLD_RANK:-0}
export SLURMD_NODENAME=n$(( r / 2 + FIRST_NODE ))
[ -n "${ALL_PCT:-}" ] && export AISP_TEST_SLOW_PCT="$ALL_PCT"
[ "$r" = "${SLOW_RANK:--1}" ] && export AISP_TEST_SLOW_PCT="${SLOW_PCT:-50}"
exec "$@"
SH
export AISP_TEST_TARGETS=1
run() { # run DIR FIRST_NODE SLOW_RANK [ALL_PCT [SLOW_PCT]]
	FIRST_NODE=$2 SLOW_RANK=$3 ALL_PCT=${4:-} SLOW_PCT=${5:-50} $MPIRUN -x FIRST_NODE -x SLOW_RANK \
		-x ALL_PCT -x SLOW_PCT -x AISP_TEST_TARGETS -np 4 \
		sh "$T/as_node.sh" "$AISP" bench run --job "$T/job.yaml" --backend host --out "$1"
}
expect_exit 0 "mpirun -np 4 run A" run "$T/runA" 1 -1
expect_exit 0 "mpirun -np 4 run B with rank 2 slowed" run "$T/runB" 3 2
expect_exit 0 "mpirun -np 4 run C: every rank 50% slow" run "$T/runC" 5 -1 50
expect_exit 0 "mpirun -np 4 run D: every rank 50% slow, rank 1 150%" run "$T/runD" 7 1 50 150
check "the rank files record the test knobs in effect" "$PY" - "$T/runB" <<'PYEOF'
import sys, h5py
k = [h5py.File("%s/rank-%05d.h5" % (sys.argv[1], r))["/"].attrs["test_knobs"] for r in range(4)]
k = [x.decode() if isinstance(x, bytes) else x for x in k]
ok = k[2] == "AISP_TEST_SLOW_PCT=50 AISP_TEST_TARGETS=1" and k[0] == "AISP_TEST_TARGETS=1"
print("    knobs:", k) if not ok else None
sys.exit(0 if ok else 1)
PYEOF
check "every sample lasts its 2 ms of sleep times the rank's knob" "$PY" - "$T" <<'PYEOF'
import sys, h5py
want = {"runA": [1, 1, 1, 1], "runB": [1, 1, 1.5, 1], "runC": [1.5] * 4, "runD": [1.5, 2.5, 1.5, 1.5]}
bad = 0
for run, factors in want.items():
    for r, x in enumerate(factors):
        with h5py.File("%s/%s/rank-%05d.h5" % (sys.argv[1], run, r)) as f:
            s = f["targets/test:fault/baseline_fault/samples_ms"][()]
            if not len(s) or s.min() < 2.0 * x:
                print("    %s rank %d: shortest sample %s ms, want >= %g" % (run, r, min(s, default=None), 2.0 * x))
                bad += 1
sys.exit(1 if bad else 0)
PYEOF
expect_exit 2 "gather refuses rank files written under test knobs" "$AISP" gather "$T/runA" "$T/runB" --out "$T/g"
expect_text "8 rank files were written under test knobs: $T/runA rank 0 (AISP_TEST_TARGETS=1)" "gather names the files and their knobs"
check "the refused gather wrote nothing" test ! -e "$T/g/fleet.h5"
expect_exit 0 "gather --allow-test-knobs of the two real runs exits 0" "$AISP" gather "$T/runA" "$T/runB" --out "$T/greal" --allow-test-knobs
expect_text "8 GPUs on 4 nodes" "8 GPUs on 4 nodes"
check "numbers match numpy" "$PY" "$TOOLS/check_fleet.py" "$T/greal" "$T/runA" "$T/runB"
# The verdicts, on the runs quieted against run A's quiet time.
i=0
for x in A B C D; do
	i=$((i + 1))
	"$PY" "$TOOLS/quiet_run.py" "$T/runA" "$T/run$x" "$T/q$x" --seed $i || no "quiet run $x"
done
expect_exit 0 "gather --allow-test-knobs of the two runs exits 0" "$AISP" gather "$T/qA" "$T/qB" --out "$T/g" --allow-test-knobs
n=$(grep -c "^gather: outlier" "$T/out")
[ "$n" = 1 ] && ok "one outlier" || no "one outlier (got $n)"
expect_text "on node n4 (rank 2 of run" "the outlier is rank 2 on node n4"
E=$(ls "$T"/g/expectations_*.json)
expect_exit 1 "compare exits 1" "$AISP" compare "$T/qA" "$T/qB" --expectations "$E" --drain-list "$T/drain"
expect_text "regressed test:fault/baseline_fault GPU cpu-n4-2 node n4 rank 2" "compare names the slowed GPU and node n4"
expect_text "test knobs in effect on rank 2: AISP_TEST_SLOW_PCT=50 AISP_TEST_TARGETS=1" "compare prints the test knobs of the slowed rank"
check "drain list holds exactly n4" sh -c "[ \$(wc -l <'$T/drain') = 1 ] && grep -q '^n4 ' '$T/drain'"
expect_exit 1 "HTML report exits 1" "$AISP" report "$T/qA" "$T/qB" --expectations "$E" -o "$T/r.html"
check "the HTML report shows n4 regressed" grep -q "<tr><td class=\"node\"><a href=\"#node-n4\">n4</a></td><td><span class=\"badge v-regressed\">REGRESSED</span></td>" "$T/r.html"
expect_exit 0 "compare of the healthy run A exits 0" "$AISP" compare "$T/qA" --expectations "$E"
expect_exit 1 "compare of run C exits 1 (a fleet-wide regression)" "$AISP" compare "$T/qC" \
	--expectations "$E" --drain-list "$T/drainC"
expect_text "fleet     test:fault/baseline_fault: regressed: fleet-wide: median of 4 GPUs +" "a fleet-wide finding"
expect_text "4 of 4 GPUs beyond the tolerance +25% (default): not a node fault" "every GPU beyond the tolerance, none drained for it"
expect_text "0 of 2 nodes to drain; exit 1" "nobody drained"
check "run C's drain list is empty" test ! -s "$T/drainC"
expect_exit 1 "compare of run D exits 1" "$AISP" compare "$T/qD" --expectations "$E" --drain-list "$T/drainD"
expect_text "regressed test:fault/baseline_fault GPU cpu-n7-1 node n7 rank 1" "the further slowed rank is named"
check "run D's drain list holds exactly n7" sh -c "[ \$(wc -l <'$T/drainD') = 1 ] && grep -q '^n7 aisp regressed: 1 of 2 items slow; worst test:fault/baseline_fault +' '$T/drainD'"
mkdir -p "$T/upd" && cd "$T/upd" || exit 1
expect_exit 1 "bench run --update-expectations refuses a run under test knobs" $MPIRUN -x AISP_TEST_TARGETS -np 2 \
	"$AISP" bench run --job "$T/job.yaml" --backend host --out "$T/runK" --update-expectations
expect_text "written under test knobs" "... and says why"
printf 'name: upd\niterations: 5\ntargets:\n  - target: ch01:gemm\n    params: {m: 8, n: 16, k: 16, batch: 2}\n' >"$T/upd.yaml"
expect_exit 0 "bench run --update-expectations" env -u AISP_TEST_TARGETS $MPIRUN -np 2 "$AISP" bench run \
	--job "$T/upd.yaml" --backend host --out "$T/runU" --update-expectations
U=$(ls "$T"/upd/jobs/*/expectations_*.json 2>/dev/null | head -1)
check "--update-expectations wrote jobs/<chapter>/expectations_<hardware_key>.json" test -n "$U"
# compare reads it: a verdict, every item of the run found in it. Pass or
# regressed: two host ranks of a 2 us GEMM may differ by more than the
# tolerance on a loaded machine (the time is not what this checks).
"$AISP" compare "$T/runU" --expectations "${U:-none}" >"$T/out" 2>&1
rc=$?
check "compare reads the book-schema file it wrote: a verdict (exit $rc)" test "$rc" = 0 -o "$rc" = 1
expect_text "compare: expectations $U: hardware_key" "... as the run's baseline"
expect_text " 0 skipped, 0 not judged, 0 missing, " "... with every item of the run in it"
expect_text " 0 failed;" "... and none failed"
finish
