#!/bin/bash
# gemm_session.sh - one device session that picks ch01:gemm's hand-written
# kernel: build tests/gpu/gemm_sweep, verify and time every candidate
# configuration against float64 (aisp's way: back-to-back samples >= 0.5 ms),
# measure the floors beside them, profile the fastest and the current product
# with Nsight Compute (warm L2), and print the sorted table last.
# Run from the repository root:
#   bash bench/gpu/gemm_session.sh                 all steps (about 2-3 minutes)
#   STEPS="build" bash bench/gpu/gemm_session.sh   compile only (no GPU needed)
# Steps, in order: env, build (into $GEMM_BUILD; a prebuilt binary of the
# same sources that runs there is kept unless GEMM_REBUILD=1), sweep
# (gemm_sweep; a candidate that crashes or hangs is named, excluded and the
# sweep rerun, up to 6 runs; after a hang or a third crash every clustered
# candidate is excluded too, so the unclustered ones still get measured),
# ncu (the fastest verified candidate and the v1 product, one warm launch
# each), product (gemm_bench built twice, with the repository's product and
# with the fastest candidate in its place: verified and timed through
# gemm.cu, the variant's own code), summary. Logs under $OUT. Never changes
# clocks, power or modes.
set -u
OUT=${OUT:-/tmp/gemm-session}
STEPS=${STEPS:-"env build sweep ncu product summary"}
BUILD=${GEMM_BUILD:-build-gemm}
ARCH=${GEMM_ARCH:-"-gencode arch=compute_90,code=sm_90"}
SWEEP=$BUILD/gemm_sweep
PRODUCT="v1 n32 k32 m4 s2 t3 c2 b5" # gemm_tiled::product on this branch
mkdir -p "$OUT" "$BUILD"
exec > >(tee -a "$OUT/session.log") 2>&1
ncu_dir=""
for d in /opt/nvidia/nsight-compute/*/; do
	[ -d "$d" ] && ncu_dir=$d # the newest, in glob order
done
. bench/gpu/session_env.sh
SOURCES="tests/gpu/gemm_sweep.cu kernels/ch01/gemm_tiled.cuh kernels/ch01/gemm_splitk.cuh"

want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }

# Compile the sweep's parts in parallel, then link; ptxas facts to ptxas.txt.
build_sweep() {
	local nv="nvcc -O3 -std=c++17 -lineinfo -DAISP_HAVE_CUDA -Xcompiler -iquote,runner"
	local pids="" p rc=0
	nv="$nv -Xcompiler -Wall,-Wextra,-Werror,-Wno-missing-field-initializers"
	nv="$nv -Werror all-warnings -Xptxas -v"
	for p in MAIN PART=0 PART=1 PART=2 PART=3; do
		# shellcheck disable=SC2086 # $nv and $ARCH are word lists
		$nv $ARCH -DSWEEP_$p -c tests/gpu/gemm_sweep.cu -o "$BUILD/sweep_${p#PART=}.o" \
			>"$BUILD/ptxas_${p#PART=}.log" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || rc=1
	done
	if [ $rc -ne 0 ]; then
		grep -h -B2 -A3 "error" "$BUILD"/ptxas_*.log | head -40
		return 1
	fi
	# shellcheck disable=SC2086
	nvcc $ARCH -o "$SWEEP" "$BUILD"/sweep_*.o -lcublas || return 1
	# shellcheck disable=SC2086
	cat $SOURCES | sha256sum >"$SWEEP.src"
	awk '/Compiling entry function/ { split($0, a, "'"'"'"); f = a[2] }
	     /registers|spill/ { sub(/^ *ptxas info *: */, ""); print f ": " $0 }' \
		"$BUILD"/ptxas_*.log | grep -v naive >"$OUT/ptxas.txt"
	echo "built $SWEEP ($(grep -c "Used" "$OUT/ptxas.txt") kernels;" \
		"$(grep -c "[1-9][0-9]* bytes spill stores" "$OUT/ptxas.txt") with spills)"
}

