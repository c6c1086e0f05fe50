#!/bin/bash
# repeat_session.sh - issue 16 on one GPU in one device command (<= 5 min):
# where the run-to-run spread comes from, and what the fixes do to it.
# Run from the repository root with .deps carried (sh bench/gpu/make-deps.sh
# here first):
#   bash bench/gpu/repeat_session.sh
# Steps, each logged with its time; no run starts that would not end inside
# LIMIT_S (295 s from the start) with 20 s to spare, so the analysis always
# runs (the summary says how many runs each variant got):
#   build    make DEPS_PREFIX=.deps CUDA=1 BUILD=build-dev build-dev/aisp
#   rounds   N rounds (5): the qual job and the ch01 job, each once "before"
#            (AISP_MEASURE=count-first,noclockwarm,nopin: the measuring loop as
#            it was: CUPTI counting right before the samples, warm-up by time
#            only, worker not pinned) and once "after" (the defaults), in
#            alternation, so both see the GPU over the same stretch of time.
#            The qual job's health load is 1 s here (param load_ms; it is not
#            the timed part), the time budgets are QUAL_BUDGET_S and
#            CH01_BUDGET_S (the jobs' own: 3 s and 5 s), and the "before" runs
#            of ch01 leave out ch01:performance (GPU-bound, seconds per run;
#            the issue has its spread before: 0.1-2.0%).
#   profile  after round PROFILE_AFTER (3): aisp bench run --targets ch01:gemm
#            --profile minimal: the profile pass on the GPU (the case that
#            ended INTERRUPTED before), Nsight Compute's kernel times
#   nocount  time permitting, runs of qual:launch and ch01:gemm with
#            AISP_MEASURE=nocount (no CUPTI in the process at all)
#   gather   aisp gather over the "after" runs of each job
#   analysis bench/noise.py: spread before/after, likeliest causes, noise and
#            detection limit, timer agreement (events vs CUPTI vs ncu)
# $OUT gets session.log, summary.md (printed last) and results.tgz (every run
# directory, the tables, gather's output, ncu logs and reports). Back here:
#   sh bench/gpu/record_repeat.sh FETCHED_OUT   writes the RESULTS.md sections
# Env: OUT (/tmp/repeat-session), N (5), LIMIT_S (295), PROFILE_AFTER (3), QUAL_BUDGET_S (1.5),
# CH01_BUDGET_S (2), PY (python3, with h5py), AISP_GIT_COMMIT (no .git travels),
# DRY_HOST=1: a rehearsal on a machine without a GPU (./aisp as built, host
# backend, the stand-in ncu of the tests) to check the script end to end.
# Never changes clocks, power or modes (ncu runs with --clock-control none).
set -u -o pipefail
OUT=${OUT:-/tmp/repeat-session}
N=${N:-5}
LIMIT_S=${LIMIT_S:-295}
PROFILE_AFTER=${PROFILE_AFTER:-3}
QUAL_BUDGET_S=${QUAL_BUDGET_S:-1.5}
CH01_BUDGET_S=${CH01_BUDGET_S:-2}
PY=${PY:-python3}
W=/tmp/repeat-work
B=build-dev
AISP=$PWD/$B/aisp
BEFORE="count-first,noclockwarm,nopin"
EXTRA=()
if [ "${DRY_HOST:-0}" = 1 ]; then
	AISP=$PWD/aisp
	EXTRA=(--backend host)
	export AISP_NCU=$PWD/tests/tools/fake_ncu.sh
	W=/tmp/repeat-work-dry
fi
mkdir -p "$OUT"
rm -rf "$W"
mkdir -p "$W/runs" "$W/logs" "$W/tables"
exec > >(tee -a "$OUT/session.log") 2>&1
ncu_dir=$(find /opt/nvidia/nsight-compute -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort | tail -1)
export PATH="$PATH:/usr/local/cuda/bin${ncu_dir:+:$ncu_dir}"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda/extras/CUPTI/lib64:$PWD/.deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PKG_CONFIG_PATH="$PWD/.deps/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PYTHONUNBUFFERED=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
SECONDS=0

