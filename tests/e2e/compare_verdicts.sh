#!/bin/sh
# Verdicts an operator can act on, on synthetic fleets of 4 nodes x 2 GPUs
# made from a real host run's rank files (tests/tools/fleet_from_run.py: the
# real files, renamed onto nodes, samples of a quiet machine's spread, 0.5%,
# around the real run's medians, scaled by controlled factors, device facts
# set; the real run's own spread, up to 100% on a busy machine, would move
# every threshold below): a steady rerun passes; one GPU 20% slow drains only
# its node; two GPUs on two nodes drain those two; every GPU 30% slow is one
# fleet-wide finding per variant, exit 1, nobody drained; that shift with one
# GPU a further 25% slow drains only its node; one GPU 8% slow on one target
# (inside the job's 15% tolerance, far outside a tight spread) is drained
# naming that item; a throttled GPU is drained with the clock and the throttle
# named. report, given compare's options, reaches the same verdicts GPU by GPU
# and writes the same drain list. Also: the job's tolerance stored by gather,
# --job overriding it, noise and the tolerance that follows from it, a fleet
# of 2 GPUs judged against the baseline alone, a baseline of one GPU, test
# knobs refused and printed.
. "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null 2>&1 || { echo "skip: no mpirun"; exit 77; }
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
cat >"$T/job.yaml" <<'YAML'
name: verdicts
iterations: 60
warmup: 3
max_iterations: 2000
time_budget_s: 0.3
targets:
  - target: qual:mem_bw
    params: {mib: 3}
    tolerance: {lower: 0.10, upper: 0.15}
  - target: ch01:gemm
    params: {m: 16, n: 64, k: 64, batch: 8}
YAML
expect_exit 0 "a real host run (mpirun)" env -u AISP_TEST_TARGETS $MPIRUN -np 1 "$AISP" bench run \
	--job "$T/job.yaml" --backend host --out "$T/src"
# fleet NAME ARGS...: a 4 x 2 fleet from the real run in $T/NAME.
fleet() {
	name=$1
	shift
	"$PY" "$TOOLS/fleet_from_run.py" "$T/src" "$T/$name" --noise 0.005 "$@" || no "fleet $name"
}
fleet base --seed 1
expect_exit 0 "gather the baseline fleet" "$AISP" gather "$T/base" --out "$T/g"
E=$(ls "$T"/g/expectations_*.json 2>/dev/null | head -1)
check "numbers and noise match numpy" "$PY" "$TOOLS/check_fleet.py" "$T/g" "$T/base"
check "gather stored the job's tolerance for qual:mem_bw, the default for ch01:gemm" "$PY" - "$E" <<'PYEOF'
import sys, json, math
from statistics import NormalDist
ex = json.load(open(sys.argv[1]))["examples"]
assert ex["mem_bw_host"]["tolerance"] == {"lower": 0.1, "upper": 0.15, "source": "job"}, ex["mem_bw_host"]["tolerance"]
assert ex["gemm_host"]["tolerance"] == {"lower": 0.25, "upper": 0.25, "source": "default"}
for e in ex.values():
    assert e["fleet"]["gpus"] == 8 and e["fleet"]["nodes"] == 4
    vs = e["fleet"]["variants"].values()
    z = -NormalDist().inv_cdf(0.001 / len(vs))   # <= 0.1% false drains per target
    for v in vs:
        assert v["noise_run"] is None and v["noise_run_pairs"] == 0, v
        assert v["noise"] >= 0.001 and abs(v["detectable"] - z * math.sqrt(2) * v["noise"]) < 1e-12
PYEOF

# verdict NAME CODE WHAT: compare and report of fleet NAME both exit CODE,
# write the same drain list, and give every GPU the same verdict; both take
# the options in VERDICT_ARGS.
VERDICT_ARGS=
# shellcheck disable=SC2086 # VERDICT_ARGS is a list of options
verdict() {
	expect_exit "$2" "compare: $3" "$AISP" compare "$T/$1" --expectations "$E" \
		--drain-list "$T/$1.drain" $VERDICT_ARGS
	cp "$T/out" "$T/$1.out"
	"$AISP" report "$T/$1" --expectations "$E" -o "$T/$1.md" --drain-list "$T/$1.rdrain" \
		$VERDICT_ARGS >"$T/$1.rout" 2>&1
	rc=$?
	check "report of $1 exits $2 as compare" [ "$rc" = "$2" ]
	check "report of $1 writes the same drain list" cmp -s "$T/$1.drain" "$T/$1.rdrain"
	check "report of $1 gives every GPU compare's verdict" "$PY" - "$T/$1.out" "$T/$1.md" <<'PYEOF'
import re, sys
gpus = dict(re.findall(r"^gpu (\S+) node \S+ rank \d+: (\w+)", open(sys.argv[1]).read(), re.M))
rows = [l for l in open(sys.argv[2]) if re.search(r"\| complete *\|", l)]  # the rank -> GPU map
bad = [(u, v) for u, v in gpus.items()
       if not any(u in l and re.search(r"\| *%s *\|" % v, l, re.I) for l in rows)]
if len(gpus) != 8 or bad:
    print("    GPUs %d, differing: %s" % (len(gpus), bad))
sys.exit(0 if len(gpus) == 8 and not bad else 1)
PYEOF
	cp "$T/$1.out" "$T/out"
}
# drains NAME NODES...: the drain list of NAME holds exactly NODES.
drains() {
	name=$1
	shift
	want=$(printf '%s\n' "$@" | sort | xargs)
	got=$(cut -d' ' -f1 "$T/$name.drain" | sort | xargs)
	if [ "$got" = "$want" ]; then ok "$name drains exactly: ${want:-nothing}"
	else no "$name drains exactly: ${want:-nothing} (got: ${got:-nothing})"; sed 's/^/    /' "$T/$name.drain"; fi
}

