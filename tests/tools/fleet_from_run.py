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
      [--knobs "AISP_TEST_X=1"] [--git-commit C] [--end-utc T] [--noise R]

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

--noise R gives every variant the spread of a quiet machine instead of the
real run's (a busy machine's run can spread 100%, which moves the noise and
so the thresholds every verdict is held to): its samples become
controlled_samples() around the variant's centre (centres()), with a
within-run noise of R (1.4826 MAD / median), then are scaled as above.
"""
import argparse
import glob
import hashlib
import math
import os
import shutil
import sys
import uuid
from statistics import NormalDist

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


def text(x):
    """An attribute read back as str (h5py gives bytes or str)."""
    return x.decode() if isinstance(x, bytes) else str(x)


def knob_factor(f):
    """1 + AISP_TEST_SLOW_PCT/100 of the knobs rank file f was written under (1 without)."""
    for kv in text(f.attrs.get("test_knobs", "")).split():
        if kv.startswith("AISP_TEST_SLOW_PCT="):
            return 1.0 + float(kv.split("=", 1)[1]) / 100.0
    return 1.0


def centres(dirs):
    """{(instance, variant): ms}: the median over the ok rank files of dirs of
    each one's sample median over its knob factor: what every GPU of the
    runs measures on a quiet machine, the knobs taken out."""
    meds = {}
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "rank-*.h5"))):
            with h5py.File(path, "r") as f:
                k = knob_factor(f)
                for inst, ig in f.get("targets", {}).items():
                    for var, vg in ig.items():
                        smp = vg["samples_ms"][()] if "samples_ms" in vg else []
                        if text(vg.attrs.get("status", "")) == "ok" and len(smp):
                            meds.setdefault((inst, var), []).append(float(np.median(smp)) / k)
    return {key: float(np.median(v)) for key, v in meds.items()}


def controlled_samples(centre, n, noise):
    """n samples of median centre and within-run noise `noise` (1.4826 MAD /
    median, to first order), no randomness: centre * exp(noise * z_k), z_k
    the standard normal quantiles of (k + 0.5) / n, in a fixed shuffled order."""
    z = np.array([NormalDist().inv_cdf((k + 0.5) / n) for k in range(n)])
    order = np.random.default_rng(n).permutation(n)
    return centre * np.exp(noise * z[order])


def set_samples(vg, samples):
    """Replace samples_ms of variant group vg and its statistics attributes,
    computed as aisp does (numpy's linear quantiles, sample stddev)."""
    del vg["samples_ms"]
    vg.create_dataset("samples_ms", data=samples, dtype="<f8", chunks=(len(samples),),
                      maxshape=(None,))
    med = float(np.median(samples))
    st = {"median_ms": med, "mean_ms": float(np.mean(samples)),
          "stddev_ms": float(np.std(samples, ddof=1)) if len(samples) > 1 else 0.0,
          "p10_ms": float(np.quantile(samples, 0.10)), "p75_ms": float(np.quantile(samples, 0.75)),
          "p90_ms": float(np.quantile(samples, 0.90)), "p99_ms": float(np.quantile(samples, 0.99)),
          "min_ms": float(samples.min()), "max_ms": float(samples.max()),
          "mad_ms": float(np.median(np.abs(samples - med)))}
    old = float(vg.attrs.get("median_ms", math.nan)) if "median_ms" in vg.attrs else math.nan
    for k, v in st.items():
        put(vg, k, v)
    if "throughput" in vg.attrs and old > 0 and med > 0:
        put(vg, "throughput", float(vg.attrs["throughput"]) * old / med)


def quiet_variant(vg, centre, noise):
    """Give an ok variant group the controlled samples around centre (ms)."""
    if text(vg.attrs.get("status", "")) == "ok" and "samples_ms" in vg and len(vg["samples_ms"]) and centre:
        set_samples(vg, controlled_samples(centre, len(vg["samples_ms"]), noise))


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


def write_gpu(a, src, i, slow, facts, centre):
    """GPU i of the fleet from rank file src (slow: --slow, --host-slow and
    --device-slow, parsed; centre: centres() for --noise)."""
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
                if a.noise is not None:
                    quiet_variant(vg, centre.get((inst, var)), a.noise)
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
    p.add_argument("--noise", type=float, default=None,
                   help="controlled within-run noise R instead of the real samples' spread")
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
    centre = centres([a.src]) if a.noise is not None else {}
    for i in range(a.nodes * a.gpus_per_node):
        write_gpu(a, srcs[i % len(srcs)], i, slow, facts, centre)
    return 0


if __name__ == "__main__":
    sys.exit(main())
