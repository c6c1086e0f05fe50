#!/bin/sh
# test_slurm.sh - slurm/ scripts against a real three-node Slurm cluster here.
#
#   AISP=/abs/path/to/aisp sh tests/slurm/test_slurm.sh
#
# Starts munge, slurmctld and slurmd x3 (tests/slurm/cluster.sh) under a temp
# dir, then: a baseline refresh over 3 nodes x 2 ranks (srun --mpi=pmix) and
# its gather; a qualification array pinned one element per node, node3 failing
# on purpose and node2 measuring slow, compared against that baseline, its
# gather draining both; the time limit's early SIGTERM under srun and SIGTERM
# by hand under mpirun (rank files interrupted); a requeued run resuming its
# directory; the health check passing, failing, timing out. Stops every
# daemon it started. One line per check; exit 0 pass, 1 fail, 77 skip
# (packages missing and not installable). AISP_SLURM_KEEP=1 keeps the temp dir.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
AISP=${AISP:-$ROOT/aisp}
PY=${PY:-/usr/bin/python3}
N=0
FAILED=0
START=$(date +%s)

# Print one check's result: ok/not ok, its number and what it checks.
result() {
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
	fi
}

# Run a command as check $1 (its description), quietly.
check() {
	desc=$1
	shift
	"$@" >/dev/null 2>&1
	result $? "$desc"
}

# Check $1 (description): got $2, want $3; say both when they differ.
expect() {
	if [ "$2" = "$3" ]; then
		result 0 "$1"
	else
		result 1 "$1"
		printf '#   got:  %s\n#   want: %s\n' "$2" "$3"
	fi
}

# Check $1 (description): text $2 contains line pattern $3 (grep -E).
expect_line() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		result 0 "$1"
	else
		result 1 "$1"
		printf '%s\n' "$2" | sed 's/^/#   got: /'
	fi
}

# True when every command and library the cluster needs is here; else MISSING
# names what is not.
have_slurm() {
	MISSING=""
	for c in munged slurmctld slurmd sbatch srun scontrol sinfo squeue scancel; do
		command -v "$c" >/dev/null 2>&1 || MISSING="$MISSING $c"
	done
	# slurmd's PMIx plugin loads libpmix.so (Debian: libpmix-dev)
	ldconfig -p 2>/dev/null | grep -q 'libpmix\.so ' ||
		dpkg-query -W -f='${Status}' libpmix-dev 2>/dev/null | grep -q "install ok installed" ||
		MISSING="$MISSING libpmix.so"
	[ -z "$MISSING" ]
}

if ! have_slurm; then
	sh tests/deps.sh >&2
	if ! have_slurm; then
		echo "SKIP: missing$MISSING (packages slurm-wlm, munge, libpmix-dev), and tests/deps.sh could not install them"
		exit 77
	fi
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the test cluster runs slurmd as root; run the Slurm test as root"
	exit 77
