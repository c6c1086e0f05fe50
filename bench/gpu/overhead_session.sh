#!/bin/bash
# overhead_session.sh - the GPU half of issue 9 (tool overhead and timer
# agreement), one device session on the H100. Run from the repository root
# with .deps carried (bench/gpu/make-deps.sh makes it):
#   bash bench/gpu/overhead_session.sh           (everything; logs to $OUT)
#   STEPS="peer ncu table" bash bench/gpu/overhead_session.sh
# Steps, in order:
#   env     GPU, driver, toolkit, torch
#   build   B/aisp (DEPS_PREFIX=.deps CUDA=1) and the bench tools
#           (B/bench/bare_loop, mpi_idle.so) via bench/host/bench.mk; B is
#           BUILD_DIR, else build-dev or build, whichever has an aisp (without
#           this step the bench tools are still built when missing)
#   warm    a few seconds of GEMMs so that clocks have left idle (untimed)
#   aisp    bench/host/overhead.py --backend cuda: ROUNDS x (aisp bench run,
#           then bare_loop --backend cuda) for a 1-item run, a 20-item run
#           (rank cost per item, NVML reads included) and ch01:gemm at the
#           book's shape (1000 iterations); wall vs timed regions, MPI start,
#           worker start and CUDA context creation separately
#   peer    bench/gpu/timer_peer.py: the same cuBLAS calls, PyTorch events
#   ncu     Nsight Compute gpu__time_duration of the peer's kernels per variant
#   table   bench/gpu/timer_table.py: the table, in $OUT/timer_table.md;
#           back on the host, `sh bench/gpu/record_overhead.sh FETCHED_OUT`
#           writes it with overhead.md as "## Timer agreement (H100)"
# Never changes clocks, power or modes (ncu runs with --clock-control none).
# Expected length on a warm H100 with build-dev already built: about 5 minutes
# (aisp ~1 min, peer ~20 s, ncu ~1 min per variant); split with STEPS to stay
# inside one command's limit if the build is cold.
# Env: OUT (/tmp/overhead-session), ITERS (peer iterations, 1000), ROUNDS (3),
# NCU_ITERS (10),
# AISP_GIT_COMMIT (no .git travels).
set -u -o pipefail
OUT=${OUT:-/tmp/overhead-session}
STEPS=${STEPS:-"env build warm aisp peer ncu table"}
ITERS=${ITERS:-1000}
ROUNDS=${ROUNDS:-3}
NCU_ITERS=${NCU_ITERS:-10}
# The build to use: BUILD_DIR, else build-dev (gemm_session.sh) or build
# (`make`, final_session.sh), whichever holds an aisp.
B=${BUILD_DIR:-}
if [ -z "$B" ]; then
	for d in build-dev build; do [ -x $d/aisp ] && { B=$d; break; }; done
	B=${B:-build-dev}
