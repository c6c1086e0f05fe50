#!/bin/sh
# loaded.sh [N] - `make test` N times in a row (3), each in a fresh clone of
# this repository's HEAD, while `stress-ng --cpu 2` loads the machine beside
# it; stops at the first failure and keeps that clone. A test that passes
# alone but fails here is a race to find, not a timeout to widen.
# Env passes through (SKIP_SLURM=1, CI=true, ...). Needs stress-ng.
set -u
n=${1:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v stress-ng >/dev/null 2>&1 || { echo "loaded: needs stress-ng" >&2; exit 2; }
stress-ng --cpu 2 --quiet &
load=$!
trap 'kill $load 2>/dev/null' EXIT
i=1
while [ "$i" -le "$n" ]; do
	d=$(mktemp -d "${TMPDIR:-/tmp}/aisp-loaded.XXXXXX")
	git clone -q "$src" "$d/aisp" || exit 2
	start=$(date +%s)
	(cd "$d/aisp" && make -j2 test) >"$d/test.log" 2>&1
	rc=$?
	echo "loaded: run $i of $n: exit $rc in $(($(date +%s) - start)) s: $(tail -1 "$d/test.log")"
	if [ "$rc" != 0 ]; then
		grep -E '^(not ok|failed:|CI:)' "$d/test.log" | head -20
		echo "loaded: kept $d (test.log)"
		exit 1
	fi
	rm -rf "$d"
	i=$((i + 1))
done
echo "loaded: $n of $n green"