step() { echo; echo "=== $* (t=${SECONDS}s, $(date -u +%H:%M:%S))"; }
gpu_now() { nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw,pstate --format=csv,noheader 2>/dev/null; }
gpu_name() { nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1; }

# fits S: 0 when a step of about S seconds still ends inside LIMIT_S (with
# 20 s kept for gather and the analysis).
fits() { [ $((SECONDS + $1)) -le $((LIMIT_S - 20)) ]; }

# run NAME EST MODE ARGS...: one aisp bench run into $W/runs/NAME with
# AISP_MEASURE=MODE, if it fits (EST seconds); its wall time is echoed.
run() {
	local name=$1 est=$2 sw=$3 t0 rc
	shift 3
	if ! fits "$est"; then
		echo "$name: skipped (t=${SECONDS}s, needs ~${est}s, limit ${LIMIT_S}s)"
		return 1
	fi
	t0=$SECONDS
	AISP_MEASURE=$sw timeout $((LIMIT_S - SECONDS)) "$AISP" bench run "$@" "${EXTRA[@]}" \
		--out "$W/runs/$name" >"$W/logs/$name.log" 2>&1
	rc=$?
	LAST_S=$((SECONDS - t0))
	echo "$name: exit $rc, ${LAST_S}s; GPU now: $(gpu_now)"
	[ $rc = 0 ] || tail -5 "$W/logs/$name.log"
	return 0
}

step env
date -u
nvidia-smi --query-gpu=name,uuid,driver_version,pci.bus_id,pstate,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,power.limit --format=csv
echo "host: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; kernel $(uname -r)"
bus=$(nvidia-smi --query-gpu=pci.bus_id --format=csv,noheader 2>/dev/null | head -1 | tr 'A-F' 'a-f' | sed 's/^0000//')
echo "GPU-local CPUs (sysfs): $(cat "/sys/bus/pci/devices/$bus/local_cpulist" 2>/dev/null || echo unknown)"
echo "ncu: $(command -v ncu || echo none) $(ncu --version 2>/dev/null | tail -1)"
$PY -c 'import h5py, numpy; print("h5py", h5py.__version__, "numpy", numpy.__version__)'

step build
if [ "${DRY_HOST:-0}" = 1 ]; then
	echo "rehearsal: using $AISP"
elif ! make -j16 DEPS_PREFIX=.deps CUDA=1 BUILD=$B GIT_COMMIT="${AISP_GIT_COMMIT:-unknown}" \
	$B/aisp >"$W/logs/make.log" 2>&1; then
	echo "build FAILED:"
	tail -30 "$W/logs/make.log"
	cp "$W/logs/make.log" "$OUT/"
	exit 1
fi
echo "built $AISP"

# The qual job with a 1 s health load (the load is not the timed part).
awk '{ print } /target: qual:health/ { print "    params: {load_ms: 1000}" }' jobs/qual/job.yaml \
	>"$W/qual.yaml"

profile_pass() {
	step "profile pass on the GPU: ch01:gemm --profile minimal"
	run profile-ch01 45 "" --targets ch01:gemm --iterations 5 --warmup 1 --time-budget 0.2 \
		--profile minimal && PROFILE_S=$LAST_S
	grep -E "^profile rank" "$W/logs/profile-ch01.log"
	# Nothing profiled: once more without the NVTX filter (every kernel of the
	# worker, so its times are not per iteration: shown here, not in tables).
	if ! grep -qE "\.\.\. (ok|partial):" "$W/logs/profile-ch01.log"; then
		export AISP_NCU_FILTER=none
		run nofilter-profile-ch01 60 "" --targets ch01:gemm --iterations 5 --warmup 1 \
			--time-budget 0.2 --profile minimal &&
			grep -E "^profile rank" "$W/logs/nofilter-profile-ch01.log"
		unset AISP_NCU_FILTER
	fi
}

