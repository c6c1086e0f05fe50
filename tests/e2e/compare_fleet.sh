#!/bin/sh
# compare on a synthetic 8-GPU fleet with one GPU 30% slower: exit 1 naming
# the GPU and its node, a drain list holding exactly that node with the
# reason (items slow, the worst, the device facts); healthy runs pass; bad
# expectations exit 2 naming file and field; missing results exit 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" "$T/runB" --out "$T/g" >/dev/null
E=$T/g/expectations_2x_test_gpu.json
expect_exit 1 "compare of the fleet with a slow GPU exits 1" \
	"$AISP" compare "$T/runA" "$T/runB" --expectations "$E" --drain-list "$T/drain"
expect_text "regressed ch01:gemm/baseline_gemm GPU $SLOW_GPU node n04 rank 2" "the slowed GPU and its node are named"
expect_text "node n04: regressed (drain): 6 of 12 items slow; worst ch01:" "node n04 is regressed, with its count of slow items"
expect_text "gpu $SLOW_GPU node n04 rank 2: regressed: 6 of 6 items slow" "the GPU verdict is regressed"
n=$(grep -c '^node n0[123]: pass' "$T/out")
[ "$n" = 3 ] && ok "the 3 other nodes pass" || no "the 3 other nodes pass (got $n)"
n=$(grep -c '^regressed\|^outlier\|^failed' "$T/out")
[ "$n" = 6 ] && ok "6 findings, all on that GPU" || no "6 findings (got $n)"
check "findings name no other GPU" sh -c "! grep '^regressed\|^outlier\|^failed' '$T/out' | grep -v '$SLOW_GPU'"
expect_text "git commit 0123456789abcdef0123456789abcdef01234567" "run A's commit printed"
expect_text "git commit fedcba9876543210fedcba9876543210fedcba98" "run B's commit printed"
expect_text "note: the commits differ; judged anyway" "different commits judged anyway"
check "drain list holds exactly node n04, with the GPU and the reason" sh -c "[ \$(wc -l <'$T/drain') = 1 ] &&
	grep -Eq '^n04 aisp regressed: 6 of 12 items slow; worst ch01:[a-z]+/[a-z0-9_]+ \+2[0-9.]+% \(.*\) on GPU 0 \($SLOW_GPU\); no device fact differs$' '$T/drain'"
expect_exit 1 "with a 50% tolerance the slow GPU is still an outlier" \
	"$AISP" compare "$T/runB" --expectations "$E" --tolerance-upper 0.5
expect_text "outlier   ch01:gemm/baseline_gemm GPU $SLOW_GPU node n04" "outlier verdict: beyond its siblings' spread, inside the tolerance"
cat >"$T/job.yaml" <<'YAML'
name: tol
targets:
  - target: ch01:gemm
    tolerance: {lower: 0.25, upper: 0.5}
YAML
expect_exit 1 "a job file's 50% tolerance: the slow GPU is an outlier, not regressed" \
	"$AISP" compare "$T/runB" --expectations "$E" --job "$T/job.yaml"
expect_text "outlier   ch01:gemm/baseline_gemm GPU $SLOW_GPU" "job tolerance applied to ch01:gemm"
expect_text "regressed ch01:performance/baseline_performance GPU $SLOW_GPU" "other targets keep the 25% default"
expect_exit 0 "compare of the healthy run A exits 0" "$AISP" compare "$T/runA" --expectations "$E" --drain-list "$T/drain0"
expect_text "0 outlier, 0 regressed, 0 failed; 0 fleet-wide; 0 of 2 nodes to drain; exit 0" "all pass"
check "the drain list of a healthy run is empty" sh -c "[ ! -s '$T/drain0' ]"
"$PY" "$TOOLS/make_rank_files.py" --out "$T/runC" --ranks 2 --first-node 5 --node-prefix n --run-id runC \
	--fail 1:optimized_gemm_batched:crashed --seed 3
expect_exit 1 "a crashed variant exits 1" "$AISP" compare "$T/runC" --expectations "$E"
expect_text "failed    ch01:gemm/optimized_gemm_batched GPU" "the crashed variant is failed"
expect_text "node n05: failed" "its node is failed"
"$PY" "$TOOLS/make_rank_files.py" --out "$T/runD" --ranks 2 --first-node 6 --node-prefix n --run-id runD \
	--variants 2 --seed 4
expect_exit 3 "a run without an expected variant exits 3" "$AISP" compare "$T/runD" --expectations "$E"
expect_text "missing   ch01:gemm/optimized_gemm_strided: expected variant not in this run" "the missing variant is named"
"$PY" "$TOOLS/make_rank_files.py" --out "$T/runF" --ranks 2 --first-node 7 --node-prefix n --run-id runF \
	--seed 5 --slow 0:0.5
expect_exit 0 "a faster GPU is improved, not a failure" "$AISP" compare "$T/runF" --expectations "$E"
expect_text "improved  ch01:gemm/baseline_gemm" "improved verdict"
printf '{"schema_version": 2,\n "hardware_key": "2x_test_gpu",\n "examples": {,}}\n' >"$T/bad.json"
expect_exit 2 "malformed expectations exit 2" "$AISP" compare "$T/runA" --expectations "$T/bad.json"
expect_text "$T/bad.json:3:" "malformed JSON named with its line"
sed 's/"schema_version": 2/"schema_version": 3/' "$E" >"$T/v3.json"
expect_exit 2 "a wrong schema version exits 2" "$AISP" compare "$T/runA" --expectations "$T/v3.json"
expect_text "$T/v3.json: schema_version: 3, expected 2" "the schema version is named"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["examples"]["gemm_cuda"]["metrics"]["baseline_time_ms"]; json.dump(d, open(sys.argv[2], "w"))' "$E" "$T/nofield.json"
expect_exit 2 "a missing field exits 2" "$AISP" compare "$T/runA" --expectations "$T/nofield.json"
expect_text "$T/nofield.json: examples.gemm_cuda.metrics.baseline_time_ms: missing" "the missing field is named"
expect_exit 2 "an expectations file of other hardware exits 2" \
	"$AISP" compare "$T/runA" --expectations "$(dirname "$0")/../fixtures/expectations_b200.json"
expect_text "hardware_key b200: the run has no results for it" "the hardware mismatch is explained"
expect_exit 2 "a missing expectations file exits 2" "$AISP" compare "$T/runA" --expectations "$T/none.json"
finish
