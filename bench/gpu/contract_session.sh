#!/bin/bash
# contract_session.sh - one device session (<= 4 min on an H200) checking the
# target contract v2 and the CUDA plug-in on a real GPU. From the repository
# root, with .deps carried (bench/gpu/make-deps.sh run here first):
#   bash bench/gpu/contract_session.sh            (OUT=/tmp/contract-session)
# 1. builds aisp for sm_90 only (make DEPS_PREFIX=.deps, BUILD=build-gpu);
# 2. start-up: ldd of aisp (no CUDA library), wall time of list-targets,
#    gather --help and compare --help (bench/host/startup.sh);
# 3. test_plugin and test_backend_cuda with AISP_TEST_HAVE_GPU=1 (the real
#    plug-in loaded, the backend on the GPU);
# 4. every qual and ch01 variant once on the CUDA backend, small budgets
#    (the worker loads lib/aisp-cuda.so; health holds its load through the
#    harness with NVML facts; pcie reads the link from the harness's facts;
#    memory comes from aisp_device_alloc) and its status and message;
# 5. a CUDA build whose plug-in is moved away: bench run stops, naming it.
# Last: a summary table (status per variant, start-up ms). Never changes
# clocks, power or modes.
set -u
OUT=${OUT:-/tmp/contract-session}
B=build-gpu
mkdir -p "$OUT"
exec > >(tee -a "$OUT/session.log") 2>&1
. bench/gpu/session_env.sh

step env
nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current --format=csv
git log --oneline -1 2>/dev/null

step build
MK="make -j16 DEPS_PREFIX=.deps CUDA=1 BUILD=$B GIT_COMMIT=${AISP_GIT_COMMIT:-unknown}"
$MK CUDA_ARCH="-gencode arch=compute_90,code=sm_90" $B/aisp $B/lib/aisp-cuda.so \
	$B/tests/test_plugin $B/tests/test_backend_cuda >"$OUT/build.log" 2>&1 ||
	{ tail -30 "$OUT/build.log"; echo "BUILD FAILED"; exit 1; }
AISP=$PWD/$B/aisp

step start-up
ldd "$AISP" | grep -E 'cuda|cublas|cupti' && echo "aisp maps CUDA libraries!" || echo "aisp maps no CUDA library"
RUNS=20 sh bench/host/startup.sh "$OUT/startup" "cuda=$AISP" | tee "$OUT/startup.md"

step "unit tests on the GPU"
AISP_TEST_HAVE_GPU=1 $B/tests/test_plugin 2>&1 | tail -3
AISP_TEST_HAVE_GPU=1 $B/tests/test_backend_cuda 2>&1 | tail -3

step "every qual and ch01 variant on CUDA"
"$AISP" bench run --targets qual,ch01 --backend cuda --iterations 5 --warmup 1 --warmup-ms 50 \
	--time-budget 0.5 --out "$OUT/run" >"$OUT/run.txt" 2>&1
echo "bench run exit $?"
/usr/bin/python3 - "$OUT/run" >"$OUT/messages.txt" 2>&1 <<'PY' || h5dump -A "$OUT"/run/rank-00000.h5 >"$OUT/messages.txt" 2>&1
import glob, sys, h5py
for path in sorted(glob.glob(sys.argv[1] + "/rank-*.h5")):
    with h5py.File(path, "r") as f:
        for inst in f["targets"]:
            for var in f["targets"][inst]:
                a = f["targets"][inst][var].attrs
                print(f"{inst}/{var}\t{a['status']}\t{a['median_ms']:.4g} ms\t{a['message']}")
PY
cat "$OUT/messages.txt"

step "a missing plug-in"
mv $B/lib/aisp-cuda.so $B/lib/aisp-cuda.so.away
"$AISP" bench run --targets qual:mem_bw --out "$OUT/none" 2>&1 | tail -2
echo "exit ${PIPESTATUS[0]} (want 2)"
mv $B/lib/aisp-cuda.so.away $B/lib/aisp-cuda.so

step summary
echo "| target/variant | status | median |"
echo "|---|---|---|"
awk -F'\t' '{print "| " $1 " | " $2 " | " $3 " |"}' "$OUT/messages.txt"
grep -E '^\| cuda' "$OUT/startup.md"
