# aisp - fleet benchmark runner.
#   make            build ./aisp (CUDA backend when nvcc is found; CUDA=0 to skip)
#   make run        build, install what is missing, run the ch01 job here
#   make test       unit tests (cmocka), end-to-end tests (mpirun), Slurm test
#   make asan       ASan+UBSan build and the same tests
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each (30)
#   make bench      benchmarks of the tool itself (bench/RESULTS.md)
#   make install    PREFIX=/usr/local (binary, man page, slurm scripts, jobs, modulefile)
#   make uninstall  the same PREFIX: removes what install wrote
#   make clean
# BUILD=dir puts objects elsewhere (several builds side by side).

# Two stages. The make you type (stage 1) runs tests/deps.sh, which installs
# missing packages, and only then runs make again for the same goals
# (stage 2, AISP_STAGE=2). Everything below the stage-1 block asks the system
# (pkg-config, mpicc, nvcc) and is read by stage 2 alone, so it sees what
# deps.sh has just installed, and under -j nothing is compiled before it.
.DEFAULT_GOAL := all
DEPS_PREFIX ?=
NODEPS_GOALS := deps clean uninstall
ifndef AISP_STAGE
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
AISP_STAGE := 1
endif
endif

# Install what is missing (Debian/Ubuntu as root), else say the command to run.
deps:
	@DEPS_PREFIX="$(DEPS_PREFIX)" sh tests/deps.sh
.PHONY: deps

ifeq ($(AISP_STAGE),1)
STAGE1_GOALS := $(filter-out deps,$(or $(MAKECMDGOALS),all))
.PHONY: $(STAGE1_GOALS) stage2
$(STAGE1_GOALS): stage2
	@:
stage2: deps
	@$(MAKE) --no-print-directory AISP_STAGE=2 $(filter-out deps,$(MAKECMDGOALS))
else # stage 2: the build itself

BUILD ?= build
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(shell command -v nvcc 2>/dev/null || { test -x $(CUDA_HOME)/bin/nvcc && echo $(CUDA_HOME)/bin/nvcc; })
CUDA ?= $(if $(NVCC),1,0)
# DEPS_PREFIX: extra prefix with include/ and lib/ (unpacked .debs on a GPU node).
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
BASE_CFLAGS := $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP $(SANITIZE)
LDLIBS := $(PKG_LIBS) -ldl -lm
LDLIBS_TEST = $(LDLIBS) -lcmocka
LDFLAGS += $(SANITIZE)