fleet steady --seed 2
verdict steady 0 "a steady rerun passes"
drains steady
expect_text "0 outlier, 0 regressed, 0 failed; 0 fleet-wide; 0 of 4 nodes to drain; exit 0" "nothing found"

fleet slow1 --seed 3 --slow 5:1.2
verdict slow1 1 "one GPU 20% slow exits 1"
drains slow1 n03
check "its reason: items slow, the worst, the device facts" grep -Eq \
	'^n03 aisp regressed: 5 of 10 items slow; worst (qual:mem_bw|ch01:gemm)/[a-z_]+ \+(19|20|21)\.[0-9]% \(.* [kMGT]?(B|FLOP)/s\) on GPU 1 \(GPU-[0-9a-f-]+\); no device fact differs$' "$T/slow1.drain"
expect_text "tolerance +15% job)" "qual:mem_bw judged at the job's tolerance, read from the baseline"

fleet slow2 --seed 3 --slow 1:1.2 --slow 6:1.2
verdict slow2 1 "two GPUs on two nodes 20% slow exit 1"
drains slow2 n01 n04

fleet shift --seed 3 --shift 1.3
verdict shift 1 "every GPU 30% slow exits 1"
drains shift
n=$(grep -c '^fleet     .*: regressed: fleet-wide: median of 8 GPUs +[23][0-9]\.[0-9]% vs baseline .* 8 of 8 GPUs beyond the tolerance .*: not a node fault, nobody drained for it$' "$T/out")
[ "$n" = 5 ] && ok "one fleet-wide finding per variant (5)" || no "one fleet-wide finding per variant (got $n)"
expect_text "40 pass, 0 improved, 0 skipped, 0 not judged, 0 missing, 0 outlier, 0 regressed, 0 failed; 5 fleet-wide; 0 of 4 nodes to drain; exit 1" "nobody drained"

fleet shift1 --seed 3 --shift 1.3 --slow 5:1.25
verdict shift1 1 "the shift and one GPU 25% slower exit 1"
drains shift1 n03
expect_text "5 fleet-wide; 1 of 4 nodes to drain" "the fleet finding and one node"

