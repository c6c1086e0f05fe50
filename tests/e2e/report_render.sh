#!/bin/sh
# The HTML report as a reader sees it: rendered by headless Chromium at
# 1400 px (tests/tools/check_report_html.py): a screenshot of the first
# screen, and DOM checks (verdict line, node table and drain list on the
# first screen, every plot with its title and axis titles, nothing wider
# than the page or cut off, red GPUs labelled). Fleets: the synthetic one
# (one GPU of n04 30% slower: the verdict line must say to drain n04), and
# real `mpirun -np 4 aisp bench run` host runs on two pretend nodes with one
# rank slowed 45% (what is drained there depends on this machine's load, so
# only the page is checked), with and without a baseline; and a fleet made
# from that run with one GPU 45% slower and throttled (drain its node, and
# say why).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
AISP=$AISP_TEST # the host runs use test:fault, which lives in the test binary
CHECK="$PY $TOOLS/check_report_html.py"
$CHECK --help >/dev/null || { no "check_report_html.py runs"; finish; }
command -v chromium >/dev/null 2>&1 || { echo "skip: no chromium (tests/deps.sh installs it)"; exit 77; }
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" --out "$T/g" >/dev/null
"$AISP" gather "$T/runA" "$T/runB" --out "$T/g" >/dev/null
"$AISP" report "$T/runA" "$T/runB" --expectations "$T/g/expectations_2x_test_gpu.json" -o "$T/syn.html" >/dev/null
check "synthetic fleet: the first screen says to drain n04" $CHECK "$T/syn.html" "$T/shots/syn" --expect-drain n04 --plots 6
cat >"$T/job.yaml" <<'YAML'
name: render
iterations: 8
warmup: 1
max_iterations: 12
time_budget_s: 0.05
timeout_s: 30
targets:
  - target: ch01:gemm
    params: {batch: 8}
  - target: qual:mem_bw
    params: {mib: 8}
  - target: test:fault
    variants: [baseline_fault]
    params: {ms: 2, mode: 0}
YAML
cat >"$T/as_node.sh" <<'SH'
#!/bin/sh
# Two ranks per pretend node gpu-node01, gpu-node02; rank SLOW_RANK 45% slower.
r=${OMPI_COMM_WORLD_RANK:-0}
export SLURMD_NODENAME=gpu-node0$((r / 2 + 1))
[ "$r" = "${SLOW_RANK:--1}" ] && export AISP_TEST_SLOW_PCT=45
exec "$@"
SH
export AISP_TEST_TARGETS=1
run() { # run DIR SLOW_RANK
	SLOW_RANK=$2 $MPIRUN -x SLOW_RANK -x AISP_TEST_TARGETS -np 4 \
		sh "$T/as_node.sh" "$AISP" bench run --job "$T/job.yaml" --backend host --out "$1"
}
expect_exit 0 "mpirun -np 4 healthy run A" run "$T/hostA" -1
expect_exit 0 "mpirun -np 4 healthy run C" run "$T/hostC" -1
expect_exit 0 "mpirun -np 4 run B with rank 2 slowed 45%" run "$T/hostB" 2
"$AISP" gather --allow-test-knobs "$T/hostA" --out "$T/base" >/dev/null 2>&1
"$AISP" gather --allow-test-knobs "$T/hostC" --out "$T/base" >/dev/null 2>&1
E=$(ls "$T"/base/expectations_*.json 2>/dev/null | head -1)
"$AISP" report "$T/hostB" --expectations "$E" -o "$T/real.html" >/dev/null
check "real host fleet against its baseline: the page reads right" $CHECK "$T/real.html" "$T/shots/real" --plots 6
check "real host fleet: the history of each variant is plotted" sh -c "[ \$(grep -c '<svg class=\"history\"' '$T/real.html') = 6 ]"
# the issue's case: a 4-GPU, 2-node fleet made from the real run, one GPU
# 45% slower and throttled (HW slowdown at 1100 MHz): the first screen says
# which node to drain and why
# (every GPU a copy of rank 0's file: this machine's load stays out of it)
mkdir -p "$T/one" && cp "$T/hostA/rank-00000.h5" "$T/hostA/job.yaml" "$T/one/"
"$PY" "$TOOLS/fleet_from_run.py" "$T/one" "$T/tbase" --nodes 2 --node-prefix gpu-node --seed 1 &&
	"$PY" "$TOOLS/fleet_from_run.py" "$T/one" "$T/thr" --nodes 2 --node-prefix gpu-node --seed 2 \
		--slow 2:1.45 --facts 2:sm_clock_mhz=1100,throttle_reasons=0x8 || no "throttled fleet"
"$AISP" gather --allow-test-knobs "$T/tbase" --out "$T/tg" >/dev/null 2>&1
"$AISP" report "$T/thr" --expectations "$(ls "$T"/tg/expectations_*.json | head -1)" -o "$T/thr.html" >/dev/null
check "a throttled GPU 45% slow: the first screen says to drain its node" $CHECK "$T/thr.html" "$T/shots/thr" \
	--expect-drain gpu-node02 --plots 6
check "... and why: the clock and the throttle reason" grep -q \
	'<p class="verdict drain">Drain 1 of 2 nodes: gpu-node02: 6 of 12 items slow; worst .* +4[0-9.]*% (.*) on GPU 0 (.*); SM clock 1100 MHz vs fleet 1980.*HW slowdown' "$T/thr.html"
"$AISP" report "$T/hostB" -o "$T/nobase.html" >/dev/null
check "real host fleet without a baseline: the page reads right" $CHECK "$T/nobase.html" "$T/shots/nobase" --plots 6
"$AISP" report "$T/hostB" --expectations "$E" -o "$T/real.md" >/dev/null
check "real host fleet: markdown lines fit 120 columns" sh -c "awk 'length > 120 { bad = 1 } END { exit bad }' '$T/real.md'"
[ -n "${AISP_SHOTS:-}" ] && mkdir -p "$AISP_SHOTS" && cp -r "$T/shots/." "$AISP_SHOTS/" && cp "$T"/*.html "$T"/*.md "$AISP_SHOTS/"
finish
