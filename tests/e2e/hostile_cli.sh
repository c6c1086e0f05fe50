#!/bin/sh
# Hostile command lines for bench run, gather, compare and report: huge,
# negative, NaN/inf and empty numbers, 100 KB strings, target and path names
# with '/', '..' or HTML. Each gets exit 2 and a message naming the option or
# the path; no run directory is created; an existing run is never written over.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" --out "$T/g" >/dev/null 2>&1 || no "gather of the fixture"
E=$T/g/expectations_2x_test_gpu.json
L=$("$PY" -c "print('x' * 100000)")
tried=0
# refused NAME CMD...: exit 2, and no run directory $T/r appeared.
refused() {
	tried=$((tried + 1))
	expect_exit 2 "$@"
	if [ -e "$T/r" ]; then no "$1: left $T/r"; rm -rf "$T/r"; fi
	if LC_ALL=C tr -d '\n\t' <"$T/out" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		no "$1: control characters in the message"
	fi
}
for v in 1e999 -1 nan NaN inf -inf 99999999999999999999999 "" 5x " " "$L"; do
	for o in --iterations --warmup --max-iterations --time-budget --min-sample-ms --timeout --seed --gpu; do
		refused "bench run $o '$(echo "$v" | cut -c1-12)'" "$AISP" bench run --targets test:fault --out "$T/r" $o "$v"
	done
	for o in --z --min-delta; do
		refused "gather $o '$(echo "$v" | cut -c1-12)'" "$AISP" gather "$T/runA" --out "$T/r" $o "$v"
		refused "report $o '$(echo "$v" | cut -c1-12)'" "$AISP" report "$T/runA" -o "$T/r" $o "$v"
	done
	for o in --z --min-delta --tolerance-lower --tolerance-upper; do
		refused "compare $o '$(echo "$v" | cut -c1-12)'" "$AISP" compare "$T/runA" --expectations "$E" --drain-list "$T/r" $o "$v"
	done
	refused "gather --file-timeout '$(echo "$v" | cut -c1-12)'" "$AISP" gather "$T/runA" --out "$T/r" --file-timeout "$v"
done
expect_text "--file-timeout" "the message names the option"
ESC=$(printf '\033[2J\033[31m')
# Refused before MPI starts: with a PML that does not exist, MPI_Init would fail.
for tg in "ch01:$ESC" "$ESC" "../x" "a/b" "ch01:../../etc/passwd" "<script>alert(1)</script>" "ch01:<b>x</b>" "$L" "ch01:$L" "" "," "ch01:gemm;rm -rf /"; do
	refused "bench run --targets '$(echo "$tg" | cut -c1-24)'" env OMPI_MCA_pml=aisp_no_such_pml "$AISP" bench run --targets "$tg" --out "$T/r"
done
expect_text "unknown target" "the message names the target"
for o in --mode --backend --profile; do
	for v in "$L" "<script>" "../x" ""; do
		refused "bench run $o '$(echo "$v" | cut -c1-12)'" "$AISP" bench run --targets test:fault --out "$T/r" $o "$v"
	done
done
refused "report --format 100 KB" "$AISP" report "$T/runA" -o "$T/r" --format "$L"
# Paths: 100 KB, a file where a directory is needed, a missing directory.
printf 'a file\n' >"$T/file"
for p in "$T/$L" "$T/file/sub" "$T/a$("$PY" -c "print('/a' * 1100)")"; do
	s=$(echo "$p" | cut -c1-40)...
	refused "bench run --out $s" "$AISP" bench run --targets test:fault --out "$p"
	refused "bench run --job $s" "$AISP" bench run --job "$p"
	refused "bench run --resume $s" "$AISP" bench run --resume "$p"
	refused "gather --out $s" "$AISP" gather "$T/runA" --out "$p"
	refused "gather RUN_DIR $s" "$AISP" gather "$p"
	refused "compare --expectations $s" "$AISP" compare "$T/runA" --expectations "$p"
	refused "compare --drain-list $s" "$AISP" compare "$T/runA" --expectations "$E" --drain-list "$p"
	refused "report -o $s" "$AISP" report "$T/runA" -o "$p"
	refused "report RUN_DIR $s" "$AISP" report "$p" -o "$T/r"
done
rm -rf "$T/a"
refused "unknown command of 100 KB" "$AISP" "$L"
refused "bench run --resume of a directory with no run" "$AISP" bench run --resume "$T/g"
# An existing run (job.yaml, rank files) is never written over without --resume.
"$AISP" bench run --targets test:fault --out "$T/run1" >/dev/null 2>&1 || no "a first run"
before=$(cat "$T"/run1/* | cksum)
tried=$((tried + 1))
expect_exit 2 "bench run --out an existing run" "$AISP" bench run --targets test:fault --out "$T/run1"
expect_text "already holds a run" "the message says why"
before2=$(cat "$T"/runA/* | cksum)
tried=$((tried + 1))
expect_exit 2 "bench run --out a directory of rank files" "$AISP" bench run --targets test:fault --out "$T/runA"
check "the existing runs are unchanged" test "$(cat "$T"/run1/* | cksum)/$(cat "$T"/runA/* | cksum)" = "$before/$before2"
echo "# hostile_cli: $tried command lines tried"
finish
