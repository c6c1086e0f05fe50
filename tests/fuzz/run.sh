#!/bin/sh
# run.sh SECONDS NAME... - run build-fuzz/fuzz_NAME for SECONDS over a fresh
# copy of tests/fuzz/corpus/NAME/ (the checked-in corpus stays small); a crash
# input is left as build-fuzz/crash-NAME-*. Prints the executions per
# harness and exits non-zero when any harness crashed, leaked or timed out.
secs=$1; shift
fails=0 total=0
for n in "$@"; do
	bin=build-fuzz/fuzz_$n
	rm -rf "build-fuzz/corpus-$n" && cp -r "tests/fuzz/corpus/$n" "build-fuzz/corpus-$n" || exit 2
	"$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build-fuzz/crash-$n-" \
		"build-fuzz/corpus-$n" >"build-fuzz/fuzz_$n.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/fuzz_$n.log")
	total=$((total + ${runs:-0}))
	if [ "$rc" = 0 ]; then
		echo "fuzz $n: ${runs:-?} executions in ${secs} s, no crash"
	else
		echo "fuzz $n: FAILED (exit $rc) after ${runs:-?} executions; see build-fuzz/fuzz_$n.log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' \
			"build-fuzz/fuzz_$n.log" | head -5 | sed 's/^/    /'
		fails=$((fails + 1))
	fi
done
echo "fuzz: $# harnesses, $total executions, $fails failed"
[ "$fails" = 0 ]
