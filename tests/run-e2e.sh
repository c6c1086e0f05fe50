#!/bin/sh
# run-e2e.sh [SCRIPT...] - run end-to-end test scripts (default tests/e2e/*.sh).
# Each script exits 0 pass, 77 skip (saying why), else fail. Prints the
# failed and skipped scripts by name, then the counts last.
# Env: AISP (binary, default ./aisp), AISP_TEST (the test binary, default
# build/aisp-test), PY (python with h5py).
AISP=${AISP:-$(pwd)/aisp}
case $AISP in /*) ;; *) AISP=$(pwd)/$AISP ;; esac
AISP_TEST=${AISP_TEST:-$(pwd)/build/aisp-test}
case $AISP_TEST in /*) ;; *) AISP_TEST=$(pwd)/$AISP_TEST ;; esac
PY=${PY:-/usr/bin/python3}
# Open MPI's own allocations are never freed: leak checks stay on for the
# unit tests (no MPI) and off for runs of the MPI binary under ASan; the
# fault targets crash on purpose, so SIGSEGV stays a signal.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_segv=0}
export AISP AISP_TEST PY ASAN_OPTIONS
pass=0 fail=0 skip=0 failed="" skipped=""
[ $# -gt 0 ] || set -- tests/e2e/*.sh
for s in "$@"; do
	case $(basename "$s") in lib.sh) continue ;; esac
	echo "== $s"
	start=$(date +%s)
	sh "$s"
	rc=$?
	echo "   ($(($(date +%s) - start)) s)"
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) skipped="$skipped $s" ;;
	*) fail=$((fail + 1)) failed="$failed $s" ;;
	esac
done
[ -z "$failed" ] || echo "failed:$failed"
[ -z "$skipped" ] || echo "skipped:$skipped"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
