#!/bin/sh
# gather_scale.sh [COUNTS...] - time `aisp gather` on 1k and 10k synthetic
# rank files (2 targets x 5 variants x 50 samples each, 8 ranks per run
# directory) with /usr/bin/time -v: wall time and max RSS, guarded (each
# file read in a child process, the default) and --no-guard. Prints a
# markdown table; writes it under "## Gather scaling" in bench/RESULTS.md
# when BENCH_WRITE=1.
#
# 64 template files (8 runs of 8 ranks, each GPU with its own speed) are made
# with tests/tools/make_rank_files.py; the rest are byte copies with a unique
# GPU UUID and node name patched in (same length), which h5py would take
# ~0.1 s per file to write. With mpirun found, also `mpirun -np 2 aisp gather`
# (files split over 2 ranks; max RSS is then the largest process's), and
# compare and report over the same files against the gathered expectations.
# Env: AISP (binary), PY (/usr/bin/python3), TMPDIR.
set -eu
AISP=${AISP:-$(pwd)/aisp}
PY=${PY:-/usr/bin/python3}
[ $# -gt 0 ] || set -- 1000 10000
W=$(mktemp -d "${TMPDIR:-/tmp}/aisp-gscale.XXXXXX")
trap 'rm -rf "$W"' EXIT
for t in 0 1 2 3 4 5 6 7; do
	"$PY" tests/tools/make_rank_files.py --out "$W/tpl/$t" --ranks 8 --gpus-per-node 8 \
		--node-prefix nd --first-node $((100000 + t)) --run-id "tpl$t" --seed "$t" \
		--targets 2 --variants 5 --samples 50
done
clone() { # clone N DIR: N files in DIR/r000000..., 8 per run directory
	"$PY" - "$W/tpl" "$2" "$1" <<'PYEOF'
import os, sys, h5py
tpl, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = {}
for t in range(8):
    for r in range(8):
        p = "%s/%d/rank-%05d.h5" % (tpl, t, r)
        a = h5py.File(p, "r").attrs
        src[t, r] = (open(p, "rb").read(), a["gpu_uuid"].encode(), a["node"].encode())
for i in range(n):
    run, r = divmod(i, 8)
    data, uuid, node = src[run % 8, r]
    new_uuid = uuid[:-12] + b"%012x" % i
    new_node = b"nd%06d" % run
    assert len(new_uuid) == len(uuid) and len(new_node) == len(node)
    d = data.replace(uuid, new_uuid).replace(node, new_node)
    dd = "%s/r%06d" % (out, run)
    os.makedirs(dd, exist_ok=True)
    open("%s/rank-%05d.h5" % (dd, r), "wb").write(d)
PYEOF
}
measure() { # measure DIR LABEL [OPTS]: one line "label | wall s | max RSS MiB"
	d=$1 label=$2; shift 2
	rc=0
	/usr/bin/time -v $LAUNCH "$AISP" ${CMD:-gather} "$d"/r* ${CMD_ARGS:---out $W/out} "$@" \
		>"$W/gather.out" 2>"$W/time.txt" || rc=$?
	case $rc in 0 | 1) ;; *) echo "${CMD:-gather} failed:"; tail -5 "$W/gather.out" "$W/time.txt"; exit 1 ;; esac
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$W/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$W/time.txt")
	echo "| $label | $wall | $rss |"
}
table="| rank files, mode | wall (m:ss) | max RSS (MiB) |
|---|---|---|"
for n in "$@"; do
	rm -rf "$W/files"
	clone "$n" "$W/files"
	table="$table
$(LAUNCH= measure "$W/files" "$n, guarded (default)")
$(LAUNCH= measure "$W/files" "$n, --no-guard" --no-guard)"
	E=$W/out/expectations_2x_test_gpu.json
	table="$table
$(LAUNCH= CMD=compare CMD_ARGS="--expectations $E" measure "$W/files" "$n, compare")
$(LAUNCH= CMD=report CMD_ARGS="--expectations $E -o $W/report.html" measure "$W/files" "$n, report -o .html")"
	if command -v mpirun >/dev/null 2>&1; then
		table="$table
$(LAUNCH="mpirun --allow-run-as-root --oversubscribe -np 2" measure "$W/files" "$n, mpirun -np 2, guarded")"
	fi
	rm -rf "$W/out"
done
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "$table"
if [ "${BENCH_WRITE:-0}" = 1 ]; then
	"$PY" - bench/RESULTS.md "$table" "$cpu" "$(nproc)" "$(date -u +%Y-%m-%d)" <<'PYEOF'
import os, re, sys
path, table, cpu, ncpu, day = sys.argv[1:]
sec = ("## Gather scaling\n\n"
       "`sh bench/gather_scale.sh` (AISP=build/aisp): `aisp gather` over synthetic rank files, "
       "2 targets x 5 variants x ~50 samples each, 8 rank files per run directory, "
       "timed with /usr/bin/time -v. Device: %s, %s cores (shared with other work), "
       "Debian 12, HDF5 1.10.8; %s.\n\n%s\n\n"
       "Goal: 10k files within 30 s on 2 cores. Memory: no samples are kept, but RSS "
       "grows about 4 KiB per rank file (a row per GPU and variant, the rank map, the "
       "fleet.h5 tables), not flat. `mpirun -np 2`: rank files split over 2 ranks, "
       "packed results sent to rank 0 (same output as one process); it pays here, "
       "but rank 0 then holds every file's packed records (~13 KiB per file) at once.\n" %
       (cpu, ncpu, day, table))
text = open(path).read() if os.path.exists(path) else "# Benchmarks of aisp\n"
m = re.search(r"^## Gather scaling\n.*?(?=^## |\Z)", text, re.S | re.M)
text = text[:m.start()] + sec + ("\n" if m.end() < len(text) else "") + text[m.end():] if m \
    else text.rstrip("\n") + "\n\n" + sec
open(path, "w").write(text)
PYEOF
	echo "wrote bench/RESULTS.md"
fi