# Build tests/gpu/gemm_bench (ch01:gemm through gemm.cu's own setup, verify
# and run, as the harness drives them) into $BUILD/bench_TAG with product
# type TYPE in place of gemm_tiled::product (empty: the repository's).
build_bench() {
	local tag=$1 type=$2 cuda=${CUDA_HOME:-/usr/local/cuda} dir=$BUILD/bench_$1 f objs=""
	local cupti=$cuda/lib64 warn="-Wall -Wextra -Werror -Wno-missing-field-initializers"
	[ -d "$cuda/extras/CUPTI/lib64" ] && cupti=$cuda/extras/CUPTI/lib64
	mkdir -p "$dir"
	: >"$dir/product.h"
	[ -n "$type" ] && echo "#define GEMM_TILED_PRODUCT $type" >"$dir/product.h"
	for f in backend_cuda gpuinfo profile_ncu error text params stats; do
		# shellcheck disable=SC2086
		cc -std=c11 -D_GNU_SOURCE -O2 $warn -DAISP_HAVE_CUDA -I"$cuda/include" \
			-iquote runner -c "runner/$f.c" -o "$dir/$f.o" || return 1
		objs="$objs $dir/$f.o"
	done
	# shellcheck disable=SC2086
	nvcc -O3 -std=c++17 -DAISP_HAVE_CUDA -Xcompiler -iquote,runner $ARCH \
		-include "$dir/product.h" -c kernels/ch01/gemm.cu -o "$dir/gemm.o" || return 1
	# shellcheck disable=SC2086
	cc -std=c11 -D_GNU_SOURCE -O2 $warn -DAISP_HAVE_CUDA -I"$cuda/include" -iquote runner \
		-o "$dir/gemm_bench" tests/gpu/gemm_bench.c $objs "$dir/gemm.o" \
		-L"$cuda/lib64" -L"$cupti" -Wl,-rpath,"$cuda/lib64" -Wl,-rpath,"$cupti" \
		-lcublas -lcupti -lcudart -lstdc++ -ldl -lm
}

# The last candidate the sweep started on (from its progress lines).
last_candidate() {
	grep -E "^sweep: (verify|time) " "$1" | tail -1 | sed -E 's/^sweep: (verify|time) //;
		s/ \(pass [0-9]\)$//'
}

if want env; then
	step env
	date -u
	nvidia-smi --query-gpu=name,uuid,driver_version,pstate,clocks.sm,clocks.mem,clocks.max.sm,temperature.gpu,power.draw,power.limit --format=csv
	nvcc --version | tail -1
	echo "ncu: $(command -v ncu || echo none); cores: $(nproc)"
fi

if want build; then
	step "build $SWEEP"
	# shellcheck disable=SC2086
	if [ "${GEMM_REBUILD:-0}" != 1 ] && [ -x "$SWEEP" ] && "$SWEEP" --list >/dev/null 2>&1 &&
	   [ "$(cat $SOURCES | sha256sum)" = "$(cat "$SWEEP.src" 2>/dev/null)" ]; then
		echo "prebuilt $SWEEP of these sources works here: kept"
	else
		start=$(date +%s)
		build_sweep || { echo "build FAILED"; exit 1; }
		echo "build took $(($(date +%s) - start)) s"
	fi
fi

if want sweep; then
	step "sweep: verify and time every candidate"
	echo "$("$SWEEP" --list | tee "$OUT/candidates.txt" | wc -l) candidates (with cuBLAS)"
	nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv,noheader
	excl="" clusters=""
	for attempt in 1 2 3 4 5 6; do
		timeout 90 "$SWEEP" ${excl:+--exclude "$excl"} >"$OUT/sweep.txt" 2>"$OUT/sweep.err"
		rc=$?
		echo "sweep attempt $attempt: exit $rc${excl:+ (excluded: $excl)}"
		if [ $rc -ne 3 ] && [ $rc -ne 124 ]; then
			break
		fi
		bad=$(last_candidate "$OUT/sweep.err")
		echo "  crashed (3) or hung (124) in: ${bad:-?}"; tail -3 "$OUT/sweep.err"
		cp "$OUT/sweep.txt" "$OUT/sweep_attempt$attempt.txt"
		[ -n "$bad" ] || break
		excl="${excl:+$excl,}$bad"
		# a hang, or a third crash: suspect the cluster path, keep the rest
		if [ -z "$clusters" ] && { [ $rc -eq 124 ] || [ "$attempt" -ge 3 ]; }; then
			clusters=1
			excl="$excl,* c[2-9] *"
		fi
	done
	echo "$excl" >"$OUT/excluded.txt"
	nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv,noheader
