#!/bin/sh
# fake-aisp.sh - a stand-in for ./aisp while developing the Slurm scripts:
#   bench run ... --out DIR   writes DIR/rank-NNNNN.h5 (text: node, rank, status)
#   gather RUN... --out DIR   writes DIR/expectations_host.json and DIR/fleet.h5
#   compare RUN ...           exit 0
# AISP_FAKE_SECONDS=N makes bench run last N seconds (SIGTERM ends it early).
set -u
cmd="$1 ${2:-}"
out=""
prev=""
for a in "$@"; do
	[ "$prev" = --out ] && out=$a
	[ "$prev" = --resume ] && out=$a
	prev=$a
done
case $cmd in
"bench run")
	rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-0}}}
	node=${SLURMD_NODENAME:-$(hostname -s)}
	f=$(printf '%s/rank-%05d.h5' "$out" "$rank")
	mkdir -p "$out" && echo "$*" >"$out/command.txt"
	echo "node=$node rank=$rank status=running" >"$f"
	trap 'echo "node=$node rank=$rank status=interrupted" >"$f"; exit 3' TERM
	i=0
	while [ "$i" -lt "${AISP_FAKE_SECONDS:-0}" ]; do
		sleep 1 &
		wait $!
		i=$((i + 1))
	done
	echo "node=$node rank=$rank status=complete" >"$f"
	;;
"gather "*)
	mkdir -p "$out"
	shift
	cat "$@" 2>/dev/null >"$out/fleet.h5"
	echo '{}' >"$out/expectations_host.json"
	;;
"compare "*) ;;
*) exit 2 ;;
esac
