#!/bin/sh
# deps.sh - install the system packages aisp needs when they are missing.
# As root on Debian/Ubuntu this runs apt-get; otherwise it prints the command.
# Where nothing can be installed (a GPU node without network, with libyaml
# and jansson unpacked under DEPS_PREFIX) the build goes on as long as what it
# needs is there. AISP_NO_INSTALL=1 only checks. gcc is what mpicc calls (a
# fresh server may have none); Slurm, munge and gdb (the backtrace of a core
# dump) are for the Slurm test, clang's runtime for the fuzzers, chromium for
# rendering the HTML report in tests/e2e/report_render.sh, Lmod and groff for
# the install test. apt-get waits up to 10 minutes for a dpkg lock held by
# another install (two builds started at once on one machine).
set -u
pkgs="gcc libc6-dev openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools libyaml-dev libjansson-dev
libcmocka-dev python3-h5py python3-numpy slurm-wlm munge libpmix-dev gdb gnuplot-nox pkg-config
clang shellcheck chromium lmod groff-base"

# clang's sanitizer/fuzzer runtime, named after clang's version (14 on
# Debian 12, 18 on Ubuntu 24.04): the installed clang's, else the archive's.
clang_rt() {
	v=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
	[ -n "$v" ] || v=$(apt-cache depends clang 2>/dev/null |
		sed -n 's/.*Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1)
	echo "libclang-rt-${v:-14}-dev"
}
pkgs="$pkgs $(clang_rt)"

# 0 when the build itself can go on: MPI, HDF5, libyaml and jansson headers.
can_build() {
	command -v mpicc >/dev/null 2>&1 || return 1
	pkg-config --exists hdf5-serial 2>/dev/null || pkg-config --exists hdf5 2>/dev/null || return 1
	for h in yaml.h jansson.h; do
		[ -f "/usr/include/$h" ] || [ -f "${DEPS_PREFIX:-/nonexistent}/include/$h" ] || return 1
	done
}

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
elif ! can_build; then
	echo "deps: not Debian/Ubuntu: install Open MPI, HDF5, libyaml, jansson and cmocka" >&2
	exit 1
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && [ "${AISP_NO_INSTALL:-0}" != 1 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	lock="-o DPkg::Lock::Timeout=600"
	log=$(mktemp)
	# shellcheck disable=SC2086 # lists of options and packages
	if apt-get update -qq $lock >"$log" 2>&1; then
		# Names this archive lacks (an older clang runtime's) are left out.
		rt=$(clang_rt) want=""
		for p in $missing; do
			case $p in libclang-rt-*) p=$rt ;; esac
			if apt-cache show "$p" >/dev/null 2>&1; then
				want="$want $p"
			else
				echo "deps: $p is not in this system's archive: left out" >&2
			fi
		done
		# shellcheck disable=SC2086
		if apt-get install -y -qq --no-install-recommends $lock $want >>"$log" 2>&1; then
			rm -f "$log"
			exit 0
		fi
	fi
	tail -20 "$log" >&2
	rm -f "$log"
	echo "deps: apt-get install failed" >&2
fi
if can_build; then
	echo "deps: missing:$missing (the build goes on; some tests need them)" >&2
	exit 0
fi
echo "deps: missing:$missing" >&2
echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
exit 1
