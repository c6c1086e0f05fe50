#!/bin/sh
# cluster.sh - a three-node Slurm cluster on this machine, for tests.
#
#   sh tests/slurm/cluster.sh start DIR   start munged, slurmctld, slurmd x3 under DIR
#   sh tests/slurm/cluster.sh stop DIR    stop everything started under DIR (by pid)
#   sh tests/slurm/cluster.sh env DIR     print the environment lines to use it
#
# Everything is the test's own: munge key and socket, ports (free ones picked
# at start), state, spool, logs and PMIx directories all live under DIR, so it
# never touches a system Slurm or munge. Nodes are node1..node3, all on
# 127.0.0.1, 2 CPUs each, partition "test" (default), OverSubscribe=FORCE:4;
# Slurm's defaults for KillWait (30 s) and a short requeue hold (30 s).
# Needs root (SlurmUser and SlurmdUser are root) and Debian's slurm-wlm,
# munge and libpmix-dev. Exit 0 when the cluster is up, 1 otherwise.
set -u

NODES="node1 node2 node3"

die() {
	echo "cluster: $*" >&2
	exit 1
}

# True when no TCP socket on this machine uses local port $1 (/proc/net/tcp*).
port_free() {
	hex=$(printf '%04X' "$1")
	! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v h=":$hex" 'substr($2, length($2) - 4) == h { f = 1 } END { exit !f }'
}

# True when $1 and every directory above it are searchable by others.
searchable() {
	d=$1
	while [ -n "$d" ] && [ "$d" != / ]; do
		case $(stat -c %A "$d") in *[xt]) ;; *) return 1 ;; esac
		d=$(dirname "$d")
	done
}

# Print a base port B such that B..B+3 are free (one slurmctld, three slurmd).
pick_ports() {
	tries=0
	while [ "$tries" -lt 50 ]; do
		base=$(( 20000 + ($$ * 7 + tries * 131) % 40000 ))
		ok=1
		for p in "$base" $((base + 1)) $((base + 2)) $((base + 3)); do
			port_free "$p" || ok=0
		done
		[ "$ok" = 1 ] && { echo "$base"; return 0; }
		tries=$((tries + 1))
	done
	return 1
}

# Write DIR/slurm.conf for controller port $2 and node ports $3..$3+2.
write_conf() {
	dir=$1 cport=$2 nport=$3
	host=$(hostname -s)
	cat >"$dir/slurm.conf" <<EOF
# Test cluster written by tests/slurm/cluster.sh; everything under $dir.
ClusterName=aisptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire: how long Slurm holds a requeued job back (default 120 s) so
# that the first start's credential, messages and sockets are gone first;
# 30 s keeps the test short and still leaves step launches time on a
# loaded machine.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=30
CredType=cred/munge
StateSaveLocation=$dir/ctld/state
SlurmctldPidFile=$dir/ctld/slurmctld.pid
SlurmctldLogFile=$dir/ctld/slurmctld.log
SlurmdSpoolDir=$dir/%n/spool
SlurmdPidFile=$dir/%n/slurmd.pid
SlurmdLogFile=$dir/%n/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MpiDefault=none
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=3600
KillWait=30
InactiveLimit=0
SlurmdTimeout=60
MessageTimeout=20
NodeName=node[1-3] NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 Port=$nport-$((nport + 2)) State=UNKNOWN
PartitionName=test Nodes=node[1-3] Default=YES MaxTime=30 State=UP OverSubscribe=FORCE:4
EOF
}

# Start munged with the test's own key and socket.
start_munge() {
	dir=$1
	mkdir -p "$dir/munge" || return 1
	chmod 755 "$dir/munge" # munged wants the socket directory searchable by all
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null || return 1
	chmod 400 "$dir/munge/munge.key"
	munged -F --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
		--pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
		--log-file="$dir/munge/munged.log" >"$dir/munge/munged.out" 2>&1 &
	echo "munged $!" >>"$dir/pids"
	i=0
	while [ ! -S "$dir/munge/munge.socket" ]; do
		i=$((i + 1))
		[ "$i" -gt 50 ] && return 1
		sleep 0.1
	done
}

# Start slurmctld and one slurmd per node, each node with its own config dir
# (a copy of slurm.conf plus mpi.conf with its own PMIx temp dir).
start_slurm() {
	dir=$1
	mkdir -p "$dir/ctld/state" || return 1
	slurmctld -D -i -f "$dir/slurm.conf" >"$dir/ctld/slurmctld.out" 2>&1 &
	echo "slurmctld $!" >>"$dir/pids"
	for n in $NODES; do
		mkdir -p "$dir/$n/spool" "$dir/$n/pmix" || return 1
		cp "$dir/slurm.conf" "$dir/$n/slurm.conf"
		printf 'PMIxCliTmpDirBase=%s\n' "$dir/$n/pmix" >"$dir/$n/mpi.conf"
		slurmd -D -f "$dir/$n/slurm.conf" -N "$n" >"$dir/$n/slurmd.out" 2>&1 &
		echo "slurmd-$n $!" >>"$dir/pids"
	done
}

