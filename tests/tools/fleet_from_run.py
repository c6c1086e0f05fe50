#!/usr/bin/python3
"""fleet_from_run.py - a synthetic fleet made from a real run's rank files.

Every GPU of the fleet is a copy of a rank file of SRC (rank i of the fleet
copies SRC's rank i mod n), renamed onto its node and given a UUID of its
own; its samples are scaled by controlled factors and its device facts set
to those of a healthy data-centre GPU, or to what --facts says. Everything
else (layout, attributes, the real samples' shape) stays as aisp wrote it.

  fleet_from_run.py SRC OUT [--nodes 4] [--gpus-per-node 2] [--node-prefix n]
      [--run-id R] [--seed S] [--spread 0.003] [--shift 1.3]
      [--slow GPU:FACTOR[:INSTANCE/VARIANT]]... [--facts GPU:key=value,...]...
      [--host-slow GPU:FACTOR[:WHERE]]... [--device-slow GPU:FACTOR[:WHERE]]...
      [--host-launch INSTANCE/VARIANT]... [--no-device GPU[:WHERE]]...
      [--knobs "AISP_TEST_X=1"] [--git-commit C] [--end-utc T]

GPU numbers count from 0 in rank order (node n01 holds GPUs 0 and 1 with two
per node). Factors multiply the time of every sample: 1.3 is 30% slower.
Per GPU and variant the factor is shift x slow x exp(N(0, spread)), so the
fleet spread is `spread` (relative) whatever the real run's was. The same
--seed gives the same GPUs the same factors; the UUIDs depend only on the
node and the GPU's place in it, so that reruns of one fleet share them.
SRC/job.yaml is copied into OUT.

The CUPTI device time of an iteration (device_ms, and the timer pass's
timer_kernels_ms) is scaled as the samples are, but --host-slow scales the
samples only (the host's launch path slower, the GPU not) and --device-slow
the device times only. --no-device GPU[:WHERE] removes a GPU's device times
(NAN: as without CUPTI; GPU * for every GPU). --host-launch sets the
variant's host_launch attribute to 1 (a CUDA rank file from before the
attribute has none; aisp then reads its four launch-bound variants as 1).
"""
import argparse
import glob
import hashlib
import os
import shutil
import sys
import uuid

import h5py
import numpy as np

STR = h5py.string_dtype("utf-8")
HEALTHY = {"valid": 1, "sm_clock_mhz": 1980, "max_sm_clock_mhz": 1980, "mem_clock_mhz": 2619,
           "temperature_c": 45, "power_w": 420.0, "power_limit_w": 700.0,
           "throttle_reasons": 0, "ecc_corrected": 0, "ecc_uncorrected": 0,
           "retired_pages": 0, "pcie_gen": 5, "pcie_width": 16}
SCALED = ("median_ms", "mean_ms", "stddev_ms", "p10_ms", "p75_ms", "p90_ms", "p99_ms",
          "min_ms", "max_ms", "mad_ms")
DEVICE = ("device_ms", "timer_kernels_ms")


def put(obj, name, value):
    """One attribute as aisp writes it: str vlen UTF-8, int int64, else float64."""
    if name in obj.attrs:
        del obj.attrs[name]
    if isinstance(value, str):
        obj.attrs.create(name, value, dtype=STR)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        obj.attrs.create(name, np.int64(value), dtype=np.int64)
    else:
        obj.attrs.create(name, np.float64(value), dtype=np.float64)


def parse_facts(specs):
    out = {}
    for s in specs:
        gpu, kv = s.split(":", 1)
        d = out.setdefault(int(gpu), {})
        for item in kv.split(","):
            k, v = item.split("=", 1)
            d[k] = float(v) if "." in v else int(v, 0)
    return out


def parse_slow(specs):
    out = []
    for s in specs:
        parts = s.split(":")
        gpu, factor = int(parts[0]), float(parts[1])
        where = ":".join(parts[2:]) if len(parts) > 2 else None
        out.append((gpu, factor, where))
    return out


def scale_variant(vg, factor, dfactor):
    if "samples_ms" in vg:
        d = vg["samples_ms"]
        d[...] = d[()] * factor
    for k in SCALED:
        if k in vg.attrs:
            put(vg, k, float(vg.attrs[k]) * factor)
    for k in DEVICE:
        if k in vg.attrs:
            put(vg, k, float(vg.attrs[k]) * dfactor)
    if "throughput" in vg.attrs:
        put(vg, "throughput", float(vg.attrs["throughput"]) / factor)


