#!/bin/sh
# A simulated fleet of four "GPUs" (host backend, one rank per fake node
# through SLURMD_NODENAME) runs the qual job; one GPU is degraded with the
# test knob (AISP_TEST_SLOW_PCT=100: every iteration 2x as long, well clear of
# the +-30% that four ranks on two shared cores see). The
# healthy run is gathered into expectations (with the job's tolerances);
# compare of the degraded run must exit 1 and drain the degraded node, its
# reason naming how many items were slow and the worst one over its
# siblings by more than the job's floor (e.g. +11.1% = throughput below 90%
# of the fleet median). Then the degraded run is judged against its own
# fleet (gathered alone, which needs --allow-test-knobs), which pins the
# blame on qn3 item by item.
#
# The job is jobs/qual/job.yaml with small params appended (every iteration
# well under a scheduler slice, so four ranks on two shared cores time
# steadily) and without qual:nccl: the host twin reports it skipped, which
# compare reads as skipped, not as a pass; a separate one-rank run checks
# that skipped is recorded and is not a failure.
#
# The verdicts are reached on the two runs quieted (tests/tools/quiet_run.py:
# the real files, names and knobs, samples of a quiet machine's 0.5% spread
# around the healthy run's medians, times each file's knob factor): on this
# busy machine the real healthy ranks strayed past their floor on up to 3
# items and a tolerance of stray items hid it. Quieted, a healthy node has no
# flagged item and qn3 is flagged on every variant.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
JOB=$(dirname "$0")/../../jobs/qual/job.yaml
sed -e '/target: qual:mem_bw/a\    params: {mib: 3}' \
    -e '/target: qual:gemm_peak/a\    params: {n: 48}' \
    -e '/target: qual:launch/a\    params: {launches: 20000}' \
    -e '/target: qual:pcie/a\    params: {mib: 1}' \
    -e '/target: qual:health/a\    params: {n: 32, load_ms: 20}' \
    -e '/target: qual:nccl/,$d' "$JOB" >"$T/job.yaml"
RUN="bench run --job $T/job.yaml --backend host --time-budget 0.3 --iterations 30"

# fleet DIR [SLOW]: mpirun over nodes qn0..qn3, qn3 slowed by SLOW percent.
fleet() {
	$MPIRUN -np 1 env SLURMD_NODENAME=qn0 "$AISP" $RUN --out "$1" : \
		-np 1 env SLURMD_NODENAME=qn1 "$AISP" $RUN --out "$1" : \
		-np 1 env SLURMD_NODENAME=qn2 "$AISP" $RUN --out "$1" : \
		-np 1 env SLURMD_NODENAME=qn3 ${2:+AISP_TEST_SLOW_PCT=$2} "$AISP" $RUN --out "$1"
}
expect_exit 0 "healthy fleet run (4 ranks, qual job)" fleet "$T/h1"
expect_text "[44/44]" "every rank ran every qual variant (11 per rank)"
expect_exit 0 "degraded fleet run (qn3 slowed 100%)" fleet "$T/slow" 100
check "the healthy run quieted" "$PY" "$TOOLS/quiet_run.py" "$T/h1" "$T/h1" "$T/qh1" --seed 1
check "the degraded run quieted" "$PY" "$TOOLS/quiet_run.py" "$T/h1" "$T/slow" "$T/qslow" --seed 2

# 1. The operator's flow: expectations from the healthy run, compare the new one.
expect_exit 0 "gather the healthy run into expectations" "$AISP" gather "$T/qh1" --out "$T/exp"
EXP=$(ls "$T"/exp/expectations_*.json 2>/dev/null | head -1)
check "the baseline holds the job's tolerances" "$PY" - "$EXP" <<'PYEOF'
import sys, json
ex = json.load(open(sys.argv[1]))["examples"]
t = ex["mem_bw_host"]["tolerance"]
sys.exit(0 if t == {"lower": 0.1, "upper": 0.111, "source": "job"} else 1)
PYEOF
expect_exit 1 "compare of the degraded run exits 1 (no --job: the baseline's tolerances)" \
	"$AISP" compare "$T/qslow" --expectations "$EXP" --min-delta 0.1 --drain-list "$T/drain"
