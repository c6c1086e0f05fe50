#!/bin/sh
# hidden_deps.sh [GOAL...] - the README's first command on a machine that
# lacks the build's packages. In a private mount namespace the files of
# HIDE (Open MPI, HDF5, libyaml, jansson, cmocka, pkg-config) are hidden
# (overlay whiteouts over /usr) and dpkg says they are not installed; a fake
# apt-get "installs" them by lifting the overlay. Then `make -j2 CUDA=0 GOAL...`
# runs once in a copy of this tree (default: run and one cmocka test binary).
# It passes only if that first make succeeds: a Makefile that computes its
# flags (pkg-config, mpicc) before the deps step, or compiles beside it under
# -j, fails here. Root and overlayfs needed, else exit 77 (skip).
# Env: KEEP=1 keeps the work directory.
set -u
HIDE="openmpi-bin libopenmpi-dev libhdf5-dev libyaml-dev libjansson-dev libcmocka-dev pkgconf pkg-config"

# Inside the namespace: hide, check the hiding holds, run make once.
if [ "${1:-}" = --inside ]; then
	shift
	mount -t overlay overlay -o "lowerdir=/usr,upperdir=$T/ovl/up,workdir=$T/ovl/work" /usr ||
		exit 77
	mount --bind "$T/status" /var/lib/dpkg/status || exit 77
	if command -v mpicc >/dev/null 2>&1 || command -v pkg-config >/dev/null 2>&1 ||
		[ -e /usr/include/jansson.h ] || [ -e /usr/include/hdf5/serial/hdf5.h ] ||
		[ -e /usr/include/cmocka.h ] ||
		dpkg-query -W -f='${Status}' libyaml-dev 2>/dev/null | grep -q "ok installed"; then
		echo "hidden_deps: the packages are still visible: this test would prove nothing" >&2
		exit 1
	fi
	echo "hidden_deps: hidden: $HIDE"
	cd "$T/src" && PATH="$T/bin:$PATH" make -j2 CUDA=0 "$@" || exit $?
	# and a plain make (the default goal) builds ./aisp
	rm -f aisp
	if ! make -j2 CUDA=0 || [ ! -x aisp ]; then
		echo "hidden_deps: a plain make built no ./aisp"
		exit 1
	fi
	exit 0
fi

src=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || set -- run build/tests/test_job
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 ||
	! command -v dpkg-query >/dev/null 2>&1; then
	echo "hidden_deps: SKIP: needs root, unshare and dpkg (Debian/Ubuntu)" >&2
	exit 77
fi
for p in $HIDE; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || {
		echo "hidden_deps: $p is not installed here: run make deps first" >&2
		exit 1
	}
done
T=$(mktemp -d "${TMPDIR:-/tmp}/aisp-fresh.XXXXXX")
export T
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT

# The copy a new user clones: tracked and new files, no build outputs.
mkdir "$T/src" "$T/bin"
(cd "$src" && git ls-files -z -co --exclude-standard |
	tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$T/src" || exit 1

# Whiteouts (overlayfs: a 0/0 character device) for every non-directory file
# of HIDE under /usr, and the alternatives links (mpicc, ...) into Open MPI.
mkdir -p "$T/ovl/up" "$T/ovl/work"
# shellcheck disable=SC2086
dpkg -L $HIDE 2>/dev/null | /usr/bin/python3 -c '
import os, stat, sys
up = sys.argv[1]
paths = set(l.strip() for l in sys.stdin if l.startswith("/usr/"))
for f in os.listdir("/usr/bin"):  # alternatives links into Open MPI
    if f.startswith(("mpi", "orte", "opal")) and "openmpi" in os.path.realpath("/usr/bin/" + f):
        paths.add("/usr/bin/" + f)
for f in sorted(paths):
    if os.path.isdir(f) and not os.path.islink(f) or not os.path.lexists(f):
        continue
    w = up + f[len("/usr"):]
    try:
        os.makedirs(os.path.dirname(w), exist_ok=True)
        os.mknod(w, stat.S_IFCHR, os.makedev(0, 0))
    except OSError:  # under a link already hidden
        pass
' "$T/ovl/up" || exit 1
# dpkg's view: the HIDE stanzas taken out of the status file.
awk -v hide=" $HIDE " 'BEGIN { RS = ""; ORS = "\n\n" }
	{ p = $0; sub(/\n.*/, "", p); sub(/^Package: /, "", p) }
	index(hide, " " p " ") == 0 { print }' /var/lib/dpkg/status >"$T/status"

# The fake apt-get records what it is asked; "install" lifts the hiding.
cat >"$T/bin/apt-get" <<'FAKE'
#!/bin/sh
echo "$*" >>"$T/apt.log"
case " $* " in *" install "*) umount -l /usr && umount -l /var/lib/dpkg/status ;; esac
FAKE
chmod +x "$T/bin/apt-get"

start=$(date +%s)
unshare -m --propagation private sh "$0" --inside "$@" >"$T/make.log" 2>&1
rc=$?
sed 's/^/    /' "$T/make.log" | tail -30
if [ "$rc" = 77 ]; then
	echo "hidden_deps: SKIP: cannot mount an overlay here" >&2
	exit 77
fi
fails=0
if [ "$rc" = 0 ]; then
	echo "ok - first make -j2 CUDA=0 $* on a machine without the packages ($(($(date +%s) - start)) s)"
else
	echo "not ok - first make -j2 CUDA=0 $* failed (exit $rc) on a machine without the packages"
	fails=1
fi
for p in $HIDE; do
	[ "$p" = pkgconf ] && continue # pkg-config's dependency: apt-get brings it
	grep -Eq "install.* $p( |\$)" "$T/apt.log" 2>/dev/null || {
		echo "not ok - deps.sh did not ask apt-get for $p"
		fails=1
	}
done
[ "$fails" = 0 ] && echo "ok - deps.sh asked apt-get for every hidden package"
exit "$fails"
