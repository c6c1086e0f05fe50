#!/bin/sh
# gather on randomly corrupted and truncated rank files: exit 0, 2 or 3,
# never a crash or a hang (HDF5 itself may crash or spin on some of them:
# gather reads each file in a child process with a time limit).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
check "60 mutants of a rank file: no crash, no hang" \
	"$PY" "$TOOLS/fuzz_rank_file.py" "$AISP" "$T/runA/rank-00001.h5" "$T/fuzz" 60 "${FUZZ_SEED:-7}"
finish
