/*
 * pin.h - pinning a worker to one CPU near its GPU. A launch-bound
 * measurement is partly a property of the host CPU that issues the launches
 * (its cache, its frequency, what else runs on it); a worker that migrates
 * between CPUs mid-run, or shares one with the rank's polling, measures
 * that too. The worker of CUDA device d is pinned to one CPU of those local
 * to the GPU (sysfs local_cpulist) and allowed to it (the affinity it
 * inherited from the launcher), counted down from the highest, so workers
 * of different GPUs land on different CPUs, away from CPU 0. In two steps:
 * before the CUDA context is made, the whole process goes to the GPU-local
 * CPUs (the driver's threads and pinned buffers stay near the GPU); after
 * it, the worker's own thread goes to its one CPU (the driver's helper
 * threads keep the others, so they never queue behind a spinning worker).
 */
#ifndef AISP_PIN_H
#define AISP_PIN_H

#include <sched.h>
#include <stddef.h>

/* Parse a Linux CPU list ("0-3,8,10-11\n") into *set; the number of CPUs
 * in it, or -1 when the text is not such a list. */
int pin_parse_list(const char *text, cpu_set_t *set);

/* The sysfs name of a PCI bus id as NVML writes it ("00000000:18:00.0" ->
 * "0000:18:00.0") into out; -1 when id is not one. */
int pin_sysfs_bus_id(const char *id, char *out, size_t n);

/* The CPU for the worker of device dev: the dev-th highest (modulo their
 * count) of local & allowed, or of allowed alone when those do not meet
 * (local may be NULL: unknown). -1 when allowed is empty. */
int pin_choose(const cpu_set_t *local, const cpu_set_t *allowed, int dev);

/* Step 1: restrict the calling thread (and the threads it makes later) to
 * the CPUs local to the GPU at NVML PCI bus id bus_id that it may use.
 * Returns how many, or -1 (nothing changed: locality unknown or no overlap;
 * why says which). */
int pin_worker_local(const char *bus_id, char *why, size_t n);

/* Step 2: pin the calling thread to pin_choose's CPU for device dev, the
 * GPU at NVML PCI bus id bus_id ("" or NULL: locality unknown). Returns the
 * CPU, or -1 with the reason in why. */
int pin_worker(const char *bus_id, int dev, char *why, size_t n);

#endif /* AISP_PIN_H */
