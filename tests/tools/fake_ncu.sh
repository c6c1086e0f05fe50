#!/bin/sh
# fake_ncu.sh - stands in for Nsight Compute in tests/e2e/profile_pass.sh; not a test itself
# (AISP_NCU points here). Two calls, as aisp makes them:
#   fake_ncu.sh [ncu options] PROGRAM ARGS...   profile: run PROGRAM (the
#       worker, its pipes inherited), then write BASE.ncu-rep
#   fake_ncu.sh --import REPORT --csv --page raw   print the report as CSV
#       (two kernels: 60/20 % of peak memory, 40/80 % SM, 3 and 1 us), or
#       only the header when the report says "empty"
# Per item (the report base matches a glob in the variable):
#   FAKE_NCU_FAIL  log "==ERROR== Failed to profile ..." and exit 1, no worker
#   FAKE_NCU_KILL  start the worker, kill it with SIGKILL after 0.5 s
#   FAKE_NCU_EMPTY write a report without kernels (ncu exit 0)
#   FAKE_NCU_EXIT  run the worker, write the report, exit 3 (a partial run)
if [ "${1:-}" = --import ]; then
	echo '"ID","Process ID","Kernel Name","gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed","gpu__time_duration.sum","sm__throughput.avg.pct_of_peak_sustained_elapsed"'
	echo '"","","","%","usecond","%"'
	grep -q empty "$2" && exit 0
	echo '"0","1","fake_kernel_a","60.00","3.00","40.00"'
	echo '"1","1","fake_kernel_b","20.00","1.00","80.00"'
	exit 0
fi
base="" log=/dev/null
while [ $# -gt 0 ]; do
	case $1 in
	--export) base=$2; shift 2 ;;
	--log-file) log=$2; shift 2 ;;
	--section | --clock-control | --cache-control | --target-processes | --nvtx-include) shift 2 ;;
	--*) shift ;;
	*) break ;;
	esac
done
echo "==PROF== Connected to process $$" >"$log"
# matches GLOB: 0 when the report base matches the glob in $1.
# shellcheck disable=SC2254 # the variable holds a glob on purpose
matches() { [ -n "$1" ] && case $base in $1) true ;; *) false ;; esac; }
if matches "${FAKE_NCU_FAIL:-}"; then
	echo "==ERROR== Failed to profile \"sm80_xmma_gemm\" in process $$" >>"$log"
	exit 1
fi
if matches "${FAKE_NCU_KILL:-}"; then
	"$@" &
	pid=$!
	sleep 0.5
	kill -9 "$pid"
	wait "$pid"
	exit 1
fi
"$@"
rc=$?
echo "==PROF== Disconnected from process $$" >>"$log"
if matches "${FAKE_NCU_EMPTY:-}"; then
	# as the real ncu 2025.3 on the H200: its notes first, then this, and no report
	echo "==WARNING== Note: Running with uncontrolled GPU caches. Profiling results may be inconsistent." >>"$log"
	echo "==WARNING== No kernels were profiled." >>"$log"
else
	echo "fake report" >"$base.ncu-rep"
fi
matches "${FAKE_NCU_EXIT:-}" && exit 3
exit "$rc"