fi
case $AISP in /*) ;; *) AISP=$ROOT/$AISP ;; esac
[ -x "$AISP" ] || { echo "not ok - no aisp binary at $AISP (set AISP)"; exit 1; }

DIR=$(mktemp -d /tmp/aisp-slurm-test.XXXXXX) || exit 1
chmod 755 "$DIR" # munged wants every directory above its socket searchable
RES=$DIR/results
# Stop what we started whatever happens; keep the dir on failure for a look.
cleanup() {
	sh tests/slurm/cluster.sh stop "$DIR/cluster" >/dev/null 2>&1
	if [ "$FAILED" = 0 ] && [ "${AISP_SLURM_KEEP:-0}" = 0 ]; then
		rm -rf "$DIR"
	else
		echo "# kept $DIR"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

export SLURM_CONF="$DIR/cluster/slurm.conf"
# Ranks of different "nodes" share this host: no shared-memory transport, and
# TCP over loopback only (a connect to another interface here once failed and
# took a rank down inside Open MPI).
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AISP_REAL="$AISP"
JOB=$ROOT/tests/slurm/job.yaml
BENCH="--backend host"
# 2 cores for 4-6 ranks (and whatever else runs here): a rank's median can
# be 2.6x the fleet's, so only a GPU 5x slower than expected counts, and
# node2 is made 31x slow (about 11x the baseline: its ranks share the cores).
CMP="--tolerance-upper 4 --tolerance-lower 0.95 --min-delta 4"
export AISP_TEST_SLOW_BY=3000
# Every AISP_TEST_* in a rank's environment is recorded in its rank file, and
# gather refuses such files unless told (sbatch passes this to the gathers).
export AISP_GATHER_ARGS=--allow-test-knobs

# Wait until none of the jobs $2 (comma list) is pending or running; $1 s max.
wait_jobs() {
	limit=$1
	i=0
	while [ -n "$(squeue -h -j "$2" -o %i 2>/dev/null)" ]; do
		i=$((i + 1))
		[ "$i" -gt $((limit * 2)) ] && return 1
		sleep 0.5
	done
	return 0
}

# Print "node task state exit" for each record of job $1 (array tasks too).
job_states() {
	scontrol show job -o "$1" | tr ' ' '\n' | awk -F= '
		$1 == "ArrayTaskId" { task = $2 }
		$1 == "JobState" { state = $2 }
		$1 == "ExitCode" { code = $2 }
		$1 == "NodeList" { print $2, (task == "" ? "-" : task), state, code; task = "" }'
}

# Print "node status" for each rank file of run directory $1, sorted.
rank_nodes() {
	"$PY" - "$1" <<'EOF'
import glob, sys
import h5py
def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)
for f in sorted(glob.glob(sys.argv[1] + "/rank-*.h5")):
    with h5py.File(f, "r") as h:
        print(text(h.attrs["node"]), text(h.attrs["status"]))
EOF
}

# ---- 0. the scripts themselves
if command -v shellcheck >/dev/null 2>&1; then
	check "shellcheck slurm/ and tests/slurm/" shellcheck slurm/submit slurm/*.sbatch \
		slurm/aisp-healthcheck tests/slurm/*.sh
else
	echo "# shellcheck not installed: scripts not linted"
fi

# ---- 1. the cluster
sh tests/slurm/cluster.sh start "$DIR/cluster" >"$DIR/cluster.log" 2>&1
rc=$?
result $rc "three-node cluster up (munge, slurmctld, slurmd node1..node3)"
if [ "$rc" != 0 ]; then
	sed 's/^/# /' "$DIR/cluster.log"
	exit 1
fi
expect "sinfo: node1..node3 idle" "$(sinfo -h -N -t idle -o %N | sort -u | xargs)" "node1 node2 node3"

# ---- 2. baseline refresh: one MPI run over 3 nodes x 2 ranks, then gather
# shellcheck disable=SC2086 # BENCH is a list of options
out=$(slurm/submit refresh --parsable --partition test --nodes 3 --gpus-per-node 0 \
	--tasks-per-node 2 --time 5 --job "$JOB" --compare "$CMP" --results "$RES" -- $BENCH)
result $? "submit refresh: run and gather job ids ($out)"
RUN=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
wait_jobs 120 "$RUN,$GATHER"
result $? "refresh run $RUN and gather $GATHER ended within 120 s"
expect "refresh run: COMPLETED, exit 0, on node[1-3]" "$(job_states "$RUN")" "node[1-3] - COMPLETED 0:0"
expect "refresh run: 6 complete rank files, 2 per node (srun --mpi=pmix)" \
	"$(rank_nodes "$RES/run-$RUN" | sort | uniq -c | xargs)" \
	"2 node1 complete 2 node2 complete 2 node3 complete"
expect "refresh gather: ran after the run, COMPLETED, exit 0" "$(job_states "$GATHER" | cut -d' ' -f3-)" "COMPLETED 0:0"
BASE=$(find "$RES/baseline-$RUN" -name 'expectations_*.json' 2>/dev/null | head -n 1)
check "refresh gather: baseline $RES/baseline-$RUN/expectations_*.json written" test -s "$BASE"
check "refresh gather: fleet.h5 written" test -s "$RES/baseline-$RUN/fleet.h5"
expect "refresh gather: empty drain list" "$(cat "$RES/baseline-$RUN/drain-list.txt" 2>&1)" ""

# ---- 3. qualification of node3,node1,node2: node3 fails on purpose, node2 is slow
# shellcheck disable=SC2086
out=$(AISP_TEST_FAIL_NODE=node3 AISP_TEST_SLOW_NODE=node2 slurm/submit qualify --parsable \
	--partition test --nodes 'node3,node[1-2]' --gpus-per-node 0 --tasks-per-node 2 --time 5 \
	--job "$JOB" --expectations "$BASE" --compare "$CMP" --apply-drain --results "$RES" \
	--aisp "$ROOT/tests/slurm/fault-aisp.sh" -- $BENCH)
result $? "submit qualify: array and gather job ids ($out)"
ARRAY=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
wait_jobs 120 "$ARRAY,$GATHER"
result $? "qualify array $ARRAY and gather $GATHER ended within 120 s"
states=$(job_states "$ARRAY" | sort)
expect "qualify: element i pinned to the i-th node given, node3's failed alone" "$states" \
	"$(printf 'node1 1 COMPLETED 0:0\nnode2 2 COMPLETED 0:0\nnode3 0 FAILED 2:0')"
Q=$RES/qualify-$ARRAY
expect "qualify: node1 run directory holds node1's 2 rank files" "$(rank_nodes "$Q/node1" | xargs)" \
	"node1 complete node1 complete"
expect "qualify: node2 run directory holds node2's 2 rank files" "$(rank_nodes "$Q/node2" | xargs)" \
	"node2 complete node2 complete"
expect "qualify: node3 element recorded its exit status" "$(grep '^exit=' "$Q/node3/slurm-status" 2>&1)" "exit=2"
expect "qualify gather: ran although an element failed (afterany), exit 1 for nodes to drain" \
	"$(job_states "$GATHER" | cut -d' ' -f3-)" "FAILED 1:0"
expect_line "qualify gather: summary reports node3's failure" "$(cat "$Q/gather/summary.txt" 2>&1)" \
	"node3 exit=2 ranks=0 node=node3"
drain=$(cat "$Q/gather/drain-list.txt" 2>&1)
expect_line "qualify gather: drain list names node3 (failed run)" "$drain" "^node3 .*exit 2"
expect_line "qualify gather: drain list names node2 (slow against the baseline)" "$drain" "^node2 "
expect "qualify gather: drain list spares node1" "$(printf '%s\n' "$drain" | grep -c '^node1 ')" 0
expect "qualify gather --apply-drain: node2 and node3 drained, node1 not" \
	"$(sinfo -h -N -t drain -o %N | sort -u | xargs)" "node2 node3"
scontrol update nodename=node1,node2,node3 state=resume >/dev/null 2>&1
# The gather script alone (no Slurm needed): a node that never reported.
sh slurm/aisp-gather.sbatch --aisp "$AISP" --out "$DIR/gather-again" --nodes "node1 node9" \
	--expectations "$BASE" --compare-args "$CMP" "$Q" >"$DIR/gather-again.out" 2>&1
expect_line "gather: a node without a run directory is on the drain list" \
	"$(cat "$DIR/gather-again/drain-list.txt" 2>&1)" "^node9 aisp: no run directory"

# ---- 4a. the time limit, under srun: with --time 1 the early SIGTERM the
# script asks for (--signal=B:TERM@120) is due at once, so Slurm sends it at
# its next time check (within about 30 s); checked after sections 4b to 6.
out=$(slurm/submit refresh --parsable --partition test --nodes 3 --gpus-per-node 0 \
	--tasks-per-node 2 --time 1 --targets ch01:gemm --results "$RES" \
	-- --backend host --iterations 100000 --warmup 1 --timeout 60)
result $? "time limit: run submitted with --time 1 ($out)"
LIMIT_RUN=$(echo "$out" | awk '{print $1}')
LIMIT_GATHER=$(echo "$out" | awk '{print $2}')
LIMIT_T0=$(date +%s)

# ---- 4b. SIGTERM by hand under mpirun: rank files interrupted
# shellcheck disable=SC2086
out=$(slurm/submit refresh --parsable --partition test --nodes 'node[1-2]' --gpus-per-node 0 \
	--tasks-per-node 1 --time 5 --launcher mpirun --targets ch01:gemm --results "$RES" \
	-- --backend host --iterations 100000 --warmup 1 --timeout 60)
RUN=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
# Wait (60 s at most) for both ranks' files, i.e. measuring has begun.
i=0
while [ "$(find "$RES/run-$RUN" -name 'rank-*.h5' 2>/dev/null | wc -l)" -lt 2 ] && [ "$i" -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
done
sleep 1
scancel --batch --signal=TERM "$RUN"
result $? "SIGTERM sent to run $RUN's batch script (as --signal=B:TERM@120 does)"
wait_jobs 60 "$RUN,$GATHER"
result $? "SIGTERM: run $RUN and gather $GATHER ended within 60 s"
expect_line "SIGTERM: run job ended non-zero" "$(job_states "$RUN")" "FAILED [1-9][0-9]*:0"
expect_line "SIGTERM: slurm-status says signal=TERM" "$(cat "$RES/run-$RUN/slurm-status" 2>&1)" "^signal=TERM$"
expect "SIGTERM: both rank files closed with status interrupted" \
	"$(rank_nodes "$RES/run-$RUN" | xargs)" "node1 interrupted node2 interrupted"

# ---- 5. requeue (a node failure, preemption): the job resumes its run directory
# shellcheck disable=SC2086
out=$(AISP_TEST_SLOW_FIRST=1 slurm/submit refresh --parsable --partition test \
	--nodes 'node[1-2]' --gpus-per-node 0 --tasks-per-node 1 --time 5 --job "$JOB" \
	--compare "$CMP" --aisp "$ROOT/tests/slurm/fault-aisp.sh" --results "$RES" -- $BENCH)
RUN=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
i=0
while [ "$(find "$RES/run-$RUN" -name 'rank-*.h5' 2>/dev/null | wc -l)" -lt 2 ] && [ "$i" -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
done
scontrol requeue "$RUN"
result $? "requeue: run $RUN requeued while measuring (its first attempt is 50x slow)"
i=0
until job_states "$RUN" | grep -q PENDING || [ "$i" -gt 60 ]; do
	sleep 0.5
	i=$((i + 1))
done
scontrol update jobid="$RUN" starttime=now # skip Slurm's requeue delay
wait_jobs 90 "$RUN,$GATHER"
result $? "requeue: run $RUN and gather $GATHER ended within 90 s"
expect "requeue: run COMPLETED, exit 0, after 1 restart" \
	"$(job_states "$RUN" | cut -d' ' -f3-) $(scontrol show job -o "$RUN" | grep -o 'Restarts=[0-9]*')" \
	"COMPLETED 0:0 Restarts=1"
expect "requeue: first start ran bench run --out, the second --resume on the same directory" \
	"$(sed -n 's/^aisp-run: job .* bench run \(--[a-z]*\) \([^ ]*\).*/\1 \2/p' "$RES/logs/aisp-run-$RUN.out" | xargs)" \
	"--out $RES/run-$RUN --resume $RES/run-$RUN"
