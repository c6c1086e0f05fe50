#!/bin/sh
# run.sh - `make bench`: benchmarks of aisp itself on this machine (host
# backend, no GPU needed), a few minutes on 2 cores. Regenerates these
# sections of bench/RESULTS.md (other sections are left alone):
#   ## Tool overhead (host)   bench/host/overhead.py (bare_loop, PMPI shim)
#   ## Dispatch               bench/host/dispatch.py (1000 items, spread)
#   ## Start-up               bench/host/startup.sh
#   ## Gather scaling         bench/gather_scale.sh (its own section)
#   ## Run-to-run noise and detection limit (GPU)   only where a GPU is
#                             visible: the qual and ch01 jobs BENCH_RUNS (5)
#                             times each, `aisp gather`, bench/noise.py
# The GPU half is bench/gpu/overhead_session.sh (run on the H100); issue 16's
# diagnosis, bench/gpu/repeat_session.sh.
#   sh bench/run.sh                       everything
#   BENCH_ONLY=dispatch,startup sh bench/run.sh
# Knobs: BUILD (build), AISP (BUILD/aisp), AISP_TEST (BUILD/aisp-test, which
# has the test targets the overhead and dispatch jobs use), HOST_BUILD
# (build-host: the CUDA=0 build whose start-up is measured beside BUILD's),
# BENCH_ROUNDS (5), BENCH_RANKS (1,2,4,8), BENCH_RUNS (5, at least 5 for the
# noise section), BENCH_KEEP=1 keeps the work directory (runs and raw JSON logs).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
HOST_BUILD=${HOST_BUILD:-build-host}
AISP=${AISP:-$BUILD/aisp}
AISP_TEST=${AISP_TEST:-$BUILD/aisp-test}
ONLY=${BENCH_ONLY:-overhead,dispatch,startup,gather,noise}
RUNS=${BENCH_RUNS:-5}
ROUNDS=${BENCH_ROUNDS:-5}
RANKS=${BENCH_RANKS:-1,2,4,8}
RESULTS=bench/RESULTS.md
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/aisp-bench.XXXXXX)
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

# Load average now (call before a benchmark: the section reports it).
load_before() { LOAD0=$(cut -d' ' -f1-3 /proc/loadavg); }
LOAD0=unknown

# The facts every section carries: machine, date, commit, load.
machine() {
	model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
	echo "Machine: $model, $(nproc) cores, $(uname -sr); $(date -u +%Y-%m-%dT%H:%M:%SZ);" \
		"commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown);" \
		"load average before: $LOAD0."
}

# section TITLE BODYFILE COMMAND: write one section of RESULTS.md.
section() {
	{
		machine
		echo "Command: \`$3\` (from \`make bench\`)."
		echo
		cat "$2"
		echo
		echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
	} >"$WORK/section.md"
	$PY bench/host/md_section.py "$RESULTS" "$1" "$WORK/section.md"
	echo "bench: wrote '$1' to $RESULTS"
}

# aisp and the bench tools from the same archives (the target code they compare);
# the CUDA=0 build beside it for the start-up comparison.
make --no-print-directory -s -f Makefile -f bench/host/bench.mk BUILD="$BUILD" aisp \
	bench-tools
make --no-print-directory -s BUILD="$HOST_BUILD" CUDA=0 "$HOST_BUILD/aisp"
[ -x "$AISP" ] || { echo "bench: $AISP not built" >&2; exit 1; }
AISP=$(cd "$(dirname "$AISP")" && pwd)/$(basename "$AISP")
AISP_TEST=$(cd "$(dirname "$AISP_TEST")" && pwd)/$(basename "$AISP_TEST")
SHIM=$(pwd)/$BUILD/bench/mpi_idle.so
echo "bench: work directory $WORK"

