#!/bin/sh
# Fault targets in a real mpirun run: each crash, hang, abort, allocation
# failure and failed check is recorded and the rank goes on with the next.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
expect_exit 1 "mpirun -np 2 over faulty targets exits 1" \
	$MPIRUN -np 2 "$AISP" bench run --job "$(dirname "$0")/jobs/faults.yaml" --out "$T/run"
expect_text "[14/14]" "all 14 items reported (7 per rank)"
check "each fault recorded with its status, signal and message" "$PY" - "$T/run" <<'PYEOF'
import sys, h5py
want = {0: ("ok", 0, ""), 1: ("crashed", 11, "signal 11"), 2: ("timeout", 9, "no result after"),
        3: ("crashed", 6, "signal 6"), 4: ("error", 0, "setup: nomem: planted allocation failure"), 5: ("ok", 0, ""),
        6: ("verify_failed", 0, "")}
bad = 0
for r in (0, 1):
    with h5py.File(f"{sys.argv[1]}/rank-{r:05d}.h5", "r") as f:
        if f.attrs["status"] != "complete":
            print("rank", r, "status", f.attrs["status"]); bad += 1
        for mode, (status, sig, text) in want.items():
            a = f[f"targets/test:fault[mode={mode}]/baseline_fault"].attrs
            got = (a["status"], int(a["signal"]), a["message"])
            if got[0] != status or got[1] != sig or text not in got[2]:
                print("rank", r, "mode", mode, "got", got, "want", (status, sig, text)); bad += 1
            if mode == 2 and not (1.9 < a["elapsed_s"] < 5):
                print("hang elapsed", a["elapsed_s"]); bad += 1
        s = f["targets/test:fault[mode=5]/baseline_fault"].attrs["median_ms"]
        if not 1.9 < s < 4:
            print("slow median", s); bad += 1
sys.exit(1 if bad else 0)
PYEOF
finish
