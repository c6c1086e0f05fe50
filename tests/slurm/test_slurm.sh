#!/bin/sh
# test_slurm.sh - slurm/ scripts against a real three-node Slurm cluster here.
#
#   AISP=/abs/path/to/aisp sh tests/slurm/test_slurm.sh
#
# Starts munge, slurmctld and slurmd x3 (tests/slurm/cluster.sh) under a temp
# dir, then: submit's own checks (--help, --dry-run writes nothing, too many
# nodes, a time beyond MaxTime, GPUs on a partition without any); a baseline refresh over 3 nodes x
# 2 ranks (srun --mpi=pmix) and its gather; a qualification array pinned one
# element per node, node3 failing on purpose and node2 measuring slow,
# compared against that baseline, its gather COMPLETED with the drain verdict
# in its comment, draining both with reasons `sinfo -R` shows whole; `submit
# status`; the two drained nodes requalified inside a reservation with
# --resume-on-pass (node2 passes and is resumed, node3 fails and is drained
# again, production kept off meanwhile); the time limit's early SIGTERM under
# srun and SIGTERM by hand under mpirun (rank files interrupted); a requeued
# run resuming its directory; a plain scancel (no error) and `submit resume`
# finishing the run and gathering it again into the same baseline; the
# health check passing, failing, timing out. Stops every daemon it started.
#
# It waits for states (rank files written, a job pending or gone), never for
# times: each wait has only a guard of $GUARD s against a hang. One line per
# check; exit 0 pass, 1 fail, 77 skip (packages missing and not installable).
# AISP_SLURM_KEEP=1 keeps the temp dir.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
AISP=${AISP:-$ROOT/aisp}
PY=${PY:-/usr/bin/python3}
GUARD=${AISP_SLURM_GUARD:-600}
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

# Check $1 (description): got $2, want $3; say both, and fail, when they differ.
expect() {
	if [ "$2" = "$3" ]; then
		result 0 "$1"
	else
		result 1 "$1"
		printf '#   got:  %s\n#   want: %s\n' "$2" "$3"
		return 1
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

# Check $1 (description): text $2 has no line matching pattern $3 (grep -E).
expect_no_line() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		result 1 "$1"
		printf '%s\n' "$2" | grep -E -- "$3" | sed 's/^/#   got: /'
	else
		result 0 "$1"
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

# A process that crashes dumps core into its directory (the jobs': $RES,
# by --chdir; Slurm passes this limit on to them): the test then fails and
# prints the backtraces (how a rank's SIGSEGV in MPI_Init was found here).
# shellcheck disable=SC3045 # dash and bash have ulimit -c
ulimit -c unlimited 2>/dev/null || true
export SLURM_CONF="$DIR/cluster/slurm.conf"
# Ranks of different "nodes" share this host: no shared-memory transport, and
# TCP over loopback only (a connect to another interface here once failed and
# took a rank down inside Open MPI).
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AISP AISP_REAL="$AISP"
unset SLURM_PMIX_FENCE # the scripts' own choice is what is tested
FAULT=$ROOT/tests/slurm/fault-aisp.sh
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

# Wait until command "$2..." succeeds, polling; $1 names the state waited for.
# The guard only ends a hang: a check that needs the state fails after it.
wait_for() {
	what=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $((GUARD * 2)) ]; then
			echo "# gave up waiting for $what after $GUARD s"
			return 1
		fi
		sleep 0.5
	done
}

# True when no job of $1 (comma list) is pending, running or completing
# (or none was given: a submit that failed).
jobs_gone() {
	case $1 in "" | ,) return 0 ;; esac
	[ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]
}

# True when run directory $1 holds at least $2 rank files (its ranks have
# set up their signal handling and opened their files), or when job $3
# is gone (the checks after the wait then say what went wrong).
measuring() {
	[ "$(find "$1" -name 'rank-*.h5' 2>/dev/null | wc -l)" -ge "$2" ] || jobs_gone "$3"
}

