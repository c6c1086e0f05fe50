#!/bin/sh
# The real pipeline: two `mpirun -np 4 aisp bench run` runs of the host
# backend (8 ranks on 4 pretend nodes via SLURMD_NODENAME), one rank slowed
# by the test knob; gather flags it, compare exits 1 naming it and its node,
# the drain list holds that node, the HTML report shows it, the numbers
# match numpy, and --update-expectations writes the same schema.
. "$(dirname "$0")/lib.sh"
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
# Play a node per two ranks; slow rank SLOW_RANK by half.
r=${OMPI_COMM_WORLD_RANK:-0}
export SLURMD_NODENAME=n$(( r / 2 + FIRST_NODE ))
[ "$r" = "${SLOW_RANK:--1}" ] && export AISP_TEST_SLOW_PCT=50
exec "$@"
SH
export AISP_TEST_TARGETS=1
run() { # run DIR FIRST_NODE SLOW_RANK
	FIRST_NODE=$2 SLOW_RANK=$3 $MPIRUN -x FIRST_NODE -x SLOW_RANK -x AISP_TEST_TARGETS -np 4 \
		sh "$T/as_node.sh" "$AISP" bench run --job "$T/job.yaml" --backend host --out "$1"
}
expect_exit 0 "mpirun -np 4 run A" run "$T/runA" 1 -1
expect_exit 0 "mpirun -np 4 run B with rank 2 slowed" run "$T/runB" 3 2
expect_exit 0 "gather of the two runs exits 0" "$AISP" gather "$T/runA" "$T/runB" --out "$T/g"
expect_text "8 GPUs on 4 nodes" "8 GPUs on 4 nodes"
n=$(grep -c "^gather: outlier" "$T/out")
[ "$n" = 1 ] && ok "one outlier" || no "one outlier (got $n)"
expect_text "on node n4 (rank 2 of run" "the outlier is rank 2 on node n4"
check "numbers match numpy" "$PY" "$TOOLS/check_fleet.py" "$T/g" "$T/runA" "$T/runB"
E=$(ls "$T"/g/expectations_*.json)
expect_exit 1 "compare exits 1" "$AISP" compare "$T/runA" "$T/runB" --expectations "$E" --drain-list "$T/drain"
expect_text "regressed test:fault/baseline_fault GPU cpu-n4-2 node n4 rank 2" "compare names the slowed GPU and node n4"
check "drain list holds exactly n4" sh -c "[ \$(wc -l <'$T/drain') = 1 ] && grep -q '^n4 ' '$T/drain'"
expect_exit 1 "HTML report exits 1" "$AISP" report "$T/runA" "$T/runB" --expectations "$E" -o "$T/r.html"
check "the HTML report shows n4 regressed" grep -q "<tr><td class=\"node\"><a href=\"#node-n4\">n4</a></td><td><span class=\"badge v-regressed\">REGRESSED</span></td>" "$T/r.html"
expect_exit 0 "compare of the healthy run A exits 0" "$AISP" compare "$T/runA" --expectations "$E"
mkdir -p "$T/upd" && cd "$T/upd" || exit 1
expect_exit 0 "bench run --update-expectations" $MPIRUN -x AISP_TEST_TARGETS -np 2 "$AISP" bench run \
	--job "$T/job.yaml" --backend host --out "$T/runU" --update-expectations
U=$(ls "$T"/upd/jobs/*/expectations_*.json 2>/dev/null | head -1)
check "--update-expectations wrote a book-schema file that compare reads" \
	sh -c "[ -n '$U' ] && '$AISP' compare '$T/runU' --expectations '$U' >/dev/null"
finish
