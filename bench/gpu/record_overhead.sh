#!/bin/sh
# record_overhead.sh DIR - after bench/gpu/overhead_session.sh ran on the GPU
# machine, write "## Timer agreement (H100)" of bench/RESULTS.md from the files
# it left in $OUT (fetched here to DIR): timer_table.md, then overhead.md (the
# runner overhead on CUDA, worker start and CUDA context apart).
set -eu
DIR=$1
[ -f "$DIR/timer_table.md" ] || { echo "record_overhead: no $DIR/timer_table.md" >&2; exit 1; }
body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
	echo "aisp's median per ch01:gemm variant against independent timers (goal: within 3%)."
	echo
	cat "$DIR/timer_table.md"
	if [ -f "$DIR/overhead.md" ]; then
		echo
		echo "Runner overhead on CUDA (bench/host/overhead.py --backend cuda):"
		echo
		cat "$DIR/overhead.md"
	fi
} >"$body"
/usr/bin/python3 bench/host/md_section.py bench/RESULTS.md "## Timer agreement (H100)" "$body"
echo "wrote '## Timer agreement (H100)' to bench/RESULTS.md"