fi
MK="make -j16 DEPS_PREFIX=.deps CUDA=1 BUILD=$B GIT_COMMIT=${AISP_GIT_COMMIT:-unknown}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/overhead_session.log") 2>&1
ncu_dir=$(ls -d /opt/nvidia/nsight-compute/*/ 2>/dev/null | sort | tail -1)
. bench/gpu/session_env.sh
VARIANTS="baseline_gemm optimized_gemm_batched optimized_gemm_strided optimized_gemm_graph"

want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }

if want env; then
	step env
	date -u
	nvidia-smi --query-gpu=name,uuid,driver_version,pstate,clocks.sm,clocks.mem,clocks.max.sm,temperature.gpu,power.draw --format=csv
	nvcc --version | tail -1
	echo "ncu: $(command -v ncu || echo none)  mpicc: $(command -v mpicc || echo none)  cores: $(nproc)"
	lscpu | sed -n 's/^Model name: *//p' | head -1
	python3 -c 'import torch, h5py; print("torch", torch.__version__, torch.version.cuda, "h5py", h5py.__version__)'
fi

if want build; then
	step build
	if $MK $B/aisp $B/aisp-test >"$OUT/make.log" 2>&1 &&
	   $MK -f Makefile -f bench/host/bench.mk bench-tools >>"$OUT/make.log" 2>&1; then
		echo "built $B/aisp, $B/bench/bare_loop, $B/bench/mpi_idle.so"
	else
		echo "build FAILED (aisp and bare steps will be skipped):"; tail -20 "$OUT/make.log"
	fi
fi

# Without the build step (STEPS="aisp peer table"): the bench tools are two
# small files linked against the existing archives of $B.
if [ -x $B/aisp ] && [ ! -x $B/bench/bare_loop ] && { want warm || want aisp; }; then
	step "bench tools ($B)"
	$MK -f Makefile -f bench/host/bench.mk bench-tools >>"$OUT/make.log" 2>&1 ||
		{ echo "bench tools FAILED:"; tail -20 "$OUT/make.log"; }
fi

if want warm && [ -x $B/bench/bare_loop ]; then
	step "warm-up (untimed)"
	$B/bench/bare_loop --backend cuda --target ch01:gemm --variant baseline_gemm \
		--iters 3000 --warmup 100 >/dev/null
	nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv,noheader
fi

if want aisp && { [ ! -x $B/aisp ] || [ ! -x $B/bench/bare_loop ]; }; then
	echo "aisp step skipped: no $B/aisp or $B/bench/bare_loop (add the build step)"
elif want aisp; then
	step "runner overhead: aisp bench run vs bare loop, $ROUNDS rounds"
	shim=""
	[ -f $B/bench/mpi_idle.so ] && shim="--shim $PWD/$B/bench/mpi_idle.so"
	# shellcheck disable=SC2086
	timeout 900 python3 bench/host/overhead.py --backend cuda --aisp $B/aisp-test \
		--bare $B/bench/bare_loop $shim --work /tmp/overhead-work --rounds "$ROUNDS" \
		--log "$OUT/overhead.json" | tee "$OUT/overhead.md"
	echo "overhead.py exit $?"
fi

if want peer; then
	step "independent timer: the same cuBLAS calls from Python, PyTorch events"
	timeout 600 python3 bench/gpu/timer_peer.py --iters "$ITERS" --json "$OUT/peer.json"
	echo "timer_peer exit $?"
fi

if want ncu && command -v ncu >/dev/null 2>&1; then
	step "Nsight Compute: kernel durations of the peer's calls, $NCU_ITERS iterations each"
	for v in $VARIANTS; do
		timeout 300 ncu --nvtx --nvtx-include "timed/" --clock-control none --cache-control none \
			--metrics gpu__time_duration.sum --csv --print-units base \
			python3 bench/gpu/timer_peer.py --nvtx "$v" --iters "$NCU_ITERS" \
			>"$OUT/ncu_$v.csv" 2>"$OUT/ncu_$v.err"
		echo "$v: ncu exit $?, $(grep -c gpu__time_duration "$OUT/ncu_$v.csv") kernels"
	done
fi

if want table; then
	step "timer agreement table"
	if [ -f "$OUT/overhead.json" ]; then
		python3 bench/gpu/timer_table.py --overhead "$OUT/overhead.json" --peer "$OUT/peer.json" \
			--ncu-dir "$OUT" --ncu-iters "$NCU_ITERS" | tee "$OUT/timer_table.md"
	else
		echo "no overhead.json (aisp step skipped or failed)"; cat "$OUT/peer.json" 2>/dev/null
	fi
	{
		echo
		echo "Device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader);" \
			"host $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores;" \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ); commit ${AISP_GIT_COMMIT:-unknown}."
		echo "Command: \`bash bench/gpu/overhead_session.sh\` (ITERS=$ITERS ROUNDS=$ROUNDS NCU_ITERS=$NCU_ITERS)."
	} | tee -a "$OUT/timer_table.md"
fi
step done
ls -la "$OUT"
