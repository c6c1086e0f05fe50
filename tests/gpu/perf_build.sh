#!/bin/sh
# perf_build.sh - build tests/gpu perf_driver (ch01:performance on CUDA without
# the runner: nvcc, cuBLAS, cuBLASLt; no MPI, HDF5 or libyaml) into $1.
#   tests/gpu/perf_build.sh [BUILD_DIR]   (default build-perf)
set -eu
B=${1:-build-perf}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
NVCC=${NVCC:-$CUDA_HOME/bin/nvcc}
ARCH=${ARCH:--gencode arch=compute_90,code=sm_90}
mkdir -p "$B"
FLAGS="-O3 -std=c++17 $ARCH -Iinclude -Ikernels/ch01 -lineinfo -Xcompiler -Wall,-Wextra,-Werror,-Wno-missing-field-initializers -Werror all-warnings"
for f in kernels/ch01/performance.cu kernels/ch01/performance_kernels.cu \
	 kernels/ch01/performance_lt.cu tests/gpu/perf_driver.cu; do
	$NVCC $FLAGS -c -o "$B/$(basename "$f" .cu).o" "$f" &
	pids="${pids:-} $!"
done
for f in core/error.c core/text.c core/params.c kernels/ch01/mlp_ref_host.c; do
	${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -c -o "$B/$(basename "$f" .c).o" "$f" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
$NVCC $ARCH -o "$B/perf_driver" "$B"/performance.o "$B"/performance_kernels.o \
	"$B"/performance_lt.o "$B"/perf_driver.o "$B"/error.o "$B"/text.o "$B"/params.o \
	"$B"/mlp_ref_host.o -lcublasLt -lcublas -lm
echo "built $B/perf_driver"