# Print field $2 (JobState, ExitCode, Reason, ...) of job $1 (first record).
job_field() {
	scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# Print the comment of job $1.
job_comment() {
	squeue -h -t all -j "$1" -o %k 2>/dev/null | head -n 1
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

# Print the reason Slurm holds for node $1 (without its [user@time] tail).
node_reason() {
	scontrol show node "$1" | sed -n 's/^ *Reason=\(.*\) \[[^]]*\]$/\1/p'
}

# Print yes when reservation $1 is gone or its end time has passed.
resv_ended() {
	end=$(scontrol show reservation -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^EndTime=//p')
	if [ -z "$end" ] || [ "$(date -d "$end" +%s)" -le "$(date +%s)" ]; then
		echo yes
	else
		echo "no (EndTime=$end)"
	fi
}

# True when job $1 no longer pends for a reason other than a reservation.
prod_held() {
	case "$(job_field "$1" JobState) $(job_field "$1" Reason)" in
	"PENDING None" | "PENDING Priority" | "PENDING Resources" | "PENDING Dependency") return 1 ;;
	esac
}

# Set job $1's time limit (whole minutes) so that its end is 120-180 s away.
# Slurm sends the early SIGTERM of --signal=B:TERM@120 at its first time
# check (every 30 s) once the end is 150 s away or less: within 60 s, and
# 90-150 s before the limit, time enough on a loaded machine to pass the
# stop on, close the rank files and end. (With the end 60-120 s away, as
# before, the signal could come 30 s before the limit; a CI run took longer
# and Slurm ended the job TIMEOUT.)
limit_now() {
	started=$(date -d "$(job_field "$1" StartTime)" +%s) || return 1
	ran=$(($(date +%s) - started))
	echo "# limit of job $1 set at $(date -u +%FT%TZ), $ran s after its start"
	scontrol update jobid="$1" timelimit=$(((ran + 120 + 59) / 60))
}

# Print as comments when job $1 started and ended, its time limit, and the
# script's and srun's lines of its log (when the signal came, what was done).
job_times() {
	scontrol show job -o "$1" | tr ' ' '\n' | grep -E '^(StartTime|EndTime|TimeLimit)=' | sed 's/^/#   /'
	grep -E '^aisp-run: |^srun: ' "$RES/logs/aisp-run-$1.out" 2>&1 | sed 's/^/#   /'
}

# Print as comments what made each core dump of list $1 and its backtraces.
core_report() {
	for c in $1; do
		echo "# core dump $c:"
		if command -v gdb >/dev/null 2>&1; then
			gdb -batch -q -ex 'info threads' -ex 'thread apply all bt 24' "$AISP" "$c" 2>&1 |
				grep -v '^\[\|^warning:\|^$' | head -n 120 | sed 's/^/#   /'
		else
			echo "#   (gdb not installed: no backtrace)"
		fi
	done
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

# ---- 1b. submit refuses or explains before it submits anything
slurm/submit --help >"$DIR/help.out" 2>&1
expect "submit --help: exit 0" "$?" 0
expect_line "submit --help: prints the usage" "$(cat "$DIR/help.out")" "^usage: slurm/submit qualify"
slurm/submit refresh --dry-run --partition test --nodes 2 --gpus-per-node 0 --time 5 \
	--results "$DIR/dry" >"$DIR/dry.out" 2>"$DIR/dry.err"
expect "submit --dry-run: exit 0" "$?" 0
check "submit --dry-run: writes nothing (no results or logs directory)" test ! -e "$DIR/dry"
expect_line "submit --dry-run: prints the sbatch commands" "$(cat "$DIR/dry.err")" "^# sbatch .*aisp-run.sbatch"
expect_line "submit --dry-run: says the ids are placeholders" "$(cat "$DIR/dry.out")" \
	"<RUN_JOB> and <GATHER_JOB> stand for"
expect "submit --dry-run: no job submitted" "$(squeue -h -t all -o %i | wc -l | tr -d ' ')" 0
out=$(slurm/submit refresh --partition test --nodes 5 --gpus-per-node 0 --time 5 --results "$DIR/x" 2>&1)
expect "submit --nodes 5 on 3 nodes: refused before submitting, exit 2" "$?" 2
expect_line "submit --nodes 5: says how many the partition has" "$out" "partition test has 3 nodes"
out=$(slurm/submit refresh --partition test --nodes 1 --gpus-per-node 0 --time 02:00:00 \
	--results "$DIR/x" 2>&1)
expect "submit --time beyond the partition's MaxTime: refused, exit 2" "$?" 2
expect_line "submit --time: says the partition's limit" "$out" "allows at most 00:30:00 \(MaxTime\)"
out=$(slurm/submit refresh --partition test --nodes 1 --time 5 --results "$DIR/x" 2>&1)
expect "submit without --gpus-per-node on a partition without GPUs: refused, exit 2" "$?" 2
expect_line "submit: the hint names --gpus-per-node 0" "$out" "pass --gpus-per-node 0"

# ---- 2. baseline refresh: one MPI run over 3 nodes x 2 ranks, then gather
# shellcheck disable=SC2086 # BENCH is a list of options
out=$(slurm/submit refresh --parsable --partition test --nodes 3 --gpus-per-node 0 \
	--tasks-per-node 2 --time 5 --job "$JOB" --compare "$CMP" --results "$RES" -- $BENCH)
result $? "submit refresh: run and gather job ids ($out)"
RUN=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
wait_for "refresh $RUN and gather $GATHER to end" jobs_gone "$RUN,$GATHER"
expect "refresh run: COMPLETED, exit 0, on node[1-3]" "$(job_states "$RUN")" "node[1-3] - COMPLETED 0:0"
expect "refresh run: 6 complete rank files, 2 per node (srun --mpi=pmix)" \
	"$(rank_nodes "$RES/run-$RUN" | sort | uniq -c | xargs)" \
	"2 node1 complete 2 node2 complete 2 node3 complete"
expect_line "refresh run: srun ran both PMIx fences of MPI_Init as rings (its log)" \
	"$(cat "$RES/logs/aisp-run-$RUN.out" 2>&1)" "^aisp-run: job $RUN .*: env SLURM_PMIX_FENCE=ring srun --mpi=pmix "
expect "refresh gather: ran after the run, COMPLETED, exit 0" "$(job_states "$GATHER" | cut -d' ' -f3-)" "COMPLETED 0:0"
expect "refresh gather: the verdict is the job's comment" "$(job_comment "$GATHER")" "aisp: pass: 3 nodes"
BASE=$(find "$RES/baseline-$RUN" -name 'expectations_*.json' 2>/dev/null | head -n 1)
check "refresh gather: baseline $RES/baseline-$RUN/expectations_*.json written" test -s "$BASE"
check "refresh gather: fleet.h5 written" test -s "$RES/baseline-$RUN/fleet.h5"
expect "refresh gather: empty drain list" "$(cat "$RES/baseline-$RUN/drain-list.txt" 2>&1)" ""
expect "refresh gather: summary has a pass row per node" \
	"$(awk '$1 ~ /^node[0-9]$/ { print $1, $2 }' "$RES/baseline-$RUN/summary.txt" | xargs)" \
	"node1 pass node2 pass node3 pass"

# ---- 3. qualification of node3,node1,node2: node3 fails on purpose, node2 is slow
# shellcheck disable=SC2086
out=$(AISP_TEST_FAIL_NODE=node3 AISP_TEST_SLOW_NODE=node2 slurm/submit qualify --parsable \
	--partition test --nodes 'node3,node[1-2]' --gpus-per-node 0 --tasks-per-node 2 --time 5 \
	--job "$JOB" --expectations "$BASE" --compare "$CMP" --apply-drain --results "$RES" \
	--aisp "$FAULT" -- $BENCH)
result $? "submit qualify: array and gather job ids ($out)"
ARRAY=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
wait_for "qualify $ARRAY and gather $GATHER to end" jobs_gone "$ARRAY,$GATHER"
states=$(job_states "$ARRAY" | sort)
expect "qualify: element i pinned to the i-th node given, node3's failed alone" "$states" \
	"$(printf 'node1 1 COMPLETED 0:0\nnode2 2 COMPLETED 0:0\nnode3 0 FAILED 2:0')"
Q=$RES/qualify-$ARRAY
expect "qualify: node1 run directory holds node1's 2 rank files" "$(rank_nodes "$Q/node1" | xargs)" \
	"node1 complete node1 complete"
expect "qualify: node2 run directory holds node2's 2 rank files" "$(rank_nodes "$Q/node2" | xargs)" \
	"node2 complete node2 complete"
expect "qualify: node3 element recorded its exit status" "$(grep '^exit=' "$Q/node3/slurm-status" 2>&1)" "exit=2"
expect "qualify gather: a gather that wrote its verdict ends COMPLETED 0:0 (afterany)" \
	"$(job_states "$GATHER" | cut -d' ' -f3-)" "COMPLETED 0:0"
expect_line "qualify gather: the drain verdict is the job's comment (squeue -o %k)" \
	"$(job_comment "$GATHER")" "^aisp: drain 2 of 3 nodes: node2 .*; node3 run exit 2$"
summary=$(cat "$Q/gather/summary.txt" 2>&1)
expect_line "qualify gather: summary starts with the verdict" "$summary" "^verdict: drain 2 of 3 nodes"
expect "qualify gather: summary table, one verdict per node" \
	"$(awk '$1 ~ /^node[0-9]$/ { print $1, $2 }' "$Q/gather/summary.txt" | xargs)" \
	"node1 pass node2 drain node3 drain"
expect_line "qualify gather: summary lists node3's run" "$summary" "node3 exit=2 ranks=0 node=node3"
drain=$(cat "$Q/gather/drain-list.txt" 2>&1)
expect_line "qualify gather: drain list names node3 (failed run)" "$drain" "^node3 .*exit 2"
expect_line "qualify gather: drain list names node2 with compare's full line" "$drain" "^node2 aisp .*%"
expect "qualify gather: drain list spares node1" "$(printf '%s\n' "$drain" | grep -c '^node1 ')" 0
expect "qualify gather --apply-drain: node2 and node3 drained, node1 not" \
	"$(sinfo -h -N -t drain -o %N | sort -u | xargs)" "node2 node3"
for node in node2 node3; do
	want=$(sed -n "s/^$node //p" "$Q/gather/drain-slurm.txt")
	expect_line "drain reason of $node: '$want', at most 20 characters" \
		"$(printf '%s' "$want" | wc -c | tr -d ' ')" '^([1-9]|1[0-9]|20)$'
	expect "drain reason of $node: what Slurm holds" "$(node_reason "$node")" "$want"
	expect "drain reason of $node: sinfo -R shows it whole" \
		"$(sinfo -R -h -n "$node" | cut -c1-20 | sed 's/ *$//')" "$want"
done
expect_line "drain reason of node2: target and change (aisp: gemm +NNN%)" \
	"$(node_reason node2)" "^aisp: (ch01:)?gemm \+[0-9]+%"
status=$(slurm/submit status "$Q" 2>&1)
expect_line "submit status: node1's element COMPLETED, every item reported" "$status" \
	"^node1 +${ARRAY}_1 +COMPLETED +([0-9]+)/\1 +exit=0"
expect_line "submit status: node3's element FAILED, exit 2" "$status" "^node3 +${ARRAY}_0 +FAILED .*exit=2"
expect_line "submit status: the gather's verdict" "$status" "gather job $GATHER COMPLETED: aisp: drain 2 of 3"

# The gather script alone (no Slurm needed): a node that never reported.
sh slurm/aisp-gather.sbatch --aisp "$AISP" --out "$DIR/gather-again" --nodes "node1 node9" \
	--expectations "$BASE" --compare-args "$CMP" "$Q" >"$DIR/gather-again.out" 2>&1
expect_line "gather: a node without a run directory is on the drain list" \
	"$(cat "$DIR/gather-again/drain-list.txt" 2>&1)" "^node9 aisp: no run directory"

# ---- 3b. requalify the drained node2 and node3 inside a reservation: both
# run although drained, production stays off them, node2 passes and is
# resumed, node3 fails again and is drained again.
# shellcheck disable=SC2086
out=$(AISP_TEST_FAIL_NODE=node3 slurm/submit qualify --parsable --partition test \
	--nodes 'node[2-3]' --gpus-per-node 0 --tasks-per-node 2 --time 5 --job "$JOB" \
	--expectations "$BASE" --compare "$CMP" --reservation aisp-requal --resume-on-pass \
	--results "$RES" --aisp "$FAULT" -- $BENCH)
result $? "requalify: submit qualify --reservation --resume-on-pass of drained nodes ($out)"
REQ=$(echo "$out" | awk '{print $1}')
REQ_GATHER=$(echo "$out" | awk '{print $2}')
# Hold the gather, which ends the reservation, while a production job asks
# for node2: once the elements are done node2 is idle, and only the
# reservation keeps that job off it.
scontrol hold "$REQ_GATHER"
result $? "requalify: gather $REQ_GATHER held while production asks for node2"
PROD=$(sbatch --parsable -p test -w node2 -o /dev/null --wrap true)
wait_for "requalify elements $REQ to end" jobs_gone "$REQ"
wait_for "production job $PROD to be held off" prod_held "$PROD"
expect_line "requalify: node2 idle, a production job for it held off by the reservation" \
	"$(sinfo -h -N -n node2 -o %T | head -n 1) $(job_field "$PROD" JobState) $(job_field "$PROD" Reason)" \
	"^(idle|maint|reserved).* PENDING .*(Reserv|ReqNodeNotAvail)"
scontrol release "$REQ_GATHER"
wait_for "requalify $REQ and gather $REQ_GATHER to end" jobs_gone "$REQ,$REQ_GATHER"
expect "requalify: both elements ran inside the reservation" \
	"$(scontrol show job "$REQ" | grep -o 'Reservation=[^ ]*' | sort -u | xargs)" "Reservation=aisp-requal"
expect "requalify gather: COMPLETED 0:0" "$(job_states "$REQ_GATHER" | cut -d' ' -f3-)" "COMPLETED 0:0"
expect "requalify gather: verdict in the comment" "$(job_comment "$REQ_GATHER")" \
	"aisp: drain 1 of 2 nodes: node3 run exit 2"
expect_line "requalify: node2 passed and is back in service, node3 drained again" \
	"$(sinfo -h -N -n node2,node3 -o '%N %t' | sort -u | xargs)" "^node2 (idle|mix|alloc|comp)[^ ]* node3 drain$"
expect "requalify: node3's new reason" "$(node_reason node3)" "aisp: run exit 2"
expect "requalify: the reservation submit made has ended (its end time has passed)" \
	"$(resv_ended aisp-requal)" yes
wait_for "production job $PROD to end" jobs_gone "$PROD"
expect "requalify: the production job ran on node2 afterwards" "$(job_states "$PROD")" "node2 - COMPLETED 0:0"
scontrol update nodename=node3 state=resume >/dev/null 2>&1

# ---- 4. three runs stopped while measuring, all at once: the time limit,
# a requeue, a plain scancel; each is stopped once its ranks have written
# their rank files (the state), never after a delay.
# 4a. the time limit under srun: submitted with room, then brought near
# (limit_now) once measuring (with --time 1 the signal could come before the
# ranks exist, and kill them as they start).
out=$(slurm/submit refresh --parsable --partition test --nodes 3 --gpus-per-node 0 \
	--tasks-per-node 2 --time 20 --targets ch01:gemm --results "$RES" \
	-- --backend host --iterations 100000 --warmup 1 --timeout 900)
result $? "time limit: run submitted ($out)"
LIMIT_RUN=$(echo "$out" | awk '{print $1}')
LIMIT_GATHER=$(echo "$out" | awk '{print $2}')
# 4c. requeue (a node failure, preemption): the job resumes its run directory
# shellcheck disable=SC2086
out=$(AISP_TEST_SLOW_FIRST=1 slurm/submit refresh --parsable --partition test \
	--nodes 'node[1-2]' --gpus-per-node 0 --tasks-per-node 1 --time 10 --job "$JOB" \
	--compare "$CMP" --aisp "$FAULT" --results "$RES" -- $BENCH)
RQ_RUN=$(echo "$out" | awk '{print $1}')
RQ_GATHER=$(echo "$out" | awk '{print $2}')
# 4d. a plain scancel, then submit resume
# shellcheck disable=SC2086
out=$(AISP_TEST_SLOW_FIRST=1 slurm/submit refresh --parsable --partition test \
	--nodes 'node[2-3]' --gpus-per-node 0 --tasks-per-node 1 --time 10 --job "$JOB" \
	--compare "$CMP" --aisp "$FAULT" --results "$RES" -- $BENCH)
CX_RUN=$(echo "$out" | awk '{print $1}')
CX_GATHER=$(echo "$out" | awk '{print $2}')

wait_for "time-limit run $LIMIT_RUN measuring" measuring "$RES/run-$LIMIT_RUN" 6 "$LIMIT_RUN"
limit_now "$LIMIT_RUN"
result $? "time limit: limit of run $LIMIT_RUN set 120-180 s ahead (early signal within 60 s)"
wait_for "requeue run $RQ_RUN measuring" measuring "$RES/run-$RQ_RUN" 2 "$RQ_RUN"
scontrol requeue "$RQ_RUN"
result $? "requeue: run $RQ_RUN requeued while measuring"
wait_for "cancel run $CX_RUN measuring" measuring "$RES/run-$CX_RUN" 2 "$CX_RUN"
err=$(scancel "$CX_RUN" 2>&1)
expect "scancel: run $CX_RUN cancelled, no message" "$?:$err" "0:"

# ---- 4b. SIGTERM by hand under mpirun: rank files interrupted
out=$(slurm/submit refresh --parsable --partition test --nodes 'node[1-2]' --gpus-per-node 0 \
	--tasks-per-node 1 --time 5 --launcher mpirun --targets ch01:gemm --results "$RES" \
	-- --backend host --iterations 100000 --warmup 1 --timeout 900)
RUN=$(echo "$out" | awk '{print $1}')
GATHER=$(echo "$out" | awk '{print $2}')
wait_for "mpirun run $RUN measuring" measuring "$RES/run-$RUN" 2 "$RUN"
scancel --batch --signal=TERM "$RUN"
result $? "SIGTERM sent to run $RUN's batch script (as --signal=B:TERM@120 does)"
wait_for "run $RUN and gather $GATHER to end" jobs_gone "$RUN,$GATHER"
expect "SIGTERM: run job ended with exit 3 (interrupted)" "$(job_states "$RUN" | cut -d' ' -f3-)" "FAILED 3:0"
expect_line "SIGTERM: slurm-status says signal=TERM" "$(cat "$RES/run-$RUN/slurm-status" 2>&1)" "^signal=TERM$"
expect "SIGTERM: both rank files closed with status interrupted" \
	"$(rank_nodes "$RES/run-$RUN" | xargs)" "node1 interrupted node2 interrupted"
expect_line "SIGTERM: the run's comment says interrupted, and how to resume" \
	"$(job_comment "$RUN")" "^aisp: interrupted .*resume: slurm/submit resume $RES/run-$RUN$"
expect "SIGTERM: its gather could not judge: FAILED 3:0" "$(job_states "$GATHER" | cut -d' ' -f3-)" "FAILED 3:0"

# ---- 5. the health check snippet, run as slurmd would on node1; its time
# limit is set far above what the check takes on a loaded machine, except
# where the test wants it exceeded (2 s for a run 10^4 x slow).
HEALTH="$BENCH --iterations 3 --warmup 1 --max-iterations 3 --time-budget 1"
SLURMD_NODENAME=node1 AISP_HEALTH_DIR=$DIR/health AISP_HEALTH_RANKS=1 AISP_HEALTH_TIME_LIMIT=$GUARD \
	AISP_HEALTH_ARGS="$HEALTH" slurm/aisp-healthcheck >"$DIR/health.out" 2>&1
expect "healthcheck: passes on a good node (exit 0)" "$?" 0
expect "healthcheck: good node not drained" "$(sinfo -h -N -n node1 -o %T | grep -c drain)" 0
SLURMD_NODENAME=node1 AISP_HEALTH_DIR=$DIR/health AISP_HEALTH_RANKS=1 AISP_HEALTH_TIME_LIMIT=$GUARD \
	AISP_HEALTH_ARGS="$HEALTH" AISP_TEST_FAIL_NODE=node1 AISP=$FAULT \
	slurm/aisp-healthcheck >>"$DIR/health.out" 2>&1
expect "healthcheck: fails on a bad node (exit 1)" "$?" 1
expect "healthcheck: bad node drained, reason whole in sinfo -R" \
	"$(sinfo -R -h -n node1 | cut -c1-20 | sed 's/ *$//')" "aisp health: exit 2"
scontrol update nodename=node1 state=resume >/dev/null 2>&1
SLURMD_NODENAME=node1 AISP_HEALTH_DIR=$DIR/health AISP_HEALTH_RANKS=1 AISP_HEALTH_ARGS="$HEALTH" \
	AISP_HEALTH_TIME_LIMIT=2 AISP_TEST_SLOW_FIRST=1 AISP=$FAULT \
	slurm/aisp-healthcheck >>"$DIR/health.out" 2>&1
expect "healthcheck: a check past its time limit fails (exit 1)" "$?" 1
expect "healthcheck: ... and drains the node saying so" "$(node_reason node1)" "aisp health: >2 s"
scontrol update nodename=node1 state=resume >/dev/null 2>&1

# ---- 4a (end). the time limit
wait_for "time-limit run $LIMIT_RUN and gather $LIMIT_GATHER to end" jobs_gone "$LIMIT_RUN,$LIMIT_GATHER"
expect "time limit: the early SIGTERM ended the run (exit 3), not the limit's kill (TIMEOUT)" \
	"$(job_states "$LIMIT_RUN" | cut -d' ' -f3-)" "FAILED 3:0" || job_times "$LIMIT_RUN"
expect_line "time limit: the script passed the early SIGTERM to the srun step through Slurm" \
	"$(cat "$RES/logs/aisp-run-$LIMIT_RUN.out" 2>&1)" "^aisp-run: SIGTERM passed to step $LIMIT_RUN\.0 through Slurm"
expect "time limit: every rank exited 3 (interrupted), none killed; slurm-status signal=TERM" \
	"$(grep -E '^(signal|exit)=' "$RES/run-$LIMIT_RUN/slurm-status" 2>&1 | xargs)" "signal=TERM exit=3"
expect "time limit: 6 rank files closed with status interrupted (srun --mpi=pmix)" \
	"$(rank_nodes "$RES/run-$LIMIT_RUN" | sort | uniq -c | xargs)" \
	"2 node1 interrupted 2 node2 interrupted 2 node3 interrupted"

# ---- 4c (end). the requeued run
wait_for "requeued run $RQ_RUN and gather $RQ_GATHER to end" jobs_gone "$RQ_RUN,$RQ_GATHER"
expect "requeue: run COMPLETED, exit 0, after 1 restart" \
	"$(job_states "$RQ_RUN" | cut -d' ' -f3-) $(scontrol show job -o "$RQ_RUN" | grep -o 'Restarts=[0-9]*')" \
	"COMPLETED 0:0 Restarts=1"
expect "requeue: first start ran bench run --out, the second --resume on the same directory" \
	"$(sed -n 's/^aisp-run: job .* bench run \(--[a-z]*\) \([^ ]*\).*/\1 \2/p' "$RES/logs/aisp-run-$RQ_RUN.out" | xargs)" \
	"--out $RES/run-$RQ_RUN --resume $RES/run-$RQ_RUN"
expect "requeue: both rank files complete" "$(rank_nodes "$RES/run-$RQ_RUN" | xargs)" \
	"node1 complete node2 complete"
expect "requeue: gather COMPLETED, exit 0" "$(job_states "$RQ_GATHER" | cut -d' ' -f3-)" "COMPLETED 0:0"

# ---- 4d (end). the cancelled run, then submit resume
wait_for "cancelled run $CX_RUN and gather $CX_GATHER to end" jobs_gone "$CX_RUN,$CX_GATHER"
CX=$RES/run-$CX_RUN
expect "scancel: run CANCELLED" "$(job_states "$CX_RUN" | cut -d' ' -f3)" "CANCELLED"
expect_no_line "scancel: no 'Kill job error' or 'Invalid job id' in the run's log" \
	"$(cat "$RES/logs/aisp-run-$CX_RUN.out")" "Kill job error|Invalid job id"
expect "scancel: both rank files closed with status interrupted" \
	"$(rank_nodes "$CX" | xargs)" "node2 interrupted node3 interrupted"
expect "scancel: its gather could not judge: FAILED 3:0" \
	"$(job_states "$CX_GATHER" | cut -d' ' -f3-)" "FAILED 3:0"
expect_line "scancel: the gather's comment says why, and how to resume" "$(job_comment "$CX_GATHER")" \
	"^aisp: NOT JUDGED: nothing finished.*; resume: slurm/submit resume $CX$"
out=$(slurm/submit resume "$CX" --parsable 2>&1)
result $? "resume: submit resume $CX ($out)"
RS_RUN=$(echo "$out" | awk '{print $1}')
RS_GATHER=$(echo "$out" | awk '{print $2}')
wait_for "resumed run $RS_RUN and gather $RS_GATHER to end" jobs_gone "$RS_RUN,$RS_GATHER"
expect "resume: the new run COMPLETED, exit 0, on node[2-3]" "$(job_states "$RS_RUN")" "node[2-3] - COMPLETED 0:0"
expect "resume: it ran bench run --resume on the cancelled run's directory" \
	"$(sed -n 's/^aisp-run: job .* bench run \(--[a-z]*\) \([^ ]*\).*/\1 \2/p' "$RES/logs/aisp-run-$RS_RUN.out" | xargs)" \
	"--resume $CX"
expect "resume: both rank files complete" "$(rank_nodes "$CX" | xargs)" "node2 complete node3 complete"
expect "resume: the gather again, COMPLETED 0:0, verdict in the comment" \
	"$(job_states "$RS_GATHER" | cut -d' ' -f3-) $(job_comment "$RS_GATHER")" "COMPLETED 0:0 aisp: pass: 2 nodes"
check "resume: the baseline written where the first gather would have (baseline-$CX_RUN)" \
	test -s "$(find "$RES/baseline-$CX_RUN" -name 'expectations_*.json' | head -n 1)"
expect_line "resume: its summary replaced the stale one" "$(head -n 1 "$RES/baseline-$CX_RUN/summary.txt")" \
	"^verdict: pass: 2 nodes$"
status=$(slurm/submit status "$CX" 2>&1)
expect_line "submit status: the run's latest job, its state and progress" "$status" \
	"^node\[2-3\] +$RS_RUN +COMPLETED +([0-9]+)/\1 +exit=0"

# ---- 5b. nothing crashed: no core dump from this test
cores=$(find "$DIR" -type f \( -name core -o -name 'core.[0-9]*' \) 2>/dev/null)
expect "no process of the test dumped core" "$cores" "" || core_report "$cores"

# ---- 6. stop: every daemon started is gone
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
