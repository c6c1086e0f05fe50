#!/bin/sh
# mpirun -np 4 of bench run on the host backend; rank files checked by h5py.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "mpirun -np 4 bench run --targets ch01" \
	$MPIRUN -np 4 "$AISP" bench run --targets ch01 --out "$T/run" --iterations 5 --warmup 1 --time-budget 0.2
expect_text "rank  node" "rank -> node -> device map printed"
expect_text "[20/20]" "progress lines count every rank's items"
expect_text "optimized_gemm_strided" "summary table"
check "4 rank files pass the independent h5py reader" \
	"$PY" "$(dirname "$0")/../tools/check_rankfiles.py" "$T/run" --ranks 4 --targets ch01:gemm,ch01:performance
check "h5dump reads a rank file" sh -c "h5dump -A '$T/run/rank-00003.h5' >/dev/null"
check "resolved job and command line saved" test -s "$T/run/job.yaml" -a -s "$T/run/command.txt"
expect_exit 0 "the saved job.yaml runs again as --job" \
	"$AISP" bench run --job "$T/run/job.yaml" --targets ch01:gemm --out "$T/again" --iterations 3 --time-budget 0.1
finish
