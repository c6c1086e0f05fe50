#!/bin/sh
# A second SIGTERM while rank 0 waits for a busy rank aborts the job at once
# (rank 0's file closed as interrupted); the launcher's duplicate of the
# first signal (sent within milliseconds) does not.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
$MPIRUN -np 2 "$AISP" bench run --job "$(dirname "$0")/jobs/second_signal.yaml" \
	--out "$T/run" >"$T/out" 2>&1 &
mp=$!
i=0 # rank 0's pid, once it runs
while [ -z "${r0:-}" ] && [ $i -lt 100 ]; do
	for p in $(pgrep -f "bench run --job .*second_signal.yaml" 2>/dev/null); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=0' && r0=$p
	done
	sleep 0.1
	i=$((i + 1))
done
check "rank 0 found" test -n "${r0:-}"
sleep 2.5 # rank 0 has done the slow item; rank 1 hangs in the other
start=$(date +%s)
kill -TERM "$r0"; kill -TERM "$r0" # the first and a launcher's duplicate
sleep 3
check "a duplicate of the first signal does not abort: rank 0 still waits" kill -0 "$r0"
kill -TERM "$r0" # the user's second signal
wait $mp
rc=$?
took=$(($(date +%s) - start))
check "second signal: the job ends at once (exit $rc after $took s, hang limit 60 s)" \
	test "$rc" != 0 -a "$took" -lt 20
expect_text "second signal" "second signal: rank 0 says why it stopped waiting"
check "second signal: rank 0's file is closed as interrupted" "$PY" -c "
import h5py, sys
sys.exit(h5py.File('$T/run/rank-00000.h5', 'r').attrs['status'] != 'interrupted')"
finish
