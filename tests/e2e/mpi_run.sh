#!/bin/sh
# mpirun -np 4 of bench run on the host backend; rank files checked by h5py.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "mpirun -np 4 bench run --targets ch01" \
	$MPIRUN -np 4 "$AISP" bench run --targets ch01 --out "$T/run" --iterations 5 --warmup 1 --time-budget 0.2
expect_text "rank  node" "rank -> node -> device map printed"
expect_text "[20/20]" "progress lines count every rank's items"
expect_text "optimized_gemm_strided" "summary table"
expect_text "err max" "summary table: check column (named check values)"
check "ch01:performance: losses and per-tensor errors in every rank file" "$PY" -c '
import glob, sys, h5py
want = ["check." + n for n in ("loss_first", "loss_last", "err:loss") +
        tuple(k + ":" + t for k in ("err", "tol") for t in ("W1", "b1", "W2", "b2", "W3", "b3"))]
for p in glob.glob(sys.argv[1] + "/rank-*.h5"):
    with h5py.File(p) as f:
        for v, g in f["targets/ch01:performance"].items():
            a = g.attrs
            miss = [k for k in want if k not in a]
            bad = [k for k in want if k in a and not a[k] == a[k]]
            if miss or bad or not a["check.err:W1"] <= a["check.tol:W1"]:
                sys.exit(f"{p} {v}: missing {miss}, NaN {bad}")
' "$T/run"
check "4 rank files pass the independent h5py reader" \
	"$PY" "$(dirname "$0")/../tools/check_rankfiles.py" "$T/run" --ranks 4 --targets ch01:gemm,ch01:performance
check "h5dump reads a rank file" sh -c "h5dump -A '$T/run/rank-00003.h5' >/dev/null"
check "resolved job and command line saved" test -s "$T/run/job.yaml" -a -s "$T/run/command.txt"
expect_exit 0 "the saved job.yaml runs again as --job" \
	"$AISP" bench run --job "$T/run/job.yaml" --targets ch01:gemm --out "$T/again" --iterations 3 --time-budget 0.1
finish
