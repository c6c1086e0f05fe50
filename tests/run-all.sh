#!/bin/sh
# run-all.sh BUILD TEST_BIN... - everything `make test` runs: cmocka unit
# tests, end-to-end scripts (mpirun), the Slurm test. The last line has the
# totals and names every skipped test: cmocka's SKIPPED tests (GPU tests on a
# machine without one), scripts that exit 77, the Slurm test under
# SKIP_SLURM=1. With CI=true any skipped test fails the run (a unit test that
# cannot run on this machine is not registered there, and says so).
# LEAVE_OUT="script ..." leaves scripts out of this suite, which is not a
# skip: make asan leaves out the Slurm and README tests (they check scripts
# and documentation, not memory; the plain suite runs them).
# E2E="tests/e2e/a.sh ..." runs only those scripts (default: all).
BUILD=$1
shift
AISP=${AISP:-$(pwd)/aisp}
AISP_TEST=${AISP_TEST:-$(pwd)/$BUILD/aisp-test}
PY=${PY:-/usr/bin/python3}
export AISP AISP_TEST PY
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
eskip0=0 eskip0_name='' scripts=''
# shellcheck disable=SC2086 # E2E is a list of scripts or a pattern
for s in ${E2E:-tests/e2e/*.sh} $slurm; do
	case " ${LEAVE_OUT:-} " in
	*" $s "*) echo "== $s: left out of this suite" ;;
	*)
		if [ "$s" = "$slurm" ] && [ "${SKIP_SLURM:-0}" = 1 ]; then
			echo "== $s: skipped (SKIP_SLURM=1)"
			eskip0=1 eskip0_name=" $s(SKIP_SLURM=1)"
			skipped="$skipped$eskip0_name"
		else
			scripts="$scripts $s"
		fi
		;;
	esac
done
if [ -n "$scripts" ]; then
	# shellcheck disable=SC2086 # a list of scripts
	sh tests/run-e2e.sh $scripts 2>&1 | tee "$log"
else
	echo "e2e: 0 passed, 0 failed, 0 skipped" | tee "$log"
fi
epass=$(sed -n 's/^e2e: \([0-9]*\) passed.*/\1/p' "$log")
efail=$(sed -n 's/^e2e: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log")
eskip=$(sed -n 's/^e2e: .* \([0-9]*\) skipped$/\1/p' "$log")
eskipped=$(sed -n 's/^skipped://p' "$log")
eskip=$((${eskip:-0} + eskip0))
skipped="$skipped$eskipped"
[ -n "$epass" ] || efail=$((${efail:-0} + 1))
rc=0
[ "$ufail" = 0 ] && [ "${efail:-0}" = 0 ] || rc=1
if [ "${CI:-}" = true ] && [ "$((eskip + uskip))" != 0 ]; then
	echo "CI: a skipped test fails CI:$skipped"
	rc=1
fi
echo "unit tests: $upass passed, $ufail failed, $uskip skipped"
echo "end-to-end tests: ${epass:-0} passed, ${efail:-0} failed, $eskip skipped"
echo "$((upass + ${epass:-0})) passed, $((ufail + ${efail:-0})) failed, $((uskip + eskip)) skipped${skipped:+:$skipped}"
exit $rc
