#!/bin/sh
# startup.sh - wall time of `aisp --help` and `aisp bench list-targets` (no MPI
# is started by either), against /bin/true, with hyperfine when installed (else
# a shell loop of RUNS runs); CPU time (task-clock) with perf when installed.
# Prints the markdown section body.
#   bench/host/startup.sh AISP WORKDIR
set -eu
AISP=$1
WORK=$2
RUNS=${RUNS:-50}
mkdir -p "$WORK"

# mean_min_ms CMD... : "mean min" wall ms of RUNS runs (shell loop fallback).
mean_min_ms() {
	/usr/bin/python3 - "$RUNS" "$@" <<'EOF'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
ts = []
for _ in range(runs + 5):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t0) * 1e3)
ts = ts[5:]
print(f"{sum(ts) / len(ts):.1f} {min(ts):.1f} {sorted(ts)[len(ts) // 2]:.1f}")
EOF
}

# cpu_ms CMD... : task-clock ms per run from perf stat, or "-".
cpu_ms() {
	if command -v perf >/dev/null 2>&1; then
		perf stat -x, -r 20 -e task-clock "$@" 2>&1 >/dev/null |
			awk -F, '/task-clock/ {printf "%.1f", $1}'
	else
		printf -- "-"
	fi
}

echo "| command | mean ms | min ms | median ms | CPU ms (task-clock) |"
echo "|---|---:|---:|---:|---:|"
if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$WORK/hyperfine.json" \
		"$AISP --help" "$AISP bench list-targets" "/bin/true" >"$WORK/hyperfine.txt" 2>&1
	tool="hyperfine -N --warmup 5 --runs $RUNS"
	/usr/bin/python3 - "$WORK/hyperfine.json" >"$WORK/rows.txt" <<'EOF'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"] + "\t" + f"{r['mean'] * 1e3:.1f} {r['min'] * 1e3:.1f} {statistics.median(r['times']) * 1e3:.1f}")
EOF
else
	tool="a loop of $RUNS runs (hyperfine not installed)"
	: >"$WORK/rows.txt"
	for c in "$AISP --help" "$AISP bench list-targets" "/bin/true"; do
		# shellcheck disable=SC2086
		printf '%s\t%s\n' "$c" "$(mean_min_ms $c)" >>"$WORK/rows.txt"
	done
fi
while IFS="$(printf '\t')" read -r c t; do
	set -- $t
	# shellcheck disable=SC2086
	echo "| \`$c\` | $1 | $2 | $3 | $(cpu_ms $c) |"
done <"$WORK/rows.txt"
libs=$(ldd "$AISP" | wc -l)
echo
echo "Timer: $tool. The binary maps $libs shared libraries (libmpi, libhdf5 and what they"
echo "pull in); neither command starts MPI. Wall time includes waiting for a CPU on a"
echo "shared machine (see the load average above); CPU time does not."
