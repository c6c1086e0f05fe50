#!/bin/sh
# startup.sh - wall time of the commands that must start in milliseconds
# (`aisp bench list-targets`, `aisp gather --help`, `aisp compare --help`;
# none starts MPI or loads the CUDA plug-in) for each build given, against
# /bin/true, with hyperfine when installed (else a shell loop of RUNS runs);
# CPU time (task-clock) with perf when installed. Prints the markdown
# section body.
#   bench/host/startup.sh WORKDIR LABEL=AISP [LABEL=AISP...]
#   e.g. bench/host/startup.sh /tmp/w cuda=build/aisp host=build-host/aisp
set -eu
WORK=$1
shift
RUNS=${RUNS:-50}
mkdir -p "$WORK"

# mean_min_ms CMD... : "mean min median" wall ms of RUNS runs (shell loop fallback).
mean_min_ms() {
	/usr/bin/python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
ts = []
for _ in range(runs + 5):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t0) * 1e3)
ts = ts[5:]
print(f"{sum(ts) / len(ts):.1f} {min(ts):.1f} {sorted(ts)[len(ts) // 2]:.1f}")
PY
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

# The commands, one per line: label<TAB>command.
: >"$WORK/cmds.txt"
for b in "$@"; do
	label=${b%%=*} bin=${b#*=}
	for c in "bench list-targets" "gather --help" "compare --help"; do
		printf '%s\t%s %s\n' "$label" "$bin" "$c" >>"$WORK/cmds.txt"
	done
done
printf '%s\t%s\n' "-" "/bin/true" >>"$WORK/cmds.txt"

: >"$WORK/rows.txt"
if command -v hyperfine >/dev/null 2>&1; then
	tool="hyperfine -N --warmup 5 --runs $RUNS"
	while IFS="$(printf '\t')" read -r label c; do
		hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$WORK/h.json" "$c" \
			>"$WORK/hyperfine.txt" 2>&1
		/usr/bin/python3 - "$WORK/h.json" "$label" >>"$WORK/rows.txt" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(sys.argv[2] + "\t" + r["command"] + "\t" +
      f"{r['mean'] * 1e3:.1f} {r['min'] * 1e3:.1f} {statistics.median(r['times']) * 1e3:.1f}")
PY
	done <"$WORK/cmds.txt"
else
	tool="a loop of $RUNS runs (hyperfine not installed)"
	while IFS="$(printf '\t')" read -r label c; do
		# shellcheck disable=SC2086
		printf '%s\t%s\t%s\n' "$label" "$c" "$(mean_min_ms $c)" >>"$WORK/rows.txt"
	done <"$WORK/cmds.txt"
fi

echo "| build | command | mean ms | min ms | median ms | CPU ms (task-clock) |"
echo "|---|---|---:|---:|---:|---:|"
while IFS="$(printf '\t')" read -r label c t; do
	# shellcheck disable=SC2086
	set -- $t
	# shellcheck disable=SC2086
	echo "| $label | \`$c\` | $1 | $2 | $3 | $(cpu_ms $c) |"
done <"$WORK/rows.txt"
echo
while IFS="$(printf '\t')" read -r label c; do
	[ "$label" = - ] && continue
	bin=${c%% *}
	[ -f "$WORK/seen-$label" ] && continue
	: >"$WORK/seen-$label"
	cuda=$(ldd "$bin" | grep -Ec 'libcudart|libcublas|libcupti' || true)
	echo "- $label: \`$bin\` maps $(ldd "$bin" | wc -l) shared libraries, $cuda of them CUDA's."
done <"$WORK/cmds.txt"
echo
echo "Timer: $tool. No command here starts MPI or loads the CUDA plug-in"
echo "(lib/aisp-cuda.so, dlopen'ed only by a worker on the CUDA backend). Wall time"
echo "includes waiting for a CPU on a shared machine (see the load average above);"
echo "CPU time does not."
