#!/bin/sh
# record_repeat.sh DIR - after bench/gpu/repeat_session.sh ran on the GPU
# machine and its $OUT was fetched here to DIR (summary.md, results.tgz,
# session.log), write three sections of bench/RESULTS.md:
#   ## Run-to-run spread (issue 16)                 summary, spread, causes
#   ## Run-to-run noise and detection limit (GPU)   noise.md (as `make bench`)
#   ## Timer agreement (CUPTI, Nsight Compute)      timer.md, profile.md
set -eu
DIR=$1
[ -f "$DIR/results.tgz" ] || { echo "record_repeat: no $DIR/results.tgz" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$DIR/results.tgz" -C "$tmp" summary.md tables
head=$(sed -n '1,2p' "$tmp/summary.md" | sed 's/^# //')
cmd="Command: \`bash bench/gpu/repeat_session.sh\` (one device call; carry .deps from bench/gpu/make-deps.sh), then \`sh bench/gpu/record_repeat.sh OUT\`."
body=$tmp/body.md
{
	echo "$head"
	echo
	echo "$cmd"
	echo "\"before\": AISP_MEASURE=count-first,noclockwarm,nopin (the measuring loop as it was); \"after\": the defaults. Definitions: bench/noise.py, notes/measure.md."
	echo
	sed -n '3,$p' "$tmp/summary.md"
	echo
	echo "Causes, after (what each run recorded beside its median):"
	echo
	cat "$tmp/tables/causes.md"
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Run-to-run spread (issue 16)" "$body"
{
	echo "$head"
	echo
	echo "$cmd"
	echo
	cat "$tmp/tables/noise.md"
	echo
	/usr/bin/python3 bench/noise.py --formulas | sed "s/^/    /"
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Run-to-run noise and detection limit (GPU)" "$body"
{
	echo "$head"
	echo
	echo "$cmd"
	echo "Our timer: CUDA events (median_ms, and count_event_ms around the counted batch). Not ours: CUPTI activity timestamps of the same batch (device_span_ms: first start to last end; device_ms: summed durations) and Nsight Compute gpu__time_duration (profile pass, --clock-control none --cache-control none). Goal: within 3% for every single-kernel variant."
	echo
	cat "$tmp/tables/timer.md"
	if [ -f "$tmp/tables/profile.md" ]; then
		echo
		echo "Profile pass (\`--profile minimal\` over ch01:gemm):"
		echo
		cat "$tmp/tables/profile.md"
	fi
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Timer agreement (CUPTI, Nsight Compute)" "$body"
echo "record_repeat: wrote 3 sections of bench/RESULTS.md"
