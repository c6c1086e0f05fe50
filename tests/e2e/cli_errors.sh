#!/bin/sh
# Bad command lines and bad job files: a clear message and exit 2.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "aisp --help" "$AISP" --help
expect_text "aisp bench run" "--help lists the commands"
for c in "bench" "bench run" "bench list-targets" "gather" "compare" "report"; do
	# shellcheck disable=SC2086
	expect_exit 0 "aisp $c --help" "$AISP" $c --help
done
expect_exit 2 "unknown command" "$AISP" benhc
expect_text "did you mean 'bench'" "unknown command suggests bench"
expect_exit 2 "unknown option" "$AISP" bench run --targets ch01 --iteratons 5
expect_text "did you mean --iterations" "unknown option suggests --iterations"
expect_exit 2 "unknown target" "$AISP" bench run --targets ch01:gemn
expect_text "did you mean 'ch01:gemm'" "unknown target suggests ch01:gemm"
expect_exit 2 "bad mode" "$AISP" bench run --targets ch01 --mode sometimes
expect_text "every|spread" "bad mode names the choices"
expect_exit 2 "bad number" "$AISP" bench run --targets ch01 --iterations 0
expect_exit 2 "no targets" "$AISP" bench run
printf 'name: x\niterations: 5\ntargets:\n  - target: ch01:gemm\n    params: {m: 0}\n' >"$T/bad.yaml"
expect_exit 2 "job file: value out of range" "$AISP" bench run --job "$T/bad.yaml" --out "$T/r1"
expect_text "bad.yaml:5:" "job error names file and line"
expect_text "params.m" "job error names the field"
check "no run directory left by a refused job" test ! -e "$T/r1"
printf 'name: x\nitterations: 5\ntargets: []\n' >"$T/bad2.yaml"
expect_exit 2 "job file: unknown key" "$AISP" bench run --job "$T/bad2.yaml"
expect_text "did you mean 'iterations'" "unknown key suggests iterations"
expect_exit 2 "missing job file" "$AISP" bench run --job "$T/none.yaml"
expect_exit 2 "--backend cuda without a GPU or CUDA build" sh -c \
	"CUDA_VISIBLE_DEVICES= '$AISP' bench run --targets ch01:gemm --backend cuda --out '$T/r2'"
finish