def applies(specs, i, inst, var):
    """The product of the factors of specs [(gpu, factor, where)] for GPU i."""
    x = 1.0
    for gpu, f, where in specs:
        if gpu == i and (where is None or where in ("%s/%s" % (inst, var), inst)):
            x *= f
    return x


def set_facts(vg, facts, rng):
    for name in ("gpu_before", "gpu_after"):
        g = vg.require_group(name)
        for k, v in HEALTHY.items():
            if k == "temperature_c":
                v = v + int(rng.integers(0, 3))
            put(g, k, facts.get(k, v))


def write_gpu(a, src, i, slow, facts):
    """GPU i of the fleet from rank file src (slow: --slow, --host-slow and
    --device-slow, parsed)."""
    gpn = a.gpus_per_node
    node = "%s%02d" % (a.node_prefix, a.first_node + i // gpn)
    local = i % gpn
    path = os.path.join(a.out, "rank-%05d.h5" % i)
    shutil.copyfile(src, path)
    rng = np.random.default_rng([a.seed, i])
    gpu_factor = float(np.exp(rng.normal(0.0, a.spread)))
    uid = uuid.UUID(bytes=hashlib.sha256(("%s/%d" % (node, local)).encode()).digest()[:16])
    with h5py.File(path, "r+") as f:
        for k, v in (("rank", i), ("world_size", a.nodes * gpn), ("local_rank", local),
                     ("local_size", gpn), ("node", node), ("hostname", node),
                     ("gpu_index", local), ("gpu_uuid", "GPU-%s" % uid),
                     ("gpu_serial", "%013d" % (1000 + i)), ("run_id", a.run_id),
                     ("gpu_name", "NVIDIA Synthetic GPU"), ("test_knobs", a.knobs)):
            put(f, k, v)
        if a.git_commit:
            put(f, "git_commit", a.git_commit)
        if a.end_utc:
            put(f, "end_utc", a.end_utc)
        for inst, ig in f.get("targets", {}).items():
            for var, vg in ig.items():
                base = a.shift * gpu_factor * float(np.exp(rng.normal(0.0, a.spread / 2)))
                both = applies(slow["slow"], i, inst, var)
                scale_variant(vg, base * both * applies(slow["host"], i, inst, var),
                              base * both * applies(slow["device"], i, inst, var))
                if "%s/%s" % (inst, var) in a.host_launch:
                    put(vg, "host_launch", 1)
                for gpu, where in a.no_device:
                    if gpu in ("*", str(i)) and where in (None, inst, "%s/%s" % (inst, var)):
                        for k in DEVICE:
                            put(vg, k, float("nan"))
                set_facts(vg, facts.get(i, {}), rng)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--nodes", type=int, default=4)
    p.add_argument("--gpus-per-node", type=int, default=2)
    p.add_argument("--node-prefix", default="n")
    p.add_argument("--first-node", type=int, default=1)
    p.add_argument("--run-id", default="fleet")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--spread", type=float, default=0.003)
    p.add_argument("--shift", type=float, default=1.0)
    p.add_argument("--slow", action="append", default=[], help="GPU:FACTOR[:INSTANCE/VARIANT]")
    p.add_argument("--facts", action="append", default=[], help="GPU:key=value,...")
    p.add_argument("--host-slow", action="append", default=[], help="GPU:FACTOR[:WHERE]")
    p.add_argument("--device-slow", action="append", default=[], help="GPU:FACTOR[:WHERE]")
    p.add_argument("--host-launch", action="append", default=[], help="INSTANCE/VARIANT")
    p.add_argument("--no-device", action="append", default=[], help="GPU[:WHERE], GPU * for all")
    p.add_argument("--knobs", default="")
    p.add_argument("--git-commit", default="")
    p.add_argument("--end-utc", default="")
    a = p.parse_args()
    srcs = sorted(glob.glob(os.path.join(a.src, "rank-*.h5")))
    if not srcs:
        print("fleet_from_run.py: %s: no rank files" % a.src, file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    if os.path.exists(os.path.join(a.src, "job.yaml")):
        shutil.copyfile(os.path.join(a.src, "job.yaml"), os.path.join(a.out, "job.yaml"))
    slow = {"slow": parse_slow(a.slow), "host": parse_slow(a.host_slow),
            "device": parse_slow(a.device_slow)}
    a.no_device = [(s.split(":", 1)[0], s.split(":", 1)[1] if ":" in s else None)
                   for s in a.no_device]
    facts = parse_facts(a.facts)
    for i in range(a.nodes * a.gpus_per_node):
        write_gpu(a, srcs[i % len(srcs)], i, slow, facts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
