#!/bin/bash
# verify_session.sh - the last check on a lent H200 after the final session's
# fixes, one short device call (<= 3 minutes). From the repository root with
# .deps carried (sh bench/gpu/make-deps.sh here first):
#   AISP_GIT_COMMIT=$(git rev-parse HEAD) bash bench/gpu/verify_session.sh
# 1. make run (README's first command, fat build, the ch01 job on the GPU):
#    the run table (the own update kernel by default, whole variant texts);
#    compared against jobs/ch01/expectations_h200.json (a healthy GPU: exit 0);
# 2. the qual job once: the timer pass's >= 20 ms batches (events / span),
#    compared against jobs/qual/expectations_h200.json;
# 3. the binary alone in a folder without lib/aisp-cuda.so on a GPU node:
#    bench run must stop (exit 2) and name the plug-in.
# $OUT: verify.log, ch01/ and qual/ run directories (rank files).
set -u
OUT=${OUT:-/tmp/verify-session}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/verify.log") 2>&1
. bench/gpu/session_env.sh

step env
nvidia-smi --query-gpu=name,uuid,driver_version,clocks.sm,temperature.gpu,power.draw --format=csv,noheader
echo "commit ${AISP_GIT_COMMIT:-unknown}"

step "make run"
timeout 170 make -j16 DEPS_PREFIX=.deps GIT_COMMIT="${AISP_GIT_COMMIT:-unknown}" run \
	AISP_FLAGS="--out $OUT/ch01" >"$OUT/make-run.log" 2>&1
echo "make run exit $?"
grep -E '^(target|ch01|run:|make run)' "$OUT/make-run.log" | tail -12

step "make run against the committed H200 baselines (gathered from the final session's 5 runs)"
e=jobs/ch01/expectations_h200.json
if [ -f "$e" ]; then
	./aisp compare "$OUT/ch01" --expectations "$e" --drain-list "$OUT/ch01-drain" --verbose \
		>"$OUT/ch01-compare.log" 2>&1
	echo "compare exit $? (0: nothing to drain)"
	tail -25 "$OUT/ch01-compare.log"
	echo "drain list:"; cat "$OUT/ch01-drain" 2>/dev/null
else
	echo "no $e"
fi

step "the qual job once"
./aisp bench run --job jobs/qual/job.yaml --out "$OUT/qual" >"$OUT/qual.log" 2>&1
echo "qual exit $?"
grep -E '^(target|qual|run:)' "$OUT/qual.log" | tail -14
if [ -f jobs/qual/expectations_h200.json ]; then
	./aisp compare "$OUT/qual" --expectations jobs/qual/expectations_h200.json --job jobs/qual/job.yaml \
		>"$OUT/qual-compare.log" 2>&1
	echo "qual compare exit $? (0: nothing to drain)"; tail -12 "$OUT/qual-compare.log"
fi
/usr/bin/python3 - "$OUT" <<'PY' 2>&1 || echo "(no h5py here)"
import glob, sys, h5py
print(f"{'target/variant':44} {'batch':>6} {'events/span':>11} {'median/kernels':>14}")
for p in sorted(glob.glob(sys.argv[1] + "/*/rank-*.h5")):
    with h5py.File(p, "r") as f:
        for t in f["targets"]:
            for v in f["targets"][t]:
                a = f["targets"][t][v].attrs
                ev, sp, k = a["timer_events_ms"], a["timer_span_ms"], a["timer_kernels_ms"]
                print(f"{t + '/' + v:44} {a['timer_iterations']:>6} {ev / sp:>11.4f} {a['median_ms'] / k:>14.4f}")
PY

step "a binary without its plug-in"
lone=$(mktemp -d /tmp/aisp-lone.XXXXXX) # fresh: an old run there would exit 2 for another reason
cp build/aisp "$lone/aisp"
(cd /tmp && "$lone/aisp" bench run --targets qual:mem_bw --out "$lone/run") 2>&1 | tail -2
echo "exit ${PIPESTATUS[0]} (want 2)"
step "done"
