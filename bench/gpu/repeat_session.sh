#!/bin/bash
# repeat_session.sh - issue 16 on one GPU in one device command: where the
# run-to-run spread comes from, and what the fixes do to it.
# Run from the repository root with .deps carried (sh bench/gpu/make-deps.sh
# here first):
#   bash bench/gpu/repeat_session.sh               MODE=compare (<= 5 min)
#   MODE=final bash bench/gpu/repeat_session.sh    the final call (<= 4.5 min)
# Steps, each logged with its time; no run starts that would not end inside
# LIMIT_S with RESERVE_S to spare, so gather and the analysis always run (the
# summary says how many runs each variant got):
#   build    make DEPS_PREFIX=.deps CUDA=1 BUILD=build-dev (sm_90 only) build-dev/aisp
#            and its CUDA plug-in build-dev/lib/aisp-cuda.so
# MODE=compare (the first call, 2026-12-04; LIMIT_S 295, RESERVE_S 20):
#   rounds   N rounds (5): the qual job and the ch01 job, each once "before"
#            (AISP_MEASURE=count-first,noclockwarm,nopin: the measuring loop as
#            it was: CUPTI counting right before the samples, warm-up by time
#            only, worker not pinned) and once "after" (the defaults), in
#            alternation, so both see the GPU over the same stretch of time.
#            The "before" runs of ch01 leave out ch01:performance (GPU-bound,
#            seconds per run; the issue has its spread before: 0.1-2.0%).
#   profile  after round PROFILE_AFTER (3): aisp bench run --targets ch01:gemm
#            --profile minimal: the profile pass on the GPU (the case that
#            ended INTERRUPTED before), Nsight Compute's kernel times
#   nocount  time permitting, runs of qual:launch and ch01:gemm with
#            AISP_MEASURE=nocount (no CUPTI in the process at all)
# MODE=final (only the current defaults; LIMIT_S 260, RESERVE_S 10):
#   rounds   N rounds (5): the qual job and the ch01 job (ch01:performance
#            included), and in the first LONG_N (3) rounds the qual job's
#            qual:gemm_peak and qual:health once more with --warmup-ms
#            LONG_WARMUP_MS (3000): does the power-capped clock settle?
#   profile  time permitting, --profile minimal over qual:mem_bw
#            baseline_copy (one 0.76 ms kernel): ncu beside the timer pass
#            (the first call profiled ch01:gemm); left out first when the
#            rounds took longer than estimated
# Both modes then:
#   gather   aisp gather over the "after" (final) runs of each job
#   analysis bench/noise.py: spread, likeliest causes, noise and detection
#            limit, timer agreement (timer pass: events vs CUPTI; ncu), warm-up
# The qual job's health load is 1 s here (param load_ms; it is not the timed
# part); the time budgets are QUAL_BUDGET_S and CH01_BUDGET_S (the jobs' own:
# 3 s and 5 s). Sizes from the first call (session.log of
# bench/gpu/repeat-2026-12-04): build 8 s, qual job 10-11 s, ch01 job 14-17 s,
# profile of 5 variants 44 s (~9 s a variant), gather and analysis 2 s; a
# new worker for every item (CUPTI residue, worker.c) adds ~0.35 s an item.
# So MODE=final takes about 10 (build) + 5 x 14 (qual) + 5 x 18 (ch01) +
# 3 x 21 (long warm-up) + 12 (profile) + 5 = 250 s; a power-capped clock that
# never holds adds up to 2 s a variant, and then the last steps are left out.
# $OUT gets session.log, summary.md (printed last) and results.tgz (every run
# directory, the tables, gather's output, ncu logs and reports). Back here:
#   sh bench/gpu/record_repeat.sh FETCHED_OUT   writes the RESULTS.md sections
# Env: MODE (compare), OUT (/tmp/repeat-session), N (5), LIMIT_S, RESERVE_S, PROFILE_AFTER
# (3), LONG_N (3), LONG_WARMUP_MS (3000), QUAL_BUDGET_S (1.5), CH01_BUDGET_S (2),
# PY (python3, with h5py), AISP_GIT_COMMIT (no .git travels),
# DRY_HOST=1: a rehearsal on a machine without a GPU (./aisp as built, host
# backend, the stand-in ncu of the tests) to check the script end to end.
# Never changes clocks, power or modes (ncu runs with --clock-control none).
set -u -o pipefail
MODE=${MODE:-compare}
OUT=${OUT:-/tmp/repeat-session}
N=${N:-5}
case $MODE in
compare) LIMIT_S=${LIMIT_S:-295} RESERVE_S=${RESERVE_S:-20} ;;
final) LIMIT_S=${LIMIT_S:-260} RESERVE_S=${RESERVE_S:-10} ;;
*) echo "repeat_session: MODE is compare or final, not '$MODE'" >&2; exit 2 ;;
esac
PROFILE_AFTER=${PROFILE_AFTER:-3}
LONG_N=${LONG_N:-3}
LONG_WARMUP_MS=${LONG_WARMUP_MS:-3000}
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
. bench/gpu/session_env.sh
SECONDS=0

gpu_now() { nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw,pstate --format=csv,noheader 2>/dev/null; }
gpu_name() { nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1; }

# fits S: 0 when a step of about S seconds still ends inside LIMIT_S (with
# RESERVE_S kept for gather and the analysis).
fits() { [ $((SECONDS + $1)) -le $((LIMIT_S - RESERVE_S)) ]; }

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
	CUDA_ARCH="-gencode arch=compute_90,code=sm_90" $B/aisp $B/lib/aisp-cuda.so \
	>"$W/logs/make.log" 2>&1; then
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

