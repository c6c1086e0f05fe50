#!/bin/sh
# deps.sh - install the system packages aisp needs when they are missing.
# As root on Debian/Ubuntu this runs apt-get; otherwise it prints the command.
# AISP_NO_INSTALL=1 only checks. Slurm and munge are for the Slurm test.
set -u
pkgs="openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools libyaml-dev libjansson-dev
libcmocka-dev python3-h5py python3-numpy slurm-wlm munge libpmix-dev gnuplot-nox pkg-config"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian/Ubuntu system; install Open MPI, HDF5, libyaml, jansson, cmocka yourself" >&2
	exit 0
fi
if [ "$(id -u)" != 0 ] || [ "${AISP_NO_INSTALL:-0}" = 1 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "deps: apt-get install failed: apt-get install -y$missing" >&2; exit 1; }
