#!/bin/bash
# perf_session.sh - ch01:performance on a lent H200 (or H100) in one call of
# at most ~5 minutes: build aisp and tests/gpu for sm_90, run every GPU check
# (tests/gpu/perf_test.sh: the own update kernel alone, every tensor against
# float64 / FP32, branch levels bit for bit, planted mutants, loss curves;
# its book-shape runs also time both update kernels at each branch level and
# profile one step), time both variants with aisp (the in-scope
# optimized_performance against baseline_performance, the check column),
# then the PyTorch peers; a summary table last. Logs under $OUT.
#   OUT=/some/dir bash bench/gpu/perf_session.sh
# Run from the repository root with .deps carried (bench/gpu/make-deps.sh
# run here first). Never changes clocks, power or modes.
set -u -o pipefail
OUT=${OUT:-perf-out}
mkdir -p "$OUT"
. bench/gpu/session_env.sh

step env
{
	date -u +"%Y-%m-%dT%H:%M:%SZ"
	nvidia-smi --query-gpu=name,uuid,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
	nvcc --version | tail -1
	git rev-parse HEAD 2>/dev/null || echo "no git"
} 2>&1 | tee "$OUT/env.txt"

step "build (sm_90 only)"
if ! make -j16 DEPS_PREFIX=.deps CUDA=1 \
	CUDA_ARCH="-gencode arch=compute_90,code=sm_90" \
	aisp build/tests/gpu/perf_driver >"$OUT/build.txt" 2>&1; then
	tail -30 "$OUT/build.txt"
	echo "BUILD FAILED"
	exit 1
fi
cuobjdump --dump-sass build/pic/kernels/ch01/performance_update.cu.o 2>/dev/null |
	grep -oE "HMMA[.0-9A-Z]*|LDSM[.0-9A-Z]*|LDGSTS[.0-9A-Z]*|LDL|STL" | sort | uniq -c \
	>"$OUT/update_sass.txt"

step "GPU checks (tests/gpu/perf_test.sh)"
timeout 200 sh tests/gpu/perf_test.sh build >"$OUT/tests.txt" 2>&1
echo "perf_test exit $?"
grep -E "^(ok|FAIL) " "$OUT/tests.txt" | awk '{print $1}' | sort | uniq -c

step "aisp: ch01:performance (job settings)"
rm -rf "$OUT/run"
timeout 90 ./aisp bench run --job jobs/ch01/job.yaml --targets ch01:performance \
	--backend cuda --out "$OUT/run" >"$OUT/aisp.txt" 2>&1
echo "aisp exit $?"
python3 - "$OUT/run" >"$OUT/checks.txt" 2>&1 <<'EOF'
import glob, sys, h5py
for p in sorted(glob.glob(sys.argv[1] + "/rank-*.h5")):
    with h5py.File(p) as f:
        for v, g in f["targets/ch01:performance"].items():
            a = g.attrs
            c = " ".join(f"{k[6:]}={a[k]:.3g}" for k in sorted(a) if k.startswith("check."))
            print(f"{v}: status {a['status']}, median {a['median_ms']:.4f} ms, {c}")
EOF

step "PyTorch peers"
timeout 80 python3 bench/torch_performance.py --iters 20 >"$OUT/torch.txt" 2>&1
echo "torch exit $?"

step summary
echo "--- GPU checks that failed (of $(grep -cE '^(ok|FAIL) ' "$OUT/tests.txt")):"
grep -E "^FAIL" "$OUT/tests.txt" || echo "none"
echo "--- own update kernel alone / its SASS:"
grep -E "^update kernel" "$OUT/tests.txt" | cut -c1-150
tr '\n' ' ' <"$OUT/update_sass.txt"; echo
# the output of the book-shape runs of perf_test.sh
awk '/^### /{book = /book shape/} book' "$OUT/tests.txt" >"$OUT/book.txt"
echo "--- driver, book shape (ms):"
grep -E "median" "$OUT/book.txt" | cut -c1-110
echo "--- book-shape checks (per tensor, against plain FP32 on the GPU):"
grep -E "verify.*(PASS|FAIL)" "$OUT/book.txt" | cut -c1-250 | sort | uniq -c
grep -E "loss curve over" "$OUT/tests.txt"
echo "--- one step, each op alone (book shape; lt, fused, pre):"
grep -E " us$" "$OUT/book.txt" | head -60
echo "--- aisp run table:"
grep -A4 -E "^target +variant" "$OUT/aisp.txt" | cut -c1-220
cat "$OUT/checks.txt"
echo "--- PyTorch, same session:"
grep -E "ceilings|median" "$OUT/torch.txt"
echo "--- floor (every step, FP32 masters): 13.96 GB/iteration -> 3.25 ms at 4.3 TB/s; 1.375 TFLOP -> 1.8 ms"
echo "session $(($(date +%s) - T0)) s"