expect "requeue: both rank files complete" "$(rank_nodes "$RES/run-$RUN" | xargs)" \
	"node1 complete node2 complete"
expect "requeue: gather COMPLETED, exit 0" "$(job_states "$GATHER" | cut -d' ' -f3-)" "COMPLETED 0:0"

# ---- 6. the health check snippet, run as slurmd would on node1
# shellcheck disable=SC2086
SLURMD_NODENAME=node1 AISP_HEALTH_DIR=$DIR/health AISP_HEALTH_RANKS=1 \
	AISP_HEALTH_ARGS="$BENCH" slurm/aisp-healthcheck >"$DIR/health.out" 2>&1
expect "healthcheck: passes on a good node (exit 0)" "$?" 0
expect "healthcheck: good node not drained" "$(sinfo -h -N -n node1 -o %T | grep -c drain)" 0
SLURMD_NODENAME=node1 AISP_HEALTH_DIR=$DIR/health AISP_HEALTH_RANKS=1 \
	AISP_HEALTH_ARGS="$BENCH" AISP_TEST_FAIL_NODE=node1 AISP=$ROOT/tests/slurm/fault-aisp.sh \
	slurm/aisp-healthcheck >>"$DIR/health.out" 2>&1
expect "healthcheck: fails on a bad node (exit 1)" "$?" 1
expect_line "healthcheck: bad node drained with an aisp reason" \
	"$(sinfo -h -N -n node1 -o '%T %E')" "^drain.* aisp health: "