fi

if want ncu && command -v ncu >/dev/null 2>&1 && [ -s "$OUT/sweep.txt" ]; then
	step "Nsight Compute: warm L2, clocks as found"
	best=$(sed -n 's/^fastest verified: \(.*\)  [0-9.]* us.*/\1/p' "$OUT/sweep.txt")
	for name in "$best" "$PRODUCT"; do
		[ -n "$name" ] || continue
		tag=$(echo "$name" | tr ' ' '_')
		timeout 90 ncu --clock-control none --cache-control none --launch-skip 40 \
			--launch-count 1 -k "regex:(splitk|tiled)_kernel" --section SpeedOfLight \
			--section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis \
			--export "$OUT/ncu_$tag" --force-overwrite \
			"$SWEEP" --run "$name" --iters 50 >"$OUT/ncu_$tag.log" 2>&1
		echo "-- $name (exit $?)"
		ncu --import "$OUT/ncu_$tag.ncu-rep" --page details 2>/dev/null |
			grep -E "^ +(Duration|Elapsed Cycles|SM Frequency|Memory Throughput|DRAM Throughput|L1/TEX Hit|L2 Hit|Compute \(SM\) Throughput|Registers Per|Achieved Occupancy|Waves Per SM|Mem Busy|Max Bandwidth|L2 Compression)" |
			sed 's/^ */  /'
	done
fi

if want product && [ -s "$OUT/sweep.txt" ]; then
	step "the fastest verified candidate as the product, through gemm.cu (gemm_bench)"
	type=$(sed -n 's/^  product line: typedef \(.*\) product;$/\1/p' "$OUT/sweep.txt")
	echo "candidate product: ${type:-none}"
	build_bench repo "" >"$OUT/bench_build.log" 2>&1 &
	pid=$!
	[ -n "$type" ] && { build_bench best "$type" >>"$OUT/bench_build.log" 2>&1 || type=""; }
	wait $pid || { echo "gemm_bench build FAILED"; tail -20 "$OUT/bench_build.log"; }
	for tag in repo best; do
		bin=$BUILD/bench_$tag/gemm_bench
		if [ ! -x "$bin" ] || { [ $tag = best ] && [ -z "$type" ]; }; then
			continue
		fi
		echo "-- product $tag: $("$bin" --variant optimized_gemm_tiled --iters 2000 \
			>"$OUT/bench_$tag.txt" 2>&1; echo "exit $?")"
		grep -E "^(variant|optimized_gemm_tiled)" "$OUT/bench_$tag.txt"
		for shape in 33,100,70,3 64,512,512,8 128,1024,1024,4; do
			"$bin" --variant optimized_gemm_tiled --shape $shape --iters 20 --seed 7 \
				--no-count 2>&1 | grep -E "^check" | sed "s/^/  $shape: /"
		done
	done
fi

if want summary && [ -s "$OUT/sweep.txt" ]; then
	step "summary (full output: $OUT/sweep.txt, progress: $OUT/sweep.err)"
	[ -s "$OUT/ptxas.txt" ] && grep -c "Used" "$OUT/ptxas.txt" | sed 's/^/kernels compiled: /'
	sed -n '/^device:/p; /^floors/,$p' "$OUT/sweep.txt"
	for tag in repo best; do
		[ -s "$OUT/bench_$tag.txt" ] || continue
		echo "through gemm.cu, product $tag (gemm_bench: verify, median of single launches, b2b of 100):"
		grep -h -E "^(variant|optimized_gemm_tiled)" "$OUT/bench_$tag.txt"
	done
fi