expect_text "node qn3: regressed (drain)" "the degraded node is judged regressed"
expect_text "tolerance +11.1% job" "the job's floor, read from the baseline"
check "the drain list names qn3 with the reason (items slow, the worst over the floor)" \
	grep -Eq '^qn3 aisp regressed: [0-9]+ of 1[01] items slow(, [0-9]+ failed)?; worst qual:[a-z_]+/[a-z0-9_]+ \+[0-9.]+% \(.*\) on GPU [0-9]+ \(cpu-qn3-[0-9]+\); ' "$T/drain"

# 2. Attribution within one run (immune to the load of a shared machine
# between two runs): the fleet median of four GPUs with one slow is the
# healthy siblings'; judged against it, qn3 is slow on (nearly) every
# variant by about 100% and the others pass.
expect_exit 2 "gather refuses the degraded run (written under a test knob)" "$AISP" gather "$T/slow" --out "$T/self"
expect_text "AISP_TEST_SLOW_PCT=100" "... naming the knob"
expect_exit 0 "gather the degraded run (fleet median of its siblings)" "$AISP" gather "$T/qslow" \
	--out "$T/self" --allow-test-knobs
EXP=$(ls "$T"/self/expectations_*.json 2>/dev/null | head -1)
expect_exit 1 "compare it against its own fleet exits 1" "$AISP" compare "$T/qslow" \
	--expectations "$EXP" --job "$T/job.yaml" --min-delta 0.1 --drain-list "$T/drain2"
cp "$T/out" "$T/compare.txt"
check "the drain list names qn3 with >= +30% over its siblings" \
	grep -Eq '^qn3 aisp regressed: [0-9]+ of 1[01] items slow(, [0-9]+ failed)?; worst qual:[a-z_]+/[a-z0-9_]+ \+([3-9][0-9]|[1-9][0-9][0-9]+)\.[0-9]% ' "$T/drain2"
# items NODE: flagged items (regressed/outlier/failed) of NODE in the compare output.
items() { grep -Ec "^(regressed|outlier|failed) +qual:.* node $1 " "$T/compare.txt"; }
slow_items=$(grep -Ec '^regressed +qual:.* node qn3 .*\+([3-9][0-9]|[1-9][0-9][0-9]+)\.[0-9]% vs its siblings' "$T/compare.txt")
check "qn3 regressed by >= +30% on all its 11 variants (got $slow_items)" [ "$slow_items" = 11 ]
for n in qn0 qn1 qn2; do
	k=$(items $n)
	check "healthy node $n: no flagged item (got $k)" [ "$k" = 0 ]
done
[ "$fails" = 0 ] || sed 's/^/    /' "$T/compare.txt" | grep -v '^    pass' | head -30

# qual:nccl on the host: recorded skipped, not a failure (run exits 0).
printf 'name: qual-nccl\nmode: every\ntargets:\n  - target: qual:nccl\n    params: {mib: 1}\n' >"$T/nccl.yaml"
expect_exit 0 "qual:nccl alone on the host exits 0" "$AISP" bench run --job "$T/nccl.yaml" \
	--backend host --out "$T/nccl"
expect_text "skipped" "the summary says skipped"
check "rank file: qual:nccl status skipped with the reason" "$PY" - "$T/nccl" <<'PYEOF'
import sys, h5py
with h5py.File(f"{sys.argv[1]}/rank-00000.h5", "r") as f:
    a = f["targets/qual:nccl/baseline_allreduce"].attrs
    ok = a["status"] == "skipped" and "no GPUs" in a["message"] and f.attrs["status"] == "complete"
    if not ok:
        print(a["status"], a["message"], f.attrs["status"])
sys.exit(0 if ok else 1)
PYEOF
finish
