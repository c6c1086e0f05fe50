#!/bin/sh
# fault-aisp.sh - wraps aisp ($AISP_REAL) for the Slurm test: on the node named
# by AISP_TEST_FAIL_NODE `bench run` fails at once (a bad option, exit 2); on
# the node named by AISP_TEST_SLOW_NODE it measures AISP_TEST_SLOW_BY percent
# (default 300) slower through aisp's AISP_TEST_SLOW_PCT knob; with
# AISP_TEST_SLOW_FIRST=1 a first attempt (a `bench run` without --resume) is
# 10^4 x slow on every node: it never finishes an item (each ends in its
# worker timeout if the test has not stopped the run by then), so what a
# requeued or resumed attempt gathers was all measured at normal speed. The node is
# $SLURMD_NODENAME; the rest goes to aisp as is.
set -u
: "${AISP_REAL:?fault-aisp: set AISP_REAL to the aisp binary}"
if [ "${1:-}" = bench ] && [ -n "${SLURMD_NODENAME:-}" ]; then
	case $SLURMD_NODENAME in
	"${AISP_TEST_FAIL_NODE:-}")
		exec "$AISP_REAL" bench run --no-such-option-on-purpose
		;;
	"${AISP_TEST_SLOW_NODE:-}")
		AISP_TEST_SLOW_PCT=${AISP_TEST_SLOW_BY:-300}
		export AISP_TEST_SLOW_PCT
		;;
	esac
	case " $* " in
	*" --resume "*) ;;
	*)
		if [ "${AISP_TEST_SLOW_FIRST:-0}" = 1 ]; then
			AISP_TEST_SLOW_PCT=1000000
			export AISP_TEST_SLOW_PCT
		fi
		;;
	esac
fi
exec "$AISP_REAL" "$@"
