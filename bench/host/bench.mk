# bench.mk - the host benchmark tools, built with the main Makefile's flags:
#   make -f Makefile -f bench/host/bench.mk BUILD=build bench-tools
# gives BUILD/bench/bare_loop (links BUILD/libaisp.a) and BUILD/bench/mpi_idle.so.

.PHONY: bench-tools
bench-tools: $(BUILD)/bench/bare_loop $(BUILD)/bench/mpi_idle.so

$(BUILD)/bench/bare_loop: bench/host/bare_loop.c $(BUILD)/libaisp.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libaisp.a $(LDLIBS)

$(BUILD)/bench/mpi_idle.so: bench/host/mpi_idle.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $<
