#!/bin/sh
# No partial overwrite: when gather, compare, report or bench run --resume
# fail midway (a full disk, simulated with ulimit -f 0; a bad input after
# good ones), the good output already there (expectations json, fleet.h5,
# drain list, report, rank file) is unchanged and no .tmp file is left.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
A=$T/runA B=$T/runB
"$AISP" gather "$A" --out "$T/g" >/dev/null 2>&1 || no "gather of the fixture"
E=$T/g/expectations_2x_test_gpu.json
"$AISP" compare "$A" "$B" --expectations "$E" --drain-list "$T/drain.txt" >/dev/null 2>&1
"$AISP" report "$A" "$B" --expectations "$E" -o "$T/report.html" >/dev/null 2>&1
check "the good drain list names a node" test -s "$T/drain.txt"
outputs="$T/g/expectations_2x_test_gpu.json $T/g/fleet.h5 $T/drain.txt $T/report.html"
sums() { cksum $outputs; }
before=$(sums)
tried=0
# full CODE NAME CMD...: run CMD with no room to write files (RLIMIT_FSIZE 0).
full() {
	want=$1 name=$2; shift 2
	tried=$((tried + 1))
	{ sh -c 'trap "" XFSZ; ulimit -f 0; exec "$@"' sh "$@" 2>&1; echo $? >"$T/rc"; } | cat >"$T/out"
	got=$(cat "$T/rc")
	if [ "$got" = "$want" ]; then ok "$name (exit $got)"; else no "$name (exit $got, want $want)"; head -5 "$T/out"; fi
}
full 1 "gather with a full disk" "$AISP" gather "$B" --out "$T/g"
expect_text "$T/g/fleet.h5.tmp: cannot create" "gather names the file it could not write"
full 1 "compare with a full disk" "$AISP" compare "$A" "$B" --expectations "$E" --drain-list "$T/drain.txt"
expect_text "$T/drain.txt: File too large" "compare names the file it could not write"
full 1 "report with a full disk" "$AISP" report "$A" "$B" --expectations "$E" -o "$T/report.html"
expect_text "$T/report.html: File too large" "report names the file it could not write"
# A bad input after good ones.
for bad in "$T/nope" "$T/drain.txt"; do
	tried=$((tried + 3))
	expect_exit 2 "gather, then a bad RUN_DIR" "$AISP" gather "$A" "$B" "$bad" --out "$T/g"
	expect_exit 2 "compare, then a bad RUN_DIR" "$AISP" compare "$A" "$B" "$bad" --expectations "$E" --drain-list "$T/drain.txt"
	expect_exit 2 "report, then a bad RUN_DIR" "$AISP" report "$A" "$B" "$bad" --expectations "$E" -o "$T/report.html"
done
check "expectations, fleet.h5, drain list and report unchanged" test "$(sums)" = "$before"
check "no .tmp file left" test -z "$(find "$T" -name '*.tmp')"
# The same with the temporary file blocked by a directory of its name.
for f in "$T/g/fleet.h5" "$T/drain.txt" "$T/report.html"; do mkdir "$f.tmp"; done
tried=$((tried + 3))
expect_exit 1 "gather with fleet.h5.tmp blocked" "$AISP" gather "$B" --out "$T/g"
expect_exit 2 "compare with drain.txt.tmp blocked" "$AISP" compare "$A" "$B" --expectations "$E" --drain-list "$T/drain.txt"
expect_exit 2 "report with report.html.tmp blocked" "$AISP" report "$A" "$B" --expectations "$E" -o "$T/report.html"
check "still unchanged" test "$(sums)" = "$before"
# bench run --resume of a run with a crashed item, rank-00000.h5.tmp blocked
# (Open MPI cannot start with ulimit -f): the rank file keeps its good item.
printf 'name: ow\niterations: 3\nwarmup: 1\ntimeout_s: 5\ntargets:\n  - target: test:fault\n    variants: [baseline_fault]\n    params: {ms: 1}\n    sweep: {mode: [0, 1]}\n' >"$T/job.yaml"
"$AISP" bench run --job "$T/job.yaml" --out "$T/run1" >/dev/null 2>&1
check "a run with one crashed item" test -s "$T/run1/rank-00000.h5"
run1() { cat "$T"/run1/*.h5 "$T"/run1/*.yaml "$T"/run1/*.txt | cksum; }
rbefore=$(run1)
mkdir "$T/run1/rank-00000.h5.tmp"
tried=$((tried + 1))
"$AISP" bench run --resume "$T/run1" >"$T/out" 2>&1
rc=$?
case $rc in 0) no "bench run --resume that cannot commit exits 0"; head -5 "$T/out" ;; *) ok "bench run --resume that cannot commit fails (exit $rc)" ;; esac
expect_text "rank-00000.h5.tmp: Is a directory" "the file it could not write is named"
check "the rank file and job.yaml are unchanged" test "$(run1)" = "$rbefore"
echo "# hostile_overwrite: $tried failing runs tried"
finish
