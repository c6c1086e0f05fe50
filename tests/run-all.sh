#!/bin/sh
# run-all.sh TEST_BIN... - everything `make test` runs: cmocka unit
# tests, end-to-end scripts (mpirun), the Slurm test. The last line has the
# totals and names every skipped test: cmocka's SKIPPED tests (GPU tests on a
# machine without one), scripts that exit 77, the Slurm test under
# SKIP_SLURM=1. With CI=true a skipped end-to-end or Slurm test fails the run.
# SLURM_TEST=0 leaves the Slurm test out of this suite (make asan: it checks
# scripts, not memory; the plain suite runs it), which is not a skip.
# E2E="tests/e2e/a.sh ..." runs only those scripts (default: all).
AISP=${AISP:-$(pwd)/aisp}
PY=${PY:-/usr/bin/python3}
export AISP PY
log=$(mktemp)
trap 'rm -f "$log"' EXIT
upass=0 ufail=0 uskip=0 skipped=""
for t in "$@"; do
	echo "== $t"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	upass=$((upass + ${p:-0}))
	ufail=$((ufail + ${f:-0}))
	uskip=$((uskip + ${s:-0}))
	names=$(sed -n 's/^\[  SKIPPED \] \([A-Za-z_][A-Za-z_0-9]*\)$/\1/p' "$log" | sort -u |
		sed "s|^| $(basename "$t"):|" | tr -d '\n')
	skipped="$skipped$names"
	# A binary that exits non-zero (a sanitizer report, a crash) fails too.
	[ "$rc" = 0 ] || [ -n "$f" ] || ufail=$((ufail + 1))
done
slurm=tests/slurm/test_slurm.sh
eskip0=0 eskip0_name=''
if [ "${SLURM_TEST:-1}" = 0 ]; then
	slurm=
elif [ "${SKIP_SLURM:-0}" = 1 ]; then
	echo "== $slurm: skipped (SKIP_SLURM=1)"
	eskip0=1 eskip0_name=" $slurm(SKIP_SLURM=1)" slurm=''
	skipped="$skipped$eskip0_name"
fi
# shellcheck disable=SC2086 # E2E is a list of scripts or a pattern
sh tests/run-e2e.sh ${E2E:-tests/e2e/*.sh} $slurm 2>&1 | tee "$log"
epass=$(sed -n 's/^e2e: \([0-9]*\) passed.*/\1/p' "$log")
efail=$(sed -n 's/^e2e: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log")
eskip=$(sed -n 's/^e2e: .* \([0-9]*\) skipped$/\1/p' "$log")
eskipped=$(sed -n 's/^skipped://p' "$log")
eskip=$((${eskip:-0} + eskip0))
skipped="$skipped$eskipped"
[ -n "$epass" ] || efail=$((${efail:-0} + 1))
rc=0
[ "$ufail" = 0 ] && [ "${efail:-0}" = 0 ] || rc=1
if [ "${CI:-}" = true ] && [ "$eskip" != 0 ]; then
	echo "CI: a skipped end-to-end or Slurm test fails CI:$eskip0_name$eskipped"
	rc=1
fi
echo "unit tests: $upass passed, $ufail failed, $uskip skipped"
echo "end-to-end tests: ${epass:-0} passed, ${efail:-0} failed, $eskip skipped"
echo "$((upass + ${epass:-0})) passed, $((ufail + ${efail:-0})) failed, $((uskip + eskip)) skipped${skipped:+:$skipped}"
exit $rc