# compare_rounds: the first call's rounds (before/after), profile, nocount.
compare_rounds() {
	local i QUAL_S=16 CH01_S=22
	step "rounds: qual and ch01 jobs, before and after, $N each"
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
}

# The final call's profile job: one single-kernel variant (ncu beside the
# timer pass; ~9 s a variant, most of it ncu starting).
final_profile_job() {
	cat <<'YAML'
name: profile
iterations: 5
warmup: 1
warmup_ms: 0
max_iterations: 100
time_budget_s: 0.2
ci_target: 0.01
min_sample_ms: 0.5
timeout_s: 120
targets:
  - target: qual:mem_bw
    variants: [baseline_copy]
YAML
}

# final_rounds: the current defaults only: N rounds of the qual and ch01
# jobs, LONG_N runs of qual:gemm_peak and qual:health with a long warm-up in
# the first rounds, then the profile pass when it fits. Each estimate is
# what the last run of its kind took, plus 2 s.
final_rounds() {
	local i QUAL_S=15 CH01_S=19 LONG_S=23
	step "rounds: qual and ch01 jobs $N times, qual:gemm_peak and qual:health with --warmup-ms $LONG_WARMUP_MS $LONG_N times"
	for i in $(seq 1 "$N"); do
		run "qual-final-$i" "$QUAL_S" "" --job "$W/qual.yaml" --time-budget "$QUAL_BUDGET_S" &&
			QUAL_S=$((LAST_S + 2))
		run "ch01-final-$i" "$CH01_S" "" --job jobs/ch01/job.yaml --time-budget "$CH01_BUDGET_S" &&
			CH01_S=$((LAST_S + 2))
		if [ "$i" -le "$LONG_N" ]; then
			run "longwarm-$i" "$LONG_S" "" --job "$W/qual.yaml" \
				--targets qual:gemm_peak,qual:health --warmup-ms "$LONG_WARMUP_MS" \
				--time-budget "$QUAL_BUDGET_S" && LONG_S=$((LAST_S + 2))
		fi
	done
	step "profile pass: qual:mem_bw baseline_copy under ncu"
	final_profile_job >"$W/profile.yaml"
	run profile-final 13 "" --job "$W/profile.yaml" --profile minimal && PROFILE_S=$LAST_S &&
		grep -E "^profile rank" "$W/logs/profile-final.log"
}

if [ "$MODE" = final ]; then
	final_rounds
	MAIN=final
	PROFILE_RUNS="$W/runs/profile-final"
else
	compare_rounds
	MAIN=after
	PROFILE_RUNS="$W/runs/profile-ch01"
fi

step "gather the $MAIN runs"
for job in qual ch01; do
	set -- "$W"/runs/"$job"-"$MAIN"-*
	[ -d "$1" ] || continue
	"$AISP" gather "$@" --out "$W/gather-$job" >"$W/logs/gather-$job.log" 2>&1
	echo "gather $job: exit $?; $(find "$W/gather-$job" -type f -printf '%f ')"
done

step analysis
expect=()
for f in "$W"/gather-qual/expectations_*.json "$W"/gather-ch01/expectations_*.json; do
	[ -f "$f" ] && expect+=(--expectations "$f")
done
if [ "$MODE" = final ]; then
	labels=(--runs final="$W/runs/*-final-*" --runs longwarm="$W/runs/longwarm-*" --main final)
else
	labels=(--runs before="$W/runs/*-before-*" --runs after="$W/runs/*-after-*")
fi
$PY bench/noise.py "${labels[@]}" --profile-runs "$PROFILE_RUNS" "${expect[@]}" \
	--out-dir "$W/tables" >"$W/tables/noise.log" 2>&1 ||
	{ echo "noise.py failed:"; tail -20 "$W/tables/noise.log"; }
if [ "$MODE" = compare ]; then
	$PY bench/noise.py --runs after="$W/runs/*-after-*" --runs nocount="$W/runs/nocount-*" \
		--out-dir "$W/tables/nocount" >/dev/null 2>&1 || true
fi
{
	echo "# issue 16 repeat session ($MODE): $(gpu_name)"
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); commit ${AISP_GIT_COMMIT:-unknown}; MODE=$MODE N=$N; budgets qual ${QUAL_BUDGET_S}s ch01 ${CH01_BUDGET_S}s; profile pass ${PROFILE_S:-?}s; session ${SECONDS}s"
	echo
	cat "$W/tables/summary.md" 2>/dev/null
	echo
	if [ "$MODE" = final ]; then
		echo "Warm-up (clock-checked: SM clock reads 100 ms apart within 1%, at most 2 s past warmup_ms):"
		echo
		cat "$W/tables/warmup.md" 2>/dev/null
		echo "Timer pass (events vs CUPTI span of the same batch; ncu where profiled):"
		echo
		cut -d'|' -f2,3,4,9,10,11,13,14 "$W/tables/timer.md" 2>/dev/null
	else
		echo "nocount (no CUPTI in the process) vs after, spread of medians:"
		grep -E "qual:launch|ch01:gemm" "$W/tables/nocount/spread.md" 2>/dev/null | cut -d'|' -f2-7
	fi
} >"$W/summary.md"
cp "$W/summary.md" "$OUT/summary.md"
find "$W/runs" -name '*.ncu-rep' -size +3M -delete # the returned files are capped at 16 MiB
tar czf "$OUT/results.tgz" -C "$W" runs logs tables gather-qual gather-ch01 summary.md 2>/dev/null
ls -la "$OUT"
step "summary (t=${SECONDS}s)"
cat "$OUT/summary.md"
