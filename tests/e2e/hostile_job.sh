#!/bin/sh
# Hostile job files through aisp bench run --job: every bad file of the fuzz
# corpus (tests/fuzz/corpus/job/bad-*) and of tests/e2e/jobs/hostile/ (all
# but ok-*) gets exit 2 and a FILE:LINE:COL: message; no run directory is
# created, and an existing run given to --out or --resume (every third
# file) is unchanged. A bad job file is refused before MPI starts: those runs
# name a PML that does not exist, so a run that reached MPI_Init fails there.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
D=$(cd "$(dirname "$0")" && pwd)
tried=0
"$AISP" bench run --targets test:fault --out "$T/run1" >/dev/null 2>&1 || no "a first run"
sum() { cat "$T"/run1/* | cksum; }
before=$(sum)
for f in "$D"/../fuzz/corpus/job/bad-*.yaml "$D"/jobs/hostile/*.yaml; do
	n=$(basename "$f")
	case $n in ok-*) continue ;; esac
	tried=$((tried + 1))
	expect_exit 2 "$n" timeout 60 env OMPI_MCA_pml=aisp_no_such_pml "$AISP" bench run --job "$f" --out "$T/r"
	if grep -qE -- "^aisp bench run: $f:[0-9]+:[0-9]+: " "$T/out"; then
		ok "$n: FILE:LINE:COL: message"
	else
		no "$n: FILE:LINE:COL: message"; head -3 "$T/out" | sed 's/^/    /'
	fi
	if [ -e "$T/r" ]; then no "$n: left a run directory"; rm -rf "$T/r"; fi
	if LC_ALL=C tr -d '\n\t' <"$T/out" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		no "$n: control characters in the message"
	fi
	[ $((tried % 3)) = 0 ] || continue # (each run is MPI_Init: keep the test short)
	expect_exit 2 "$n with --out an existing run" timeout 60 "$AISP" bench run --job "$f" --out "$T/run1"
	expect_exit 2 "$n with --resume an existing run" timeout 60 "$AISP" bench run --resume "$T/run1" --job "$f"
done
check "the existing run is unchanged after $tried bad job files" test "$(sum)" = "$before"
# Files that are not files, and a 4.6 MB job of 200000 targets.
mkfifo "$T/fifo"
"$PY" -c "print('name: x\ntargets:\n' + '  - target: test:fault\n' * 200000)" >"$T/big.yaml"
for f in "$T" "$T/fifo" /dev/null "$T/none.yaml" "$T/big.yaml"; do
	tried=$((tried + 1))
	expect_exit 2 "--job $f" timeout 60 env OMPI_MCA_pml=aisp_no_such_pml "$AISP" bench run --job "$f" --out "$T/r"
	expect_text "$f" "the message names $f"
	if [ -e "$T/r" ]; then no "$f: left a run directory"; rm -rf "$T/r"; fi
done
# Valid YAML in other dresses (BOM, UTF-16) runs.
for f in "$D"/jobs/hostile/ok-*.yaml; do
	tried=$((tried + 1))
	expect_exit 0 "$(basename "$f") runs" "$AISP" bench run --job "$f" --out "$T/ok-$(basename "$f")"
done
echo "# hostile_job: $tried job files tried"
finish
