#!/bin/sh
# deps.sh - install the system packages aisp needs when they are missing.
# As root on Debian/Ubuntu this runs apt-get; otherwise it prints the command.
# Where nothing can be installed (a GPU node without network, with libyaml
# and jansson unpacked under DEPS_PREFIX) the build goes on as long as what it
# needs is there. AISP_NO_INSTALL=1 only checks. Slurm and munge are for the
# Slurm test, clang's runtime for the fuzzers, chromium for rendering the HTML
# report in tests/e2e/report_render.sh.
set -u
pkgs="openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools libyaml-dev libjansson-dev
libcmocka-dev python3-h5py python3-numpy slurm-wlm munge libpmix-dev gnuplot-nox pkg-config
clang libclang-rt-14-dev shellcheck chromium"

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
	if apt-get update -qq >/dev/null 2>&1 &&
		apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
		exit 0
	fi
	echo "deps: apt-get install failed" >&2
fi
if can_build; then
	echo "deps: missing:$missing (the build goes on; some tests need them)" >&2
	exit 0
fi
echo "deps: missing:$missing" >&2
echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
exit 1
