#!/bin/sh
# A second SIGTERM while rank 0 waits for a busy rank aborts the job at once
# (rank 0's file closed as interrupted); the launcher's duplicate of the
# first signal (sent within milliseconds) does not. Every step waits for a
# state (rank 0 started, rank 0's item reported, the job ended), not a time:
# which rank is busy is fixed (rank 1 runs 1000x slower), not a race.
. "$(dirname "$0")/lib.sh"
AISP=$AISP_TEST # test:fault lives in the test binary
job="$(dirname "$0")/jobs/second_signal.yaml"
run="$AISP bench run --job $job --out $T/run"
# shellcheck disable=SC2086 # run is a command line
$MPIRUN -np 1 $run : -np 1 -x AISP_TEST_SLOW_PCT=100000 $run >"$T/out" 2>&1 &
mp=$!
# is_r0 PID: PID is rank 0 of this test's run (not another test's: the
# machine is shared; not a process that took the number after rank 0 ended)
is_r0() {
	{ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "--out $T/run" &&
		{ tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=0'
}
while [ -z "${r0:-}" ] && kill -0 $mp 2>/dev/null; do # rank 0's pid, once it runs
	for p in /proc/[0-9]*; do # not pgrep: a fresh machine may lack procps
		is_r0 "${p#/proc/}" && r0=${p#/proc/}
	done
	sleep 0.1
done
check "rank 0 found" test -n "${r0:-}"
# rank 0 has reported its item (it then waits for rank 1, busy for 60 s)
while ! grep -q '^\[1/2\] .* rank 0 \.\.\.' "$T/out" && kill -0 $mp 2>/dev/null; do sleep 0.1; done
check "rank 0 finished its item; rank 1 is still busy" sh -c "! grep -q ' rank 1 \.\.\.' '$T/out'"
kill -TERM "$r0"; kill -TERM "$r0" # the first and a launcher's duplicate
sleep 1 # time for a wrong abort to happen
check "a duplicate of the first signal does not abort: rank 0 still waits" is_r0 "$r0"
n=0 # the user's second signal: again every half second until rank 0 ends
while is_r0 "$r0" && [ $n -lt 120 ]; do
	kill -TERM "$r0" 2>/dev/null
	sleep 0.5
	n=$((n + 1))
done
wait $mp
rc=$?
check "second signal: the job ends (exit $rc)" test "$rc" != 0
expect_text "second signal" "second signal: rank 0 says why it stopped waiting"
check "second signal: rank 0's file is closed as interrupted, before rank 1's time limit" "$PY" -c "
import h5py, sys
f0 = h5py.File('$T/run/rank-00000.h5', 'r')
st1 = []
try:
    f1 = h5py.File('$T/run/rank-00001.h5', 'r')
    st1 = [v.attrs['status'] for g in f1['targets'].values() for v in g.values()]
except OSError:
    pass
print('rank 0', f0.attrs['status'], 'rank 1 items', st1)
sys.exit(f0.attrs['status'] != 'interrupted' or 'timeout' in st1)"
finish
