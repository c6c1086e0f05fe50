#!/bin/sh
# The CUDA backend is a plug-in (lib/aisp-cuda.so) that only a worker using
# it loads: the aisp binary maps no CUDA library. In a CUDA build,
# list-targets still shows the CUDA twins (from the catalog), a CUDA worker
# loads the plug-in (on a machine without a GPU it then fails in CUDA's own
# cudaSetDevice, with a GPU it is ready), and a missing plug-in is a clear
# error naming its path. In a build without CUDA, --backend cuda says so.
. "$(dirname "$0")/lib.sh"
check "aisp maps no CUDA library" sh -c "! ldd '$AISP' | grep -Eq 'libcudart|libcublas|libcupti'"
expect_exit 0 "list-targets" "$AISP" bench list-targets
if grep -q "^ch01:gemm  *cuda " "$T/out"; then
	check "list-targets shows the CUDA twins' own variants" grep -q "optimized_gemm_tiled" "$T/out"
	expect_exit 1 "a CUDA worker without its plug-in" sh -c "AISP_CUDA_LIB=/nonexistent/aisp-cuda.so \
		'$AISP' worker --backend cuda --device 0 3>'$T/res' </dev/null"
	check "it says the plug-in is missing, with its path" \
		grep -q "CUDA backend /nonexistent/aisp-cuda.so is missing" "$T/res"
	sh -c "'$AISP' worker --backend cuda --device 0 3>'$T/res' </dev/null" >/dev/null 2>&1
	check "a CUDA worker loads the plug-in (then: ready, or CUDA's own error without a GPU)" \
		grep -Eq "^ready|cudaSetDevice" "$T/res"
else
	expect_exit 2 "--backend cuda in a build without CUDA" \
		"$AISP" bench run --targets qual:mem_bw --backend cuda --out "$T/r"
	expect_text "built without CUDA" "it says so"
fi
finish
