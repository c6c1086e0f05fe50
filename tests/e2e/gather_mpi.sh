#!/bin/sh
# mpirun -np 3 aisp gather splits the files over the ranks and gives the
# same outputs as one process, bad files included.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
command -v mpirun >/dev/null 2>&1 || { echo "skip: no mpirun"; exit 77; }
make_fleet "$T" || { no "synthetic rank files"; finish; }
head -c 2500 "$T/runA/rank-00001.h5" >"$T/runA/rank-00007.h5"
echo "junk" >"$T/runB/rank-00009.h5"
# stdout (results) and stderr (skipped files) apart: under mpirun the two
# streams reach the terminal by different paths, so their interleaving varies
"$AISP" gather "$T/runA" "$T/runB" --out "$T/one" >"$T/one.out" 2>"$T/one.err"
check "gather in one process (2 bad files) exits 3 (got $?)" test $? = 3
# shellcheck disable=SC2086 # MPIRUN is a command line
$MPIRUN -np 3 "$AISP" gather "$T/runA" "$T/runB" --out "$T/three" >"$T/three.out" 2>"$T/three.err"
check "mpirun -np 3 gather exits 3 too (got $?)" test $? = 3
for s in out err; do
	grep "^gather:" "$T/one.$s" | sed "s|$T/one|OUT|" >"$T/one.txt"
	grep "^gather:" "$T/three.$s" | sed "s|$T/three|OUT|" >"$T/three.txt"
	check "same lines on std$s" cmp -s "$T/one.txt" "$T/three.txt"
done
check "the bad files are named on stderr" grep -q "skipped $T/runB/rank-00009.h5" "$T/three.err"
check "same expectations file" cmp -s "$T/one/expectations_2x_test_gpu.json" "$T/three/expectations_2x_test_gpu.json"
check "same fleet.h5 tables" "$PY" - "$T/one/fleet.h5" "$T/three/fleet.h5" <<'PYEOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in ("gpus", "variants", "runs", "skipped"):
    x, y = a[k][()], b[k][()]
    assert x.dtype == y.dtype and len(x) == len(y), k
    for r, s in zip(x, y):
        assert all((u == v) or (u != u and v != v) for u, v in zip(r.tolist(), s.tolist())), (k, r, s)
PYEOF
finish
