#!/bin/sh
# run-all.sh BUILD TEST_BIN... - everything `make test` runs: cmocka unit
# tests, end-to-end scripts (mpirun), the Slurm test. Last line: the totals.
BUILD=$1
shift
AISP=${AISP:-$(pwd)/aisp}
AISP_TEST=${AISP_TEST:-$(pwd)/$BUILD/aisp-test}
PY=${PY:-/usr/bin/python3}
export AISP AISP_TEST PY
log=$(mktemp)
trap 'rm -f "$log"' EXIT
upass=0 ufail=0
for t in "$@"; do
	echo "== $t"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	upass=$((upass + ${p:-0}))
	ufail=$((ufail + ${f:-0}))
	# A binary that exits non-zero (a sanitizer report, a crash) fails too.
	[ "$rc" = 0 ] || [ -n "$f" ] || ufail=$((ufail + 1))
done
# SKIP_SLURM=1 (make asan): the Slurm test checks scripts, not memory.
slurm=tests/slurm/test_slurm.sh
[ "${SKIP_SLURM:-0}" = 1 ] && slurm=
sh tests/run-e2e.sh tests/e2e/*.sh $slurm 2>&1 | tee "$log"
epass=$(sed -n 's/^e2e: \([0-9]*\) passed.*/\1/p' "$log")
efail=$(sed -n 's/^e2e: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log")
eskip=$(sed -n 's/.* \([0-9]*\) skipped$/\1/p' "$log" | tail -1)
[ -n "$epass" ] || efail=$((${efail:-0} + 1))
echo "unit tests: $upass passed, $ufail failed"
echo "end-to-end tests: ${epass:-0} passed, ${efail:-0} failed, ${eskip:-0} skipped"
echo "$((upass + ${epass:-0})) passed, $((ufail + ${efail:-0})) failed, ${eskip:-0} skipped"
[ "$ufail" = 0 ] && [ "${efail:-0}" = 0 ]
