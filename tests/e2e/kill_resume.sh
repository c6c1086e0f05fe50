#!/bin/sh
# SIGKILL a rank where loss could happen (KILL_TRIALS, default 50: during an
# item, between the image write and the rename, in a batch of tiny items):
# completed items survive every kill and --resume finishes the run; plus
# SIGTERM handling.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
job="$(dirname "$0")/jobs/kill.yaml"
tools="$(dirname "$0")/../tools"
check "build the rename-stop shim" \
	cc -shared -fPIC -Wall -Wextra -Werror -o "$T/stop_at_rename.so" "$tools/stop_at_rename.c" -ldl
check "SIGKILL during items, at renames and in a tiny batch, then --resume" \
	"$PY" "$tools/kill_resume.py" "$AISP" "$job" "$T" --shim "$T/stop_at_rename.so" \
	--trials "${KILL_TRIALS:-50}"
# SIGTERM: the run stops, writes what is complete, says interrupted, exits 3.
"$AISP" bench run --job "$job" --out "$T/term" >"$T/out" 2>&1 &
pid=$!
# wait for the first finished item (a state, however slow the machine), then stop the run
while ! grep -q '^\[1/' "$T/out" 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.05; done
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM: exit 3 (got $rc)" test "$rc" = 3
expect_text "INTERRUPTED" "SIGTERM: the run says it was interrupted"
check "SIGTERM: rank file marked interrupted, completed items kept" "$PY" - "$T/term" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1] + "/rank-00000.h5", "r") as f:
    st = [v.attrs["status"] for g in f["targets"].values() for v in g.values()]
    print("status", f.attrs["status"], "items", st)
    sys.exit(0 if f.attrs["status"] == "interrupted" and "ok" in st and len(st) < 20 else 1)
PYEOF
expect_exit 0 "after SIGTERM, --resume completes the run" "$AISP" bench run --resume "$T/term"
cp "$job" "$T/changed.yaml" && echo "seed: 7" >>"$T/changed.yaml"
expect_exit 2 "--resume refuses a changed job file" "$AISP" bench run --resume "$T/term" --job "$T/changed.yaml"
expect_text "differs" "--resume names the changed job"
# shellcheck disable=SC2086 # MPIRUN is a command line
expect_exit 2 "--resume refuses another rank count" $MPIRUN -np 2 "$AISP" bench run --resume "$T/term"
expect_text "the run had 1 ranks, this one has 2" "--resume names the rank counts"
finish