scontrol update nodename=node1 state=resume >/dev/null 2>&1
SLURMD_NODENAME=node1 AISP_HEALTH_DIR=$DIR/health AISP_HEALTH_RANKS=1 AISP_HEALTH_ARGS="$BENCH" \
	AISP_HEALTH_TIME_LIMIT=2 AISP_TEST_SLOW_FIRST=1 AISP=$ROOT/tests/slurm/fault-aisp.sh \
	slurm/aisp-healthcheck >>"$DIR/health.out" 2>&1
expect "healthcheck: a check past its time limit fails (exit 1)" "$?" 1
expect_line "healthcheck: ... and drains the node saying so" \
	"$(sinfo -h -N -n node1 -o '%T %E')" "^drain.* took more than 2 s"

# ---- 4a (end). the time-limit run
left=$((LIMIT_T0 + 120 - $(date +%s)))
[ "$left" -gt 5 ] || left=5
wait_jobs "$left" "$LIMIT_RUN,$LIMIT_GATHER"
result $? "time limit: run $LIMIT_RUN and gather $LIMIT_GATHER ended within 120 s"
expect_line "time limit: run ended before its 1-minute limit (the early SIGTERM, not the kill)" \
	"$(scontrol show job -o "$LIMIT_RUN" | grep -o 'RunTime=[0-9:]*')" "RunTime=00:00:[0-5][0-9]"
expect "time limit: every rank exited 3 (interrupted), none killed; slurm-status signal=TERM" \
	"$(grep -E '^(signal|exit)=' "$RES/run-$LIMIT_RUN/slurm-status" 2>&1 | xargs)" "signal=TERM exit=3"
expect "time limit: 6 rank files closed with status interrupted (srun --mpi=pmix)" \
	"$(rank_nodes "$RES/run-$LIMIT_RUN" | sort | uniq -c | xargs)" \
	"2 node1 interrupted 2 node2 interrupted 2 node3 interrupted"

# ---- 7. stop: every daemon started is gone
pids=$(awk '{print $2}' "$DIR/cluster/pids" 2>/dev/null)
sh tests/slurm/cluster.sh stop "$DIR/cluster"
alive=""
for p in $pids; do
	state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$p/stat" 2>/dev/null)
	case $state in "" | Z*) ;; *) alive="$alive $p" ;; esac
done
expect "cluster stopped: no daemon left running" "$alive" ""

echo "# $N checks, $FAILED failed, $(($(date +%s) - START)) s"
[ "$FAILED" = 0 ]
