#!/bin/sh
# record_repeat.sh DIR - after bench/gpu/repeat_session.sh ran on the GPU
# machine and its $OUT was fetched here to DIR (summary.md, results.tgz,
# session.log), write sections of bench/RESULTS.md. MODE=compare (the first
# call) writes:
#   ## Run-to-run spread (issue 16)                 summary, spread, causes
#   ## Run-to-run noise and detection limit (GPU)   noise.md (as `make bench`)
#   ## Timer agreement (CUPTI, Nsight Compute)      timer.md, profile.md
# MODE=final (read from summary.md) writes the same three with ", final" in
# the title (the first call's stay), plus "## Warm-up until the clock holds
# (issue 16, final)" from warmup.md.
set -eu
DIR=$1
[ -f "$DIR/results.tgz" ] || { echo "record_repeat: no $DIR/results.tgz" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$DIR/results.tgz" -C "$tmp" summary.md tables
head=$(sed -n '1,2p' "$tmp/summary.md" | sed 's/^# //')
body=$tmp/body.md
if grep -q "^# issue 16 repeat session (final)" "$tmp/summary.md"; then
	final=", final"
	cmd="Command: \`MODE=final bash bench/gpu/repeat_session.sh\` (one device call; carry .deps from bench/gpu/make-deps.sh), then \`sh bench/gpu/record_repeat.sh OUT\`."
	labels="\"final\": the qual and ch01 jobs with the defaults; \"longwarm\": qual:gemm_peak and qual:health with --warmup-ms 3000. Definitions: bench/noise.py, notes/measure.md."
	main=final
else
	final=""
	cmd="Command: \`bash bench/gpu/repeat_session.sh\` (one device call; carry .deps from bench/gpu/make-deps.sh), then \`sh bench/gpu/record_repeat.sh OUT\`."
	labels="\"before\": AISP_MEASURE=count-first,noclockwarm,nopin (the measuring loop as it was); \"after\": the defaults. Definitions: bench/noise.py, notes/measure.md."
	main=after
fi
{
	echo "$head"
	echo
	echo "$cmd"
	echo "$labels"
	echo
	if [ -n "$final" ]; then
		cat "$tmp/tables/summary.md" # the session's summary adds the tables below
	else
		sed -n '3,$p' "$tmp/summary.md"
	fi
	echo
	echo "Causes, $main (what each run recorded beside its median):"
	echo
	cat "$tmp/tables/causes.md"
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Run-to-run spread (issue 16$final)" "$body"
{
	echo "$head"
	echo
	echo "$cmd"
	echo
	cat "$tmp/tables/noise.md"
	echo
	/usr/bin/python3 bench/noise.py --formulas | sed "s/^/    /"
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Run-to-run noise and detection limit (GPU$final)" "$body"
{
	echo "$head"
	echo
	echo "$cmd"
	echo "Our timer: CUDA events (median_ms; timer_events_ms around the timer pass's batch: one sample's iterations after the samples). Not ours: CUPTI activity timestamps of that same batch, recorded without API callbacks (timer_span_ms: first start to last end; timer_kernels_ms: summed durations) and Nsight Compute gpu__time_duration (profile pass, --clock-control none --cache-control none). Goal: events / span within 3% for every single-kernel variant. Rank files of the first call (2026-12-04) have no timer pass: their table compared the counted pass (callbacks on) instead."
	echo
	cat "$tmp/tables/timer.md"
	if [ -f "$tmp/tables/profile.md" ]; then
		echo
		echo "Profile pass (\`--profile minimal\`):"
		echo
		cat "$tmp/tables/profile.md"
	fi
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Timer agreement (CUPTI, Nsight Compute$final)" "$body"
[ -n "$final" ] || { echo "record_repeat: wrote 3 sections of bench/RESULTS.md"; exit 0; }
{
	echo "$head"
	echo
	echo "$cmd"
	echo "Warm-up: warmup_ms, then SM clock reads (NVML) 100 ms apart until two agree within 1% (one 15 MHz step), rising or falling, for at most 2 s more; steady k/N: runs whose clock held."
	echo
	cat "$tmp/tables/warmup.md"
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Warm-up until the clock holds (issue 16, final)" "$body"
echo "record_repeat: wrote 4 sections of bench/RESULTS.md"
