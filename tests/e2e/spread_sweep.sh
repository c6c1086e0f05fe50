#!/bin/sh
# --mode spread: 4 ranks finish a 40-item sweep, every item done exactly once.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "mpirun -np 4 spread sweep of 40 items" \
	$MPIRUN -np 4 "$AISP" bench run --job "$(dirname "$0")/jobs/sweep40.yaml" --out "$T/run"
expect_text "[40/40]" "40 progress lines"
check "every item exactly once over the 4 rank files" "$PY" - "$T/run" <<'PYEOF'
import glob, sys, h5py
seen = {}
ranks_used = set()
for p in sorted(glob.glob(sys.argv[1] + "/rank-*.h5")):
    with h5py.File(p, "r") as f:
        for inst, g in f["targets"].items():
            for v in g:
                seen[(inst, v)] = seen.get((inst, v), 0) + 1
                ranks_used.add(p)
bad = [k for k, n in seen.items() if n != 1]
print(len(seen), "items,", len(ranks_used), "ranks did work, duplicates:", bad)
sys.exit(0 if len(seen) == 40 and not bad and len(ranks_used) > 1 else 1)
PYEOF
finish