# Wait up to 60 s for all three nodes to be idle.
wait_idle() {
	i=0
	while [ "$i" -lt 120 ]; do
		idle=$(SLURM_CONF="$1/slurm.conf" sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle$')
		[ "$idle" = 3 ] && return 0
		i=$((i + 1))
		sleep 0.5
	done
	return 1
}

cmd_start() {
	dir=$1
	[ "$(id -u)" = 0 ] || die "must run as root (the test cluster's SlurmUser is root)"
	for c in munged slurmctld slurmd sbatch sinfo; do
		command -v "$c" >/dev/null 2>&1 || die "missing command: $c"
	done
	mkdir -p "$dir" || die "cannot create $dir"
	chmod 755 "$dir"
	searchable "$dir" || die "munged needs every directory above $dir searchable by all (chmod o+x)"
	dir=$(cd "$dir" && pwd)
	[ -e "$dir/pids" ] && die "$dir/pids exists: cluster already started? stop it first"
	base=$(pick_ports) || die "no free ports found"
	write_conf "$dir" "$base" $((base + 1))
	start_munge "$dir" || { cmd_stop "$dir"; die "munged did not start (see $dir/munge/munged.log)"; }
	start_slurm "$dir" || { cmd_stop "$dir"; die "cannot set up node directories"; }
	if ! wait_idle "$dir"; then
		SLURM_CONF="$dir/slurm.conf" sinfo -N >&2
		tail -n 5 "$dir/ctld/slurmctld.log" "$dir"/node*/slurmd.log >&2
		cmd_stop "$dir"
		die "nodes not idle after 60 s"
	fi
	echo "cluster: up in $dir (slurmctld port $base, slurmd ports $((base + 1))-$((base + 3)))"
}

# Print pids of processes (other than this shell) with an open file under $1:
# the daemons, their slurmstepd and batch scripts all log there.
pids_using() {
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = "$$" ] && continue
		for fd in "$p"/fd/*; do
			case $(readlink "$fd" 2>/dev/null) in
			"$1"/*) echo "$pid" && break ;;
			esac
		done
	done
}

# Print "pid ppid state" for every process, from /proc (procps may be absent).
proc_table() {
	for f in /proc/[0-9]*/stat; do
		sed -n 's/^\([0-9]*\) (.*) \([A-Za-z]\) \([0-9]*\) .*/\1 \3 \2/p' "$f" 2>/dev/null
	done
}

# State letter of process $1 (R, S, Z ...), empty when it is gone.
proc_state() {
	sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null
}

# Print the listed pids and all their descendants (live processes only).
with_descendants() {
	proc_table | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
		$3 !~ /^Z/ { parent[$1] = $2 }
		END {
			do {
				grew = 0
				for (p in parent)
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 }
			} while (grew)
			for (p in keep) if (p in parent) print p
		}'
}

# Send signal $1 to the listed pids; ignore those already gone.
signal_pids() {
	sig=$1
	shift
	for pid in "$@"; do
		kill "-$sig" "$pid" 2>/dev/null
	done
}

# True when any of the listed pids is still alive (zombies count as gone).
any_alive() {
	for pid in "$@"; do
		case $(proc_state "$pid") in
		"" | Z*) ;;
		*) return 0 ;;
		esac
	done
	return 1
}

# Cancel every job of the test cluster and wait (40 s at most: KillWait is
# 30 s) until none is left, completing ones included, so that the steps end
# while slurmd runs.
cancel_jobs() {
	SLURM_CONF="$1/slurm.conf" timeout 10 scancel --quiet --user=root >/dev/null 2>&1
	i=0
	while [ "$i" -lt 80 ]; do
		left=$(SLURM_CONF="$1/slurm.conf" timeout 5 squeue -h -o %i 2>/dev/null) || return 0
		[ -z "$left" ] && return 0
		sleep 0.5
		i=$((i + 1))
	done
}

# Stop what cmd_start started: jobs, then the daemons (TERM, KILL after 10 s),
# then whatever is left of their process trees or holds files under DIR.
cmd_stop() {
	dir=$1
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	[ -f "$dir/pids" ] || return 0
	cancel_jobs "$dir"
	daemons=$(awk '{print $2}' "$dir/pids")
	# shellcheck disable=SC2086 # word splitting of pid lists is wanted here
	all=$(with_descendants "$daemons $(pids_using "$dir")")
	# shellcheck disable=SC2086
	signal_pids TERM $daemons
	i=0
	# shellcheck disable=SC2086
	while any_alive $daemons && [ "$i" -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	left=$(with_descendants "$all $(pids_using "$dir")")
	# shellcheck disable=SC2086
	[ -n "$left" ] && signal_pids KILL $left
	mv "$dir/pids" "$dir/pids.stopped"
	return 0
}

cmd_env() {
	dir=$(cd "$1" && pwd) || exit 1
	echo "SLURM_CONF=$dir/slurm.conf"
}

[ $# -eq 2 ] || die "usage: cluster.sh start|stop|env DIR"
case $1 in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
env) cmd_env "$2" ;;
*) die "usage: cluster.sh start|stop|env DIR" ;;
esac
