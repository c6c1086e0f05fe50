#!/bin/sh
# Baseline history: every gather that writes expectations appends one record
# per example and variant to history.h5 beside them (h5py reads it); a
# re-gather of the same runs adds nothing; `aisp history` prints the drift
# and flags a creep, and so do compare and report (five refreshes, each 7%
# slower than the one before: every step inside the 25% tolerance, +31% in
# all), but not a single step beyond the tolerance, nor a steady fleet.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
# refresh DIR RUN_ID SEED FACTOR: a 4-GPU run, every GPU FACTOR slower.
refresh() {
	"$PY" "$TOOLS/make_rank_files.py" --out "$1" --ranks 4 --gpus-per-node 2 --node-prefix n \
		--run-id "$2" --seed "$3" --targets 1 --variants 2 --slow 0:"$4" --slow 1:"$4" \
		--slow 2:"$4" --slow 3:"$4" --git-commit "$(printf '%d%039d' "$3" 0)"
}
# records FILE: the number of records in a history file.
records() {
	"$PY" -c 'import h5py,sys; print(len(h5py.File(sys.argv[1])["records"]))' "$1"
}
B=$T/base
i=0
for factor in 1.0 1.07 1.1449 1.225 1.3108; do
	i=$((i + 1))
	refresh "$T/c$i" "creep$i" "$i" "$factor" || no "synthetic run $i"
done
expect_exit 0 "gather of refresh 1" "$AISP" gather "$T/c1" --out "$B"
expect_text "history.h5 (2 new records, 2 in all)" "gather says it appended 2 records"
check "h5py reads the history file (2 records, fields named)" "$PY" - "$B/history.h5" <<'PYEOF'
import sys, h5py, math
r = h5py.File(sys.argv[1])["records"]
assert len(r) == 2, len(r)
x = r[0]
assert x["hardware_key"] == b"2x_test_gpu" and x["target"] == b"ch01:gemm", x
assert x["variant"] == b"baseline_gemm" and x["runs"] == b"creep1", x
assert x["commits"] == b"100000000000" and x["gpus"] == 4 and x["nodes"] == 2, x
assert math.isclose(x["tol_upper"], 0.25) and x["median_ms"] > 0 and x["p10_ms"] <= x["median_ms"], x
PYEOF
expect_exit 0 "re-gather of the same run" "$AISP" gather "$T/c1" --out "$B"
expect_text "these runs are already recorded (2 records; nothing added)" "a re-gather says nothing was added"
[ "$(records "$B/history.h5")" = 2 ] && ok "a re-gather adds no record" || no "a re-gather adds no record"
for i in 2 3 4; do
	"$AISP" gather "$T/c$i" --out "$B" >"$T/out" 2>&1 || no "gather of refresh $i"
done
expect_exit 0 "history of four refreshes (+23%): no creep yet" "$AISP" history "$B"
expect_text "history: 2 variants, 0 creeping" "no creep within the tolerance"
"$AISP" gather "$T/c5" --out "$B" >/dev/null 2>&1 || no "gather of refresh 5"
[ "$(records "$B/history.h5")" = 10 ] && ok "five refreshes: 10 records" || no "five refreshes: 10 records"
expect_exit 1 "history flags the creep (exit 1)" "$AISP" history "$B"
expect_text "CREEP: fleet median +31." "the creep line gives the change"
expect_text "over the last 5 refreshes, each step within the +25% tolerance" "the creep line says why"
expect_text "    5  2026-11-25T10:05    1     4     2  500000000000" "one line per refresh with its commit"
"$AISP" report "$T/c5" --expectations "$B/expectations_2x_test_gpu.json" -o "$T/creep.md" >/dev/null 2>&1
check "the report warns of the creep under its verdict line" grep -q \
	'^\*\*Baseline creep: the fleet median of ch01:gemm/baseline_gemm rose +3[0-9]% over its last 5' "$T/creep.md"
"$AISP" report "$T/c5" --expectations "$B/expectations_2x_test_gpu.json" -o "$T/creep.html" >/dev/null 2>&1
check "the HTML report plots the creep (red history line, CREEP in its title)" sh -c \
	"grep -q '<p class=\"verdict warn\">Baseline creep' '$T/creep.html' && grep -q 'CREEP: +3[0-9]% over the last 5' '$T/creep.html'"
expect_exit 0 "compare of the latest refresh against the creeping baseline: the run itself passes" \
	"$AISP" compare "$T/c5" --expectations "$B/expectations_2x_test_gpu.json"
expect_text "compare: creep ch01:gemm/baseline_gemm: the baseline's fleet median +3" "compare flags the creep"
expect_text "over its last 5 refreshes" "compare says over how many refreshes"
expect_exit 1 "--target ch01:gemm" "$AISP" history "$B" --target ch01:gemm
expect_exit 1 "--target ch01 (a chapter)" "$AISP" history "$B" --target ch01
expect_exit 2 "--target of no record" "$AISP" history "$B" --target ch02:none
expect_text "no record of target ch02:none" "the unknown target is named"
expect_exit 0 "--k 3: the last three refreshes (+14%) do not creep" "$AISP" history "$B" --k 3
expect_exit 1 "an expectations file names its directory" "$AISP" history "$B/expectations_2x_test_gpu.json"
expect_exit 2 "a directory without history" "$AISP" history "$T/c1"
expect_text "no history (gather writes it beside the expectations files)" "missing history is explained"
check "history output fits 120 columns" sh -c "\"$AISP\" history \"$B\" | awk 'length > 120 { exit 1 }'"
# a single step beyond the tolerance is a step regression, not a creep
J=$T/jump
refresh "$T/j1" j1 11 1.0 && refresh "$T/j2" j2 12 1.02 && refresh "$T/j3" j3 13 1.35 || no "jump runs"
for r in j1 j2 j3; do "$AISP" gather "$T/$r" --out "$J" >/dev/null 2>&1 || no "gather $r"; done
expect_exit 0 "one +32% step: no creep" "$AISP" history "$J"
# a history file that is not HDF5 stops gather before anything is written
mkdir -p "$T/badh" && echo "not hdf5" >"$T/badh/history.h5"
expect_exit 2 "gather into a directory with a broken history.h5" "$AISP" gather "$T/c1" --out "$T/badh"
expect_text "history.h5: not an HDF5 file (it exists: fix or remove it)" "the broken history file is named"
check "nothing written beside it" sh -c "[ ! -e '$T/badh/fleet.h5' ] && ! ls '$T'/badh/expectations_* >/dev/null 2>&1"
finish