# The layers, bottom up; each is compiled seeing only the headers below it:
#   include/   aisp.h, the target contract: the only header kernels/ sees
#   core/      what every layer uses: errors, parameters, text, statistics
#   kernels/   the targets (a folder per chapter, their own headers beside)
#   runner/    registry, job files, ranks, workers, measuring, rank files
#   analysis/  gather, compare, report
#   cli/       the command dispatcher, above runner/ and analysis/
# Kernels are compiled without MPI, HDF5, libyaml or jansson on their path.
KCC ?= $(shell mpicc --showme:command 2>/dev/null || echo cc)
INC_kernels := -Iinclude
INC_core := -Iinclude
INC_runner := -Iinclude -iquote core $(PKG_CFLAGS)
INC_analysis := $(INC_runner) -iquote runner
INC_cli := $(INC_analysis) -iquote analysis
INC_tests := $(INC_cli) -iquote cli $(addprefix -iquote ,$(wildcard kernels/*)) -Itests/unit
HOST_DEFS := -DAISP_VERSION='"$(VERSION)"' -DAISP_GIT_COMMIT='"$(GIT_COMMIT)"'

CORE_C := $(wildcard core/*.c)
KERNEL_C := $(wildcard kernels/*/*.c)
RUNNER_C := $(filter-out %_cuda.c,$(wildcard runner/*.c))
ANALYSIS_C := $(wildcard analysis/*.c)
CLI_C := $(filter-out cli/main.c,$(wildcard cli/*.c))
TEST_TARGET_C := $(wildcard tests/targets/*.c)
CUDA_C := $(wildcard runner/*_cuda.c)
CUDA_CU := $(wildcard kernels/*/*.cu)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB_CORE := $(BUILD)/libaisp_core.a
LIB_KERNELS := $(BUILD)/libaisp_kernels.a
LIB_RUNNER := $(BUILD)/libaisp_runner.a
LIB_ANALYSIS := $(BUILD)/libaisp_analysis.a
LIB_CLI := $(BUILD)/libaisp_cli.a
LIB_TEST_TARGETS := $(BUILD)/libaisp_test_targets.a
# Link order: each archive before the ones it uses.
LIBS := $(LIB_CLI) $(LIB_ANALYSIS) $(LIB_RUNNER) $(LIB_KERNELS) $(LIB_CORE)

ifeq ($(CUDA),1)
# The CUDA backend is a plug-in, $(BUILD)/lib/aisp-cuda.so (copied to ./lib/
# beside ./aisp): the .cu twins, the CUDA backend and the core they use,
# position independent, linked to cudart/cuBLAS/CUPTI. Only a worker using
# it dlopens it; the aisp binary links none of them and knows the CUDA twins
# from a catalog generated from the plug-in (runner/catalog_gen.c).
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_100,code=sm_100 \
	     -gencode arch=compute_100,code=compute_100
CUDA_DEFS := -DAISP_HAVE_CUDA
NVCCFLAGS := -O3 -std=c++17 $(CUDA_ARCH) -Iinclude -lineinfo -Xcompiler -fPIC \
	     -Xcompiler -Wall,-Wextra,-Werror,-Wno-missing-field-initializers -Werror all-warnings
CUPTI_LIB := $(firstword $(wildcard $(CUDA_HOME)/extras/CUPTI/lib64 $(CUDA_HOME)/lib64))
CUDA_LDLIBS := -L$(CUDA_HOME)/lib64 -L$(CUPTI_LIB) -Wl,-rpath,$(CUDA_HOME)/lib64 \
	       -Wl,-rpath,$(CUPTI_LIB) -lcublasLt -lcublas -lcupti -lcudart -lstdc++ -lm
PLUGIN := $(BUILD)/lib/aisp-cuda.so
PLUGIN_OBJ := $(patsubst %.cu,$(BUILD)/pic/%.cu.o,$(CUDA_CU)) \
	      $(patsubst %.c,$(BUILD)/pic/%.o,$(CUDA_C))
LIB_CUDA := $(BUILD)/libaisp_cuda.a
CATALOG_OBJ := $(BUILD)/gen/catalog_cuda.o
# The GPU test programs (tests/gpu), built with every CUDA build so that a
# broken link shows here and in CI, not first on a GPU node.
GPU_TEST_BIN := $(addprefix $(BUILD)/tests/gpu/,perf_driver gemm_bench gemm_sweep)
endif

TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all run test unit e2e slurm-test asan bench clean fuzz
all: aisp $(GPU_TEST_BIN)

# The binary is built in $(BUILD) and copied to ./aisp (its plug-in to
# ./lib/) for the default build.
aisp: $(BUILD)/aisp $(BUILD)/aisp-test $(PLUGIN)
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/aisp aisp; \
	 if [ -n "$(PLUGIN)" ]; then mkdir -p lib && cp $(PLUGIN) lib/; fi; fi

$(BUILD)/aisp: $(BUILD)/cli/main.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The test binary: aisp plus the test-only targets of tests/targets/.
$(BUILD)/aisp-test: $(BUILD)/tests/aisp_test.o $(LIB_TEST_TARGETS) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB_CORE): $(call obj,$(CORE_C))
$(LIB_KERNELS): $(call obj,$(KERNEL_C))
$(LIB_CUDA): $(PLUGIN_OBJ)
$(LIB_RUNNER): $(call obj,$(RUNNER_C)) $(CATALOG_OBJ)
$(LIB_ANALYSIS): $(call obj,$(ANALYSIS_C))
$(LIB_CLI): $(call obj,$(CLI_C))
$(LIB_TEST_TARGETS): $(call obj,$(TEST_TARGET_C))
$(BUILD)/libaisp_%.a:
	@rm -f $@
	ar rcs $@ $^

# Each folder's objects see the include path of their layer.
$(BUILD)/kernels/%.o: kernels/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) $(INC_kernels) -c -o $@ $<

$(BUILD)/tests/targets/%.o: tests/targets/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) $(INC_kernels) -c -o $@ $<

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) $(INC_core) -c -o $@ $<

$(BUILD)/runner/%.o: runner/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_runner) $(HOST_DEFS) $(CUDA_DEFS) -c -o $@ $<

$(BUILD)/analysis/%.o: analysis/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_analysis) $(HOST_DEFS) -c -o $@ $<