if want overhead; then
	load_before
	$PY bench/host/overhead.py --aisp "$AISP_TEST" --bare "$BUILD/bench/bare_loop" --shim "$SHIM" \
		--work "$WORK/overhead" --rounds "$ROUNDS" --log "$WORK/overhead.json" >"$WORK/overhead.md"
	{ echo; cat bench/host/overhead_notes.md; } >>"$WORK/overhead.md"
	section "## Tool overhead (host)" "$WORK/overhead.md" \
		"bench/host/overhead.py --rounds $ROUNDS: aisp bench run --job JOB --backend host, then $BUILD/bench/bare_loop, per case and round"
fi
if want dispatch; then
	load_before
	$PY bench/host/dispatch.py --aisp "$AISP" --shim "$SHIM" --job bench/host/dispatch1000.yaml \
		--work "$WORK/dispatch" --ranks "$RANKS" --log "$WORK/dispatch.json" >"$WORK/dispatch.md"
	{ echo; cat bench/host/dispatch_history.md; } >>"$WORK/dispatch.md"
	section "## Dispatch" "$WORK/dispatch.md" \
		"bench/host/dispatch.py --ranks $RANKS: mpirun --allow-run-as-root --oversubscribe -np N $AISP bench run --job bench/host/dispatch1000.yaml --backend host"
fi
if want startup; then
	load_before
	label=$BUILD
	"$AISP" bench list-targets | grep -q '^ch01:gemm  *cuda ' && label="cuda ($BUILD)"
	sh bench/host/startup.sh "$WORK/startup" "$label=$AISP" "host=$HOST_BUILD/aisp" \
		>"$WORK/startup.md"
	section "## Start-up" "$WORK/startup.md" \
		"bench/host/startup.sh WORK $label=$AISP host=$HOST_BUILD/aisp"
fi
if want gather; then
	if [ -f bench/gather_scale.sh ]; then
		AISP=$AISP PY=$PY BENCH_WRITE=1 sh bench/gather_scale.sh
	else
		echo "bench: bench/gather_scale.sh not there yet; gather scaling skipped"
	fi
fi
if want noise; then
	if ! nvidia-smi -L >/dev/null 2>&1; then
		echo "bench: noise: no GPU visible (nvidia-smi -L); the noise section needs one, skipped"
	elif [ "$RUNS" -lt 5 ]; then
		echo "bench: noise: BENCH_RUNS=$RUNS, at least 5 runs are needed" >&2
		exit 1
	else
		load_before
		npy=$PY
		$npy -c 'import h5py' 2>/dev/null || npy=python3 # the GPU image's python has h5py
		for i in $(seq 1 "$RUNS"); do
			for job in qual ch01; do
				"$AISP" bench run --job "jobs/$job/job.yaml" --out "$WORK/noise/$job-$i" \
					>"$WORK/noise-$job-$i.log" 2>&1 || echo "bench: noise: $job run $i exit $?"
			done
		done
		for job in qual ch01; do
			# shellcheck disable=SC2046
			"$AISP" gather $(find "$WORK/noise" -maxdepth 1 -name "$job-*" | sort) \
				--out "$WORK/noise/gather-$job" >"$WORK/noise-gather-$job.log" 2>&1
		done
		{
			echo "Device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)."
			echo
			$npy bench/noise.py --runs "runs=$WORK/noise/[qc]*-*" \
				--expectations "$WORK/noise/gather-qual/expectations_"*.json \
				--expectations "$WORK/noise/gather-ch01/expectations_"*.json \
				--out-dir "$WORK/noise/tables" >/dev/null
			cat "$WORK/noise/tables/noise.md"
			echo
			$npy bench/noise.py --formulas | sed "s/^/    /"
		} >"$WORK/noise.md"
		section "## Run-to-run noise and detection limit (GPU)" "$WORK/noise.md" \
			"$RUNS x (aisp bench run --job jobs/qual/job.yaml; aisp bench run --job jobs/ch01/job.yaml), aisp gather, bench/noise.py"
	fi
fi
