#!/bin/sh
# build-tests.sh OUTDIR - build the GPU check programs of tests/gpu into
# OUTDIR without the runner's libraries (no MPI, HDF5, YAML needed):
#   gemm_bench  ch01:gemm through the CUDA backend (kernels/ch01/gemm.cu)
#   gemm_sweep  tiled-kernel configurations and bandwidth ceilings
set -eu
out=${1:?usage: build-tests.sh OUTDIR}
cuda=${CUDA_HOME:-/usr/local/cuda}
cupti=$cuda/lib64
[ -d "$cuda/extras/CUPTI/lib64" ] && cupti=$cuda/extras/CUPTI/lib64
mkdir -p "$out/obj"
warn="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers"
cflags="-std=c11 -D_GNU_SOURCE -O2 -g $warn -DAISP_HAVE_CUDA -I$cuda/include -Iinclude -iquote core -iquote runner"
nvflags="-O3 -std=c++17 -lineinfo -Iinclude -Xcompiler -Wall,-Wextra,-Werror,-Wno-missing-field-initializers"
arch="-gencode arch=compute_90,code=sm_90 -gencode arch=compute_100,code=sm_100"
cc=${CC:-cc}
objs=""
for f in runner/backend_cuda runner/gpuinfo runner/profile_ncu runner/services core/error \
	 core/text core/params core/stats; do
	$cc $cflags -c $f.c -o "$out/obj/${f#*/}.o"
	objs="$objs $out/obj/${f#*/}.o"
done
nvcc $nvflags $arch -c kernels/ch01/gemm.cu -o "$out/obj/gemm.cu.o"
$cc $cflags -o "$out/gemm_bench" tests/gpu/gemm_bench.c $objs "$out/obj/gemm.cu.o" \
	-L"$cuda/lib64" -L"$cupti" -Wl,-rpath,"$cuda/lib64" -Wl,-rpath,"$cupti" \
	-lcublas -lcupti -lcudart -lstdc++ -ldl -lm
nvcc $nvflags -Xcompiler -iquote,runner -gencode arch=compute_90,code=sm_90 -o "$out/gemm_sweep" tests/gpu/gemm_sweep.cu -lcublas
rm -rf "$out/obj"