$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_cli) $(HOST_DEFS) -c -o $@ $<

$(BUILD)/tests/aisp_test.o: tests/aisp_test.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_cli) -iquote cli -c -o $@ $<

# The CUDA plug-in (CUDA=1): position-independent objects, one exported
# symbol (runner/plugin_cuda.map), no undefined symbol left (-z defs).
$(BUILD)/pic/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/pic/runner/%.o: runner/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) -fPIC -Iinclude -iquote core -I$(CUDA_HOME)/include -c -o $@ $<

$(BUILD)/pic/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) -fPIC $(INC_core) -c -o $@ $<

$(BUILD)/pic/kernels/%.o: kernels/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) -fPIC $(INC_kernels) -c -o $@ $<

# The .cu twins use the C code of their folders (float64 references) and the core.
$(PLUGIN): $(PLUGIN_OBJ) $(patsubst %.c,$(BUILD)/pic/%.o,$(CORE_C) $(KERNEL_C)) \
	   runner/plugin_cuda.map
	@mkdir -p $(dir $@)
	$(KCC) $(SANITIZE) -shared -o $@ $(filter %.o,$^) -Wl,--version-script=runner/plugin_cuda.map \
		-Wl,-z,defs $(CUDA_LDLIBS)

# The catalog of the CUDA twins, generated from the plug-in itself.
$(BUILD)/catalog-gen: runner/catalog_gen.c runner/backend.h include/aisp.h
	@mkdir -p $(dir $@)
	$(KCC) $(BASE_CFLAGS) -Iinclude -o $@ $< -ldl

$(BUILD)/gen/catalog_cuda.c: $(PLUGIN) $(BUILD)/catalog-gen
	@mkdir -p $(dir $@)
	$(BUILD)/catalog-gen $(PLUGIN) >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/catalog_cuda.o: $(BUILD)/gen/catalog_cuda.c
	$(KCC) $(BASE_CFLAGS) -Iinclude -iquote runner -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_TEST_TARGETS) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_tests) $(CUDA_DEFS) $(TEST_DEFS) $(LDFLAGS) -o $@ $< \
		$(LIB_TEST_TARGETS) $(TEST_LIBS) $(LIBS) $(LDLIBS_TEST) $(TEST_LDLIBS)

# test_backend_cuda links the CUDA backend itself; test_plugin loads the plug-in.
ifeq ($(CUDA),1)
$(BUILD)/tests/test_backend_cuda: $(LIB_CUDA)
$(BUILD)/tests/test_backend_cuda: TEST_LIBS = $(LIB_CUDA)
$(BUILD)/tests/test_backend_cuda: TEST_LDLIBS = $(CUDA_LDLIBS)
$(BUILD)/tests/test_plugin: $(PLUGIN)
$(BUILD)/tests/test_plugin: TEST_DEFS = -DAISP_TEST_PLUGIN='"$(PLUGIN)"'
endif

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# tests/gpu (CUDA=1): linked as test_backend_cuda is, with the CUDA twins'
# objects (the plug-in's) and the libraries below them.
GPU_TEST_CFLAGS := $(BASE_CFLAGS) -Iinclude -iquote core -iquote runner -I$(CUDA_HOME)/include
GPU_TEST_LINK := $(LIB_CUDA) $(LIBS) $(LDLIBS) $(CUDA_LDLIBS)