# The quieter qual:mem_bw variant (both have the fleets' 0.5% noise: the
# first one).
Q=$("$PY" -c 'import json, sys
v = json.load(open(sys.argv[1]))["examples"]["mem_bw_host"]["fleet"]["variants"]
print(min(v, key=lambda k: v[k]["noise"]))' "$E")
fleet eight --seed 3 --slow "5:1.08:qual:mem_bw/$Q"
verdict eight 1 "one GPU 8% slow on one target exits 1"
drains eight n03
check "its reason names that item, inside the job's 15% tolerance" grep -Eq \
	"^n03 aisp outlier: 1 of 10 items slow; worst qual:mem_bw/$Q \\+[78]\\.[0-9]% " "$T/eight.drain"
expect_text "outlier   qual:mem_bw/$Q GPU" "an outlier against its siblings' spread"

fleet thr --seed 3 --slow 2:1.2 --facts 2:sm_clock_mhz=1100,throttle_reasons=0x9
verdict thr 1 "a throttled GPU 20% slow exits 1"
drains thr n02
check "its reason names the clock and the throttle, not the idle bit" grep -Eq \
	'^n02 aisp regressed: .* on GPU 0 \(GPU-[0-9a-f-]+\); SM clock 1100 MHz vs fleet 1980 \(max 1980\), HW slowdown$' "$T/thr.drain"

# --job overrides the baseline's tolerance: qual:mem_bw at +50% is an outlier, not regressed.
printf 'name: loose\ntargets:\n  - target: qual:mem_bw\n    tolerance: {lower: 0.5, upper: 0.5}\n' >"$T/loose.yaml"
VERDICT_ARGS="--job $T/loose.yaml" verdict slow1 1 "--job overrides the stored tolerance"
n=$(grep -c '^regressed qual:mem_bw' "$T/out")
m=$(grep -c '^outlier   qual:mem_bw' "$T/out")
[ "$n" = 0 ] && [ "$m" = 2 ] && ok "qual:mem_bw items are outliers under --job's 50%" || no "qual:mem_bw under --job (regressed $n, outlier $m)"

# Two GPUs: no sibling comparison; the baseline alone, and said.
fleet small --seed 3 --nodes 1 --shift 1.3
expect_exit 1 "a 2-GPU fleet 30% slow exits 1" "$AISP" compare "$T/small" --expectations "$E" --drain-list "$T/small.drain"
expect_text "fewer than 4: each judged against the baseline alone (a fleet-wide shift cannot be told from a node fault)" "the fallback is said"
expect_text "% vs baseline (" "the drain reason says the baseline was the reference"
drains small n01

# Noise: the baseline and the steady rerun share GPUs: run-to-run noise, and
# the tolerance that follows from it (the job's still wins for qual:mem_bw).
expect_exit 0 "gather two runs of the same GPUs" "$AISP" gather "$T/base" "$T/steady" --out "$T/g2"
check "numbers and noise of two runs match numpy" "$PY" "$TOOLS/check_fleet.py" "$T/g2" "$T/base" "$T/steady"
check "noise_run over 8 pairs; ch01:gemm's tolerance from the noise, qual:mem_bw's from the job" "$PY" - "$T"/g2/expectations_*.json <<'PYEOF'
import sys, json, math
ex = json.load(open(sys.argv[1]))["examples"]
for e in ex.values():
    for v in e["fleet"]["variants"].values():
        assert v["noise_run"] > 0 and v["noise_run_pairs"] == 8, v
t = ex["gemm_host"]["tolerance"]
want = max(0.02, max(v["detectable"] for v in ex["gemm_host"]["fleet"]["variants"].values()))
assert t["source"] == "noise" and t["upper"] == t["lower"] == math.ceil(want * 1000 - 1e-9) / 1000, t
assert ex["mem_bw_host"]["tolerance"]["source"] == "job"
PYEOF

# A baseline of one GPU: the fleet spread is unknown, and compare says so.
fleet one --seed 1 --nodes 1 --gpus-per-node 1
expect_exit 0 "gather a one-GPU baseline" "$AISP" gather "$T/one" --out "$T/g1"
expect_exit 0 "compare the steady fleet against it" "$AISP" compare "$T/steady" --expectations "$(ls "$T"/g1/expectations_*.json)"
expect_text "the baseline rests on one GPU: fleet spread unknown" "compare says the fleet spread is unknown"

# A hand-set tolerance survives a gather; the job's replaces it, with a note.
"$PY" - "$E" <<'PYEOF'
import sys, json
d = json.load(open(sys.argv[1]))
d["examples"]["gemm_host"]["tolerance"] = {"upper": 0.05}
d["examples"]["mem_bw_host"]["tolerance"] = {"lower": 0.3, "upper": 0.3}
json.dump(d, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PYEOF
expect_exit 0 "gather again over hand-set tolerances" "$AISP" gather "$T/base" --out "$T/g"
expect_text "the job's tolerance (lower 0.1, upper 0.15) replaces the one set by hand (lower 0.3, upper 0.3)" "the job's replaces a hand-set one, said"
check "the hand-set one of ch01:gemm is kept as it was" "$PY" - "$E" <<'PYEOF'
import sys, json
ex = json.load(open(sys.argv[1]))["examples"]
assert ex["gemm_host"]["tolerance"] == {"upper": 0.05}, ex["gemm_host"]["tolerance"]
assert ex["mem_bw_host"]["tolerance"]["source"] == "job"
PYEOF
expect_exit 1 "compare with the hand-set 5% on ch01:gemm" "$AISP" compare "$T/eight" --expectations "$E"
n=$(grep -c '^fleet\|^regressed ch01' "$T/out")
[ "$n" = 0 ] && ok "a GPU 8% slow on qual:mem_bw only: nothing on ch01:gemm" || no "nothing on ch01:gemm (got $n)"

# Test knobs: refused by gather, printed by compare and report.
fleet knobs --seed 4 --knobs "AISP_TEST_SLOW_PCT=30"
expect_exit 2 "gather refuses files written under test knobs" "$AISP" gather "$T/knobs" --out "$T/gk"
expect_text "8 rank files were written under test knobs: $T/knobs rank 0 (AISP_TEST_SLOW_PCT=30)" "gather names the files and the knob"
expect_exit 0 "gather --allow-test-knobs takes them" "$AISP" gather "$T/knobs" --out "$T/gk" --allow-test-knobs
expect_text "gathered (--allow-test-knobs)" "and says so"
expect_exit 0 "compare of a run under test knobs" "$AISP" compare "$T/knobs" --expectations "$E"
expect_text "compare: run fleet: test knobs in effect on ranks 0, 1, 2, 3, 4, 5, 6, 7: AISP_TEST_SLOW_PCT=30" "compare prints the knobs"
"$AISP" report "$T/knobs" --expectations "$E" -o "$T/knobs.md" >/dev/null 2>&1
check "report prints the knobs" grep -q "Test knobs were in effect on 8 of 8 rank files (AISP_TEST_SLOW_PCT=30)" "$T/knobs.md"
finish
