#!/bin/bash
# final_session.sh - the integration session on a lent H200 in one device
# call (<= 8 minutes): everything that landed, on the GPU, in the order a
# user meets it. From the repository root with .deps carried
# (sh bench/gpu/make-deps.sh here first):
#   AISP_GIT_COMMIT=$(git rev-parse HEAD) bash bench/gpu/final_session.sh
# 1. make run: README's first command (the fat sm_90 + sm_100 build, then the
#    ch01 job on the GPU with --update-expectations): the run table with the
#    check column, and jobs/ch01/expectations_h200.json;
# 2. bench/gpu/contract_session.sh: the plug-in on the GPU (ldd, start-up,
#    test_plugin and test_backend_cuda, every variant once, a missing .so);
# 3. MODE=final bench/gpu/repeat_session.sh: 5 runs of the qual and ch01
#    jobs, the long warm-up runs, the profile pass, gather, noise.py.
# $OUT: make-run.log, contract.tgz (+ its summary in final.log), repeat/
# (session.log, summary.md, results.tgz), expectations.tgz, final.log.
# Never changes clocks, power or modes.
set -u
OUT=${OUT:-/tmp/final-session}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/final.log") 2>&1
. bench/gpu/session_env.sh

step "env"
nvidia-smi --query-gpu=name,uuid,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw,power.limit --format=csv
echo "commit ${AISP_GIT_COMMIT:-unknown}"

step "make run (README): fat build, the ch01 job on the GPU"
timeout 170 make -j16 DEPS_PREFIX=.deps GIT_COMMIT="${AISP_GIT_COMMIT:-unknown}" run \
	AISP_FLAGS="--update-expectations --out $OUT/ch01-run" >"$OUT/make-run.log" 2>&1
echo "make run exit $?"
grep -E '^(target|ch01|run:|make run)' "$OUT/make-run.log" | tail -12
cuobjdump --list-elf lib/aisp-cuda.so 2>/dev/null | grep -oE 'sm_[0-9]+' | sort | uniq -c
tar czf "$OUT/expectations.tgz" jobs/ch01/expectations_*.json "$OUT/ch01-run" 2>/dev/null

step "contract session: the plug-in on the GPU"
OUT=/tmp/contract timeout 150 bash bench/gpu/contract_session.sh >/dev/null 2>&1
echo "contract exit $?"
sed -n '/=== summary/,$p' /tmp/contract/session.log
grep -E 'maps|PASSED|FAILED|exit' /tmp/contract/session.log | head -12
tar czf "$OUT/contract.tgz" -C /tmp contract 2>/dev/null

step "repeat session, final mode"
OUT=$OUT/repeat MODE=final bash bench/gpu/repeat_session.sh >/dev/null 2>&1
echo "repeat exit $?"
cat "$OUT/repeat/summary.md" 2>/dev/null
step "done"