$(BUILD)/tests/gpu/perf_driver: tests/gpu/perf_driver.c $(BUILD)/pic/tests/gpu/perf_hooks.cu.o \
		$(LIB_CUDA) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(GPU_TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/pic/tests/gpu/perf_hooks.cu.o \
		$(GPU_TEST_LINK)

$(BUILD)/tests/gpu/gemm_bench: tests/gpu/gemm_bench.c $(LIB_CUDA) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(GPU_TEST_CFLAGS) $(CUDA_DEFS) $(LDFLAGS) -o $@ $< $(GPU_TEST_LINK)

$(BUILD)/tests/gpu/gemm_sweep: tests/gpu/gemm_sweep.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -Xcompiler -iquote,runner -o $@ $< -lcublas

run: all
	sh tests/run-main-job.sh

unit: aisp $(TEST_BIN)
	@sh tests/run-unit.sh $(TEST_BIN)

e2e: aisp
	@sh tests/run-e2e.sh

test: aisp $(TEST_BIN) $(GPU_TEST_BIN)
	@sh tests/run-all.sh $(BUILD) $(TEST_BIN)

asan:
	$(MAKE) BUILD=build-asan CUDA=0 $(ASAN_FLAGS) build-asan/aisp
	$(MAKE) BUILD=build-asan CUDA=0 $(ASAN_FLAGS) AISP=build-asan/aisp \
		LEAVE_OUT="tests/slurm/test_slurm.sh tests/e2e/readme.sh" test

# libFuzzer harnesses tests/fuzz/fuzz_NAME.c, built with clang into build-fuzz/
# and run FUZZ_SECONDS each over a copy of tests/fuzz/corpus/NAME/ (run.sh).
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Iinclude -iquote core -iquote runner -Ianalysis $(PKG_CFLAGS) \
	$(shell mpicc --showme:compile 2>/dev/null) $(addprefix -I,$(wildcard kernels/*))
FUZZ_SRC_job := runner/job.c runner/registry.c $(CORE_C) $(KERNEL_C) $(TEST_TARGET_C)
FUZZ_SRC_expect := analysis/expect.c core/error.c core/text.c
FUZZ_NAMES := job expect

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard include/*.h core/*.h runner/*.h analysis/*.h) \
		  $(CORE_C) $(RUNNER_C) $(ANALYSIS_C) $(KERNEL_C) $(TEST_TARGET_C)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(PKG_LIBS) -lm

fuzz: $(addprefix build-fuzz/fuzz_,$(FUZZ_NAMES))
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

bench: all
	sh bench/run.sh

clean:
	rm -rf build build-asan build-fuzz aisp lib

# make install PREFIX=/opt/aisp [DESTDIR=staging]: the binary, the man page,
# jobs/ (job files and stored baselines) and slurm/ under share/aisp, and a
# module file (Environment Modules and Lmod) in MODULEDIR/aisp/VERSION.
# The CUDA plug-in goes to lib/aisp/, where aisp looks beside its bin/.
# AISP_BIN=path (and AISP_PLUGIN=path or empty) install those instead of
# building them.
PREFIX ?= /usr/local
MODULEDIR ?= $(PREFIX)/share/modulefiles
AISP_BIN ?= $(BUILD)/aisp
AISP_PLUGIN ?= $(PLUGIN)
SHARE_DIR := $(PREFIX)/share/aisp
SHARE_FILES := $(wildcard jobs/*/*.yaml jobs/*/*.json) $(wildcard slurm/*)
INSTALLED := $(PREFIX)/bin/aisp $(PREFIX)/share/man/man1/aisp.1 $(PREFIX)/lib/aisp/aisp-cuda.so \
	$(MODULEDIR)/aisp/$(VERSION) $(addprefix $(SHARE_DIR)/,$(SHARE_FILES))
.PHONY: install uninstall

install: $(AISP_BIN) $(AISP_PLUGIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(MODULEDIR)/aisp
	install -m 755 $(AISP_BIN) $(DESTDIR)$(PREFIX)/bin/aisp
	$(if $(AISP_PLUGIN),install -D -m 755 $(AISP_PLUGIN) $(DESTDIR)$(PREFIX)/lib/aisp/aisp-cuda.so)
	install -m 644 doc/aisp.1 $(DESTDIR)$(PREFIX)/share/man/man1/aisp.1
	for f in $(SHARE_FILES); do \
		install -D -m $$(if [ -x $$f ]; then echo 755; else echo 644; fi) \
			$$f $(DESTDIR)$(SHARE_DIR)/$$f || exit 1; done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@MODULEDIR@|$(MODULEDIR)|g' doc/aisp.modulefile.in \
		>$(DESTDIR)$(MODULEDIR)/aisp/$(VERSION)
	@echo "installed aisp $(VERSION) in $(DESTDIR)$(PREFIX)"
	@echo "  module use $(MODULEDIR); module load aisp    (or PATH=$(PREFIX)/bin:\$$PATH)"

# Removes what install wrote, then the directories of aisp's own left empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for d in $(DESTDIR)$(SHARE_DIR)/jobs/* $(DESTDIR)$(SHARE_DIR)/jobs \
		$(DESTDIR)$(SHARE_DIR)/slurm $(DESTDIR)$(SHARE_DIR) $(DESTDIR)$(MODULEDIR)/aisp \
		$(DESTDIR)$(PREFIX)/lib/aisp; do \
		if [ -d $$d ]; then rmdir $$d || exit 1; fi; done

endif # stage 2
