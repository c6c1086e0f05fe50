#!/bin/sh
# chroot.sh [GOAL...] - the README's two commands in a clean Debian chroot:
# debootstrap minbase plus make (what a new user has to type `make`), a copy
# of this tree, then `make run` and `SKIP_SLURM=1 make test` as root inside
# (default goals; CUDA=0, the chroot has no CUDA toolkit). Nothing is
# installed beforehand: deps.sh has to install everything itself.
# Needs root, network and debootstrap; several minutes and ~1.5 GB of disk.
# Env: SUITE (bookworm), MIRROR, KEEP=1 keeps the chroot, LOGDIR=dir keeps
# each command's whole output there.
set -u
if [ "$(id -u)" != 0 ] || ! command -v debootstrap >/dev/null 2>&1; then
	echo "chroot: SKIP: needs root and debootstrap (apt-get install debootstrap)" >&2
	exit 77
fi
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
src=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/aisp-chroot.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT
root=$T/root
start=$(date +%s)
debootstrap --variant=minbase --include=make "$suite" "$root" "$mirror" >"$T/debootstrap.log" 2>&1 || {
	tail -20 "$T/debootstrap.log"
	echo "chroot: debootstrap failed" >&2
	exit 1
}
echo "chroot: $suite minbase + make in $(($(date +%s) - start)) s"
mkdir "$root/src"
(cd "$src" && git ls-files -z -co --exclude-standard |
	tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$root/src" || exit 1
[ $# -gt 0 ] || set -- "make -j2 run" "SKIP_SLURM=1 make -j2 test"
fails=0
for cmd in "$@"; do
	t0=$(date +%s)
	# A private mount namespace: /proc, /dev and /sys vanish with it.
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -c '
		mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" &&
		mount --rbind /sys "$1/sys" &&
		exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			TERM=dumb sh -c "cd /src && CUDA=0 $2"' sh "$root" "$cmd" >"$T/out" 2>&1
	rc=$?
	{ grep -E '^(not ok|failed:|== |CI:)' "$T/out" | grep -B1 -E '^(not ok|failed:|CI:)'
		tail -8 "$T/out"; } | sed 's/^/    /'
	[ -z "${LOGDIR:-}" ] || cp "$T/out" "$LOGDIR/chroot-$(echo "$cmd" | tr -c 'a-z0-9\n' _).log"
	if [ "$rc" = 0 ]; then
		echo "ok - chroot: $cmd ($(($(date +%s) - t0)) s)"
	else
		echo "not ok - chroot: $cmd (exit $rc, $(($(date +%s) - t0)) s)"
		fails=$((fails + 1))
	fi
done
echo "chroot: $(($(date +%s) - start)) s in all"
exit "$fails"
