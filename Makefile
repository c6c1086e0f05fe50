# aisp - fleet benchmark runner.
#   make            build ./aisp (CUDA backend when nvcc is found; CUDA=0 to skip)
#   make run        build, install what is missing, run the ch01 job here
#   make test       unit tests (cmocka), end-to-end tests (mpirun), Slurm test
#   make asan       ASan+UBSan build and the same tests
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each (30)
#   make bench      benchmarks of the tool itself (bench/RESULTS.md)
#   make clean
# BUILD=dir puts objects elsewhere (several builds side by side).

BUILD ?= build
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(shell command -v nvcc 2>/dev/null || { test -x $(CUDA_HOME)/bin/nvcc && echo $(CUDA_HOME)/bin/nvcc; })
CUDA ?= $(if $(NVCC),1,0)
# Extra prefix with include/ and lib/ (e.g. unpacked .debs on a GPU node).
DEPS_PREFIX ?=
SANITIZE ?=

CC := mpicc
# ASan+UBSan build: make asan (objects in build-asan/).
ASAN_FLAGS := OPT="-O1 -g -fno-omit-frame-pointer" \
	SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all" 
HDF5_PC := $(shell pkg-config --exists hdf5-serial 2>/dev/null && echo hdf5-serial || echo hdf5)
PKG_CFLAGS := $(shell pkg-config --cflags $(HDF5_PC) yaml-0.1 jansson 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(HDF5_PC) yaml-0.1 jansson 2>/dev/null)
ifneq ($(DEPS_PREFIX),)
PKG_CFLAGS += -I$(DEPS_PREFIX)/include
PKG_LIBS := -L$(DEPS_PREFIX)/lib -Wl,-rpath,$(abspath $(DEPS_PREFIX))/lib $(PKG_LIBS) -lyaml -ljansson
endif
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VERSION := 0.1.0

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
OPT ?= -O2 -g
CFLAGS := $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) -iquote runner -Ianalysis $(PKG_CFLAGS) \
	  -DAISP_VERSION='"$(VERSION)"' -DAISP_GIT_COMMIT='"$(GIT_COMMIT)"' $(SANITIZE)
LDLIBS := $(PKG_LIBS) -ldl -lm
LDFLAGS += $(SANITIZE)

RUNNER_C := $(filter-out runner/main.c %_cuda.c,$(wildcard runner/*.c))
ANALYSIS_C := $(wildcard analysis/*.c)
KERNEL_C := $(wildcard kernels/*/*_host.c)
CUDA_C := $(wildcard runner/*_cuda.c)
CUDA_CU := $(wildcard kernels/*/*.cu)

OBJ := $(patsubst %.c,$(BUILD)/%.o,$(RUNNER_C) $(ANALYSIS_C) $(KERNEL_C))

ifeq ($(CUDA),1)
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_100,code=sm_100 \
	     -gencode arch=compute_100,code=compute_100
CFLAGS += -DAISP_HAVE_CUDA -I$(CUDA_HOME)/include
NVCCFLAGS := -O3 -std=c++17 $(CUDA_ARCH) -DAISP_HAVE_CUDA -Xcompiler -iquote,runner -lineinfo \
	     -Xcompiler -Wall,-Wextra,-Werror,-Wno-missing-field-initializers -Werror all-warnings
CUPTI_LIB := $(firstword $(wildcard $(CUDA_HOME)/extras/CUPTI/lib64 $(CUDA_HOME)/lib64))
LDLIBS += -L$(CUDA_HOME)/lib64 -L$(CUPTI_LIB) -Wl,-rpath,$(CUDA_HOME)/lib64 \
	  -Wl,-rpath,$(CUPTI_LIB) -lcublasLt -lcublas -lcupti -lcudart -lstdc++
OBJ += $(patsubst %.c,$(BUILD)/%.o,$(CUDA_C)) $(patsubst %.cu,$(BUILD)/%.cu.o,$(CUDA_CU))
# The GPU test programs (tests/gpu) are built with every CUDA build, so that
# a broken link shows here and in CI, not first on a GPU node.
GPU_TEST_BIN := $(addprefix $(BUILD)/tests/gpu/,perf_driver gemm_bench gemm_sweep)
endif

TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all deps run test unit e2e slurm-test asan bench clean fuzz
all: deps aisp $(GPU_TEST_BIN)

# The binary is built in $(BUILD) and copied to ./aisp for the default build.
aisp: $(BUILD)/aisp
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/aisp aisp; fi

$(BUILD)/aisp: $(BUILD)/runner/main.o $(BUILD)/libaisp.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libaisp.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard runner/*.h analysis/*.h kernels/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.cu.o: %.cu $(wildcard runner/*.h kernels/*/*.h)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libaisp.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libaisp.a $(LDLIBS) -lcmocka

$(BUILD)/tests/gpu/perf_hooks.cu.o: tests/gpu/perf_hooks.h

$(BUILD)/tests/gpu/perf_driver: tests/gpu/perf_driver.c tests/gpu/perf_hooks.h \
		$(BUILD)/tests/gpu/perf_hooks.cu.o $(BUILD)/libaisp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/tests/gpu/perf_hooks.cu.o \
		$(BUILD)/libaisp.a $(LDLIBS)

$(BUILD)/tests/gpu/gemm_bench: tests/gpu/gemm_bench.c $(BUILD)/libaisp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libaisp.a $(LDLIBS)

$(BUILD)/tests/gpu/gemm_sweep: tests/gpu/gemm_sweep.cu
	$(NVCC) $(NVCCFLAGS) -o $@ $< -lcublas

# Install what is missing (Debian/Ubuntu as root), else say the command to run.
deps:
	@DEPS_PREFIX="$(DEPS_PREFIX)" sh tests/deps.sh

run: all
	sh tests/run-main-job.sh

unit: deps aisp $(TEST_BIN)
	@sh tests/run-unit.sh $(TEST_BIN)

e2e: deps aisp
	@sh tests/run-e2e.sh

test: deps aisp $(TEST_BIN) $(GPU_TEST_BIN)
	@sh tests/run-all.sh $(BUILD) $(TEST_BIN)

asan:
	$(MAKE) BUILD=build-asan CUDA=0 $(ASAN_FLAGS) build-asan/aisp
	$(MAKE) BUILD=build-asan CUDA=0 $(ASAN_FLAGS) AISP=build-asan/aisp SKIP_SLURM=1 test

# libFuzzer harnesses tests/fuzz/fuzz_NAME.c, built with clang into build-fuzz/
# and run FUZZ_SECONDS each over a copy of tests/fuzz/corpus/NAME/ (run.sh).
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -iquote runner -Ianalysis $(PKG_CFLAGS) \
	$(shell mpicc --showme:compile 2>/dev/null) $(addprefix -I,$(wildcard kernels/*))
FUZZ_SRC_job := runner/job.c runner/text.c runner/registry.c runner/params.c \
	runner/error.c $(KERNEL_C)
FUZZ_SRC_expect := analysis/expect.c runner/error.c runner/text.c
FUZZ_NAMES := job expect

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard runner/*.h analysis/*.h) $(RUNNER_C) $(ANALYSIS_C) $(KERNEL_C)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(PKG_LIBS) -lm

fuzz: $(addprefix build-fuzz/fuzz_,$(FUZZ_NAMES))
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

bench: all
	sh bench/run.sh

clean:
	rm -rf build build-asan build-fuzz aisp