# pair JOB I EST ARGS...: round I of JOB, before and after (in that order in
# odd rounds, the other way in even ones), only when both fit; the estimate
# for the next round is what this one took.
pair() {
	local job=$1 i=$2 est=$3 modes=(before after) m sw only
	shift 3
	fits $((2 * est)) || { echo "$job round $i: skipped (t=${SECONDS}s, needs ~$((2 * est))s)"; return 1; }
	[ $((i % 2)) = 0 ] && modes=(after before)
	PAIR_S=0
	for m in "${modes[@]}"; do
		sw="" only=()
		[ "$m" = before ] && sw=$BEFORE
		[ "$m" = before ] && [ "$job" = ch01 ] && only=(--targets ch01:gemm)
		run "$job-$m-$i" "$est" "$sw" "$@" "${only[@]}" &&
			PAIR_S=$((PAIR_S > LAST_S ? PAIR_S : LAST_S))
	done
}

step "rounds: qual and ch01 jobs, before and after, $N each"
QUAL_S=16 CH01_S=22
for i in $(seq 1 "$N"); do
	pair qual "$i" "$QUAL_S" --job "$W/qual.yaml" --time-budget "$QUAL_BUDGET_S" &&
		QUAL_S=$((PAIR_S + 2))
	pair ch01 "$i" "$CH01_S" --job jobs/ch01/job.yaml --time-budget "$CH01_BUDGET_S" &&
		CH01_S=$((PAIR_S + 2))
	[ "$i" = "$PROFILE_AFTER" ] && profile_pass
done
[ -d "$W/runs/profile-ch01" ] || profile_pass

step "no CUPTI in the process: qual:launch and ch01:gemm, AISP_MEASURE=nocount"
for i in 1 2 3; do
	run "nocount-$i" 8 nocount --job "$W/qual.yaml" --targets qual:launch \
		--time-budget "$QUAL_BUDGET_S" || break
	run "nocount-gemm-$i" 10 nocount --job jobs/ch01/job.yaml --targets ch01:gemm \
		--time-budget "$CH01_BUDGET_S" || break
done

step "gather the after runs"
for job in qual ch01; do
	set -- "$W"/runs/"$job"-after-*
	[ -d "$1" ] || continue
	"$AISP" gather "$@" --out "$W/gather-$job" >"$W/logs/gather-$job.log" 2>&1
	echo "gather $job: exit $?; $(find "$W/gather-$job" -type f -printf '%f ')"
done

step analysis
$PY bench/noise.py --runs before="$W/runs/*-before-*" --runs after="$W/runs/*-after-*" \
	--profile-runs "$W/runs/profile-ch01" --expectations "$W"/gather-qual/expectations_*.json \
	--expectations "$W"/gather-ch01/expectations_*.json --out-dir "$W/tables" \
	>"$W/tables/noise.log" 2>&1 || { echo "noise.py failed:"; tail -20 "$W/tables/noise.log"; }
$PY bench/noise.py --runs after="$W/runs/*-after-*" --runs nocount="$W/runs/nocount-*" \
	--out-dir "$W/tables/nocount" >/dev/null 2>&1 || true
{
	echo "# issue 16 repeat session: $(gpu_name)"
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); commit ${AISP_GIT_COMMIT:-unknown}; N=$N; budgets qual ${QUAL_BUDGET_S}s ch01 ${CH01_BUDGET_S}s; profile pass ${PROFILE_S:-?}s; session ${SECONDS}s"
	echo
	cat "$W/tables/summary.md" 2>/dev/null
	echo
	echo "nocount (no CUPTI in the process) vs after, spread of medians:"
	grep -E "qual:launch|ch01:gemm" "$W/tables/nocount/spread.md" 2>/dev/null | cut -d'|' -f2-7
} >"$W/summary.md"
cp "$W/summary.md" "$OUT/summary.md"
find "$W/runs" -name '*.ncu-rep' -size +3M -delete # the returned files are capped at 16 MiB
tar czf "$OUT/results.tgz" -C "$W" runs logs tables gather-qual gather-ch01 summary.md 2>/dev/null
ls -la "$OUT"
step "summary (t=${SECONDS}s)"
cat "$OUT/summary.md"
