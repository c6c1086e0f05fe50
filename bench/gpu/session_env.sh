# session_env.sh - sourced by the bench/gpu/*_session.sh scripts, from the
# repository root on the GPU machine, after they set OUT and their log: the
# CUDA toolkit, CUPTI and the carried .deps prefix (bench/gpu/make-deps.sh) on
# the paths (and ncu_dir when the script found Nsight Compute there), MPI as
# root, no package installs (no network there), and step NAME, which prints
# a heading with the seconds since the session began and the UTC time.
# shellcheck shell=bash
export PATH="$PATH:/usr/local/cuda/bin${ncu_dir:+:$ncu_dir}"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda/extras/CUPTI/lib64:$PWD/.deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PKG_CONFIG_PATH="$PWD/.deps/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PYTHONUNBUFFERED=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 AISP_NO_INSTALL=1
T0=$(date +%s)
step() { echo; echo "=== $* (+$(($(date +%s) - T0)) s, $(date -u +%H:%M:%S))"; }
