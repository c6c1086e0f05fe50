#!/bin/bash
# final_session.sh - the integration session on a lent H100, in two parts that
# fit one device command each (the machine stays warm between them):
#   PART=ch01 bash bench/gpu/final_session.sh   build aisp, `make run` (the
#       README's command: ch01 on CUDA, --update-expectations), 5 repeat runs
#       of the ch01 job (spread of medians), the PyTorch peers
#   PART=rest bash bench/gpu/final_session.sh   qual job + expectations, the
#       tool's overhead and timer agreement (bench/gpu/overhead_session.sh)
# Run from the repository root with .deps carried (bench/gpu/make-deps.sh).
# Everything lands in $OUT: session logs and one tarball of the run
# directories and expectations files. Never changes clocks, power or modes.
set -u
OUT=${OUT:-/tmp/final-session}
PART=${PART:-ch01}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/$PART.log") 2>&1
export PATH="$PATH:/usr/local/cuda/bin"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda/extras/CUPTI/lib64:$PWD/.deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PKG_CONFIG_PATH="$PWD/.deps/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PYTHONUNBUFFERED=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MK="make -j16 DEPS_PREFIX=.deps GIT_COMMIT=${AISP_GIT_COMMIT:-unknown}"

step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }

# The median of one variant in a rank file.
median() {
	python3 -c 'import h5py,sys; f=h5py.File(sys.argv[1]); print(f["targets/"+sys.argv[2]].attrs["median_ms"])' "$@"
}

part_ch01() {
	step env
	nvidia-smi --query-gpu=name,uuid,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
	step "make run (build, then the ch01 job on the GPU)"
	$MK run AISP_FLAGS="--update-expectations --out $OUT/runs/ch01" || echo "make run FAILED: $?"
	cp jobs/ch01/expectations_*.json "$OUT/runs/" 2>/dev/null
	step "repeatability: 5 runs of the ch01 job"
	for i in 1 2 3 4 5; do
		./aisp bench run --job jobs/ch01/job.yaml --time-budget 2 --out "$OUT/runs/rep$i" >"$OUT/runs/rep$i.log" 2>&1 ||
			echo "rep $i exit $?"
		tail -9 "$OUT/runs/rep$i.log" | grep -E "^ch01"
	done
	python3 - "$OUT/runs" <<'EOF'
import glob, sys, h5py, statistics as st
by = {}
for i in range(1, 6):
    for p in glob.glob(f"{sys.argv[1]}/rep{i}/rank-*.h5"):
        with h5py.File(p) as f:
            for t, g in f["targets"].items():
                for v, a in g.items():
                    by.setdefault((t, v), []).append(a.attrs["median_ms"])
print(f"{'target':20} {'variant':32} {'min':>10} {'max':>10} {'spread %':>9}")
for (t, v), m in sorted(by.items()):
    print(f"{t:20} {v:32} {min(m):10.5g} {max(m):10.5g} {100 * (max(m) - min(m)) / st.median(m):9.2f}")
EOF
	step "PyTorch peers, same session"
	timeout 200 python3 bench/torch_gemm.py 2>&1 | tail -20
	timeout 240 python3 bench/torch_performance.py 2>&1 | tail -20
}

part_rest() {
	step "qual job"
	[ -x ./aisp ] || $MK aisp
	OUT="$OUT/qual" AISP=./aisp timeout 280 bash bench/gpu/qual_session.sh || echo "qual exit $?"
	step "tool overhead and timer agreement"
	OUT="$OUT/overhead" STEPS="${OVERHEAD_STEPS:-aisp peer table}" timeout 280 \
		bash bench/gpu/overhead_session.sh || echo "overhead exit $?"
}

case $PART in
ch01) part_ch01 ;;
rest) part_rest ;;
*) echo "PART is ch01 or rest" >&2; exit 2 ;;
esac
step "pack"
tar czf "$OUT/$PART-results.tgz" -C "$OUT" --exclude='*.tgz' --exclude='*.log' . 2>/dev/null
ls -la "$OUT"
