#!/bin/sh
# cli_basics.sh - what a newcomer meets first: aisp version; an unknown
# chapter refused with a suggestion; report refuses an output it cannot
# write; the run table's units, speedups only where the job says the variants
# are alternatives, a skipped row's reason; diagnostics on stderr only.
. "$(dirname "$0")/lib.sh"
quick="--iterations 2 --warmup 0 --warmup-ms 1 --time-budget 0.01"

expect_exit 0 "aisp version" "$AISP" version
expect_text "aisp 0.1.0 (" "aisp version: version and commit"
expect_exit 0 "aisp --version" "$AISP" --version
expect_text "aisp 0.1.0 (" "aisp --version: the same"

"$AISP" bench list-targets --chapter ch99 >"$T/o" 2>"$T/e"
check "list-targets --chapter ch99: exit 2 (got $?)" test $? = 2
check "... nothing on stdout" test ! -s "$T/o"
check "... stderr suggests ch01" grep -q "unknown chapter 'ch99'; did you mean 'ch01'?" "$T/e"
expect_exit 2 "list-targets --chapter far from any" "$AISP" bench list-targets --chapter zzzzzzzz
expect_text "(chapters: ch01, qual" "... lists the chapters"
expect_exit 0 "list-targets --chapter qual" "$AISP" bench list-targets --chapter qual
expect_text "qual:mem_bw" "... lists qual's targets"

# The run table: ch01's job says alternatives (speedups), qual's does not.
# shellcheck disable=SC2086 # quick is a list of options
expect_exit 0 "ch01 job run" "$AISP" bench run --job "$(dirname "$0")/../../jobs/ch01/job.yaml" $quick --out "$T/ch01"
check "ch01: optimized_gemm_strided has a speedup" grep -Eq "optimized_gemm_strided +1/1 +[0-9.e+-]+ +[0-9.]+x +[0-9.]+ [kMGT]?FLOP/s" "$T/out"
check "ch01: performance in samples/s" grep -Eq "optimized_performance .* [0-9.]+x +[0-9.]+[kMG]? samples/s" "$T/out"
# shellcheck disable=SC2086
expect_exit 0 "qual:launch and qual:nccl run" "$AISP" bench run --targets qual:launch,qual:nccl,qual:mem_bw $quick --out "$T/qual"
check "qual: no speedup between separate measurements" grep -Eq "optimized_graph +1/1 +[0-9.e+-]+ +- +[0-9.]+[kMG]? launches/s" "$T/out"
check "qual: bandwidth in B/s" grep -Eq "baseline_copy .* [0-9.]+ [kMGT]?B/s +passed" "$T/out"
check "qual: the skipped row says why" grep -Eq "baseline_allreduce +0/1 +- +- +- +skipped +why: .*GPU" "$T/out"

# report: only .md/.html (or --format); nothing written otherwise
expect_exit 2 "report -o report.pdf" "$AISP" report "$T/ch01" -o "$T/report.pdf"
expect_text "not .pdf" "... says why"
check "... writes no report.pdf" test ! -e "$T/report.pdf"
expect_exit 2 "report -o a name without extension" "$AISP" report "$T/ch01" -o "$T/report"
expect_exit 2 "report --format md -o x.html" "$AISP" report "$T/ch01" --format md -o "$T/x.html"
expect_exit 0 "report --format md -o report.txt" "$AISP" report "$T/ch01" --format md -o "$T/report.txt"
expect_exit 0 "report -o report.md" "$AISP" report "$T/ch01" -o "$T/report.md"

# gather: a skipped file is named on stderr, not on stdout
mkdir "$T/bad" && cp "$T/ch01/rank-00000.h5" "$T/bad/" && echo junk >"$T/bad/rank-00001.h5"
"$AISP" gather "$T/bad" --out "$T/g" >"$T/o" 2>"$T/e"
check "gather with a junk rank file: exit 3 (got $?)" test $? = 3
check "... names it on stderr" grep -q "skipped $T/bad/rank-00001.h5" "$T/e"
check "... not on stdout" sh -c "! grep -q 'skipped $T/bad' '$T/o'"
finish
