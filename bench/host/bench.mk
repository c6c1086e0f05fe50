# bench.mk - the host benchmark tools, built with the main Makefile's flags:
#   make -f Makefile -f bench/host/bench.mk BUILD=build bench-tools
# gives BUILD/bench/bare_loop (links the layers' archives and the test-only
# targets, as BUILD/aisp-test) and BUILD/bench/mpi_idle.so.

.PHONY: bench-tools
bench-tools: $(BUILD)/bench/bare_loop $(BUILD)/bench/mpi_idle.so

$(BUILD)/bench/bare_loop: bench/host/bare_loop.c $(LIB_TEST_TARGETS) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_cli) $(CUDA_DEFS) $(if $(CUDA_DEFS),-I$(CUDA_HOME)/include) \
		$(LDFLAGS) -o $@ $< $(LIB_TEST_TARGETS) \
		$(LIBS) $(LDLIBS) $(if $(CUDA_DEFS),$(CUDA_LDLIBS))

$(BUILD)/bench/mpi_idle.so: bench/host/mpi_idle.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fPIC -shared -o $@ $<
