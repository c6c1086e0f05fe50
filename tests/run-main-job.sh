#!/bin/sh
# run-main-job.sh - `make run`: the ch01 job on this machine's GPU, or on the
# host backend without one. Extra flags: AISP_FLAGS="--iterations 50".
set -e
AISP=${AISP:-./aisp}
job=jobs/ch01/job.yaml
if "$AISP" bench list-targets | grep -q ' cuda ' && command -v nvidia-smi >/dev/null 2>&1 &&
	nvidia-smi -L >/dev/null 2>&1; then
	echo "make run: GPU found: $(nvidia-smi -L | head -1)"
else
	echo "make run: no GPU here: the host backend runs the same job (small shapes)"
fi
# shellcheck disable=SC2086
exec "$AISP" bench run --job "$job" --backend auto ${AISP_FLAGS:-}
