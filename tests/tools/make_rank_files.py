#!/usr/bin/python3
"""make_rank_files.py - synthetic rank files, laid out exactly as runner/h5out.h
says (schema_version 1), for tests and benchmarks of gather/compare/report.

Run with /usr/bin/python3 (h5py, numpy). Each rank is one GPU; ranks are
spread over nodes --gpus-per-node at a time. Every GPU gets a small speed
factor of its own (fleet spread) and noisy samples; --slow RANK:FACTOR makes
one GPU slower, --fail RANK:VARIANT:STATUS marks one variant failed.
Every variant has host_launch 0 (as aisp writes it today) unless named by
--host-launch VARIANT: then 1, with a device_ms of 0.8 x its base time x the
GPU's own factor (not --slow's: that one slows the samples, the host's
launch path of such a variant) x --device-slow RANK:FACTOR for that rank;
other variants have device_ms NAN (no CUPTI).

  make_rank_files.py --out RUN_DIR --ranks 4 --gpus-per-node 2 \
      --node-prefix n --first-node 1 --run-id run1 --slow 2:1.3
"""
import argparse
import hashlib
import os
import sys
import uuid

import h5py
import numpy as np

# target -> (params, work_unit, work, [(variant, role, technique, base_ms)])
TARGETS = {
    "ch01:gemm": (
        {"m": 32.0, "n": 256.0, "k": 256.0, "batch": 40.0}, "flop", 2 * 32 * 256 * 256 * 40.0,
        [("baseline_gemm", "baseline", "separate calls", 0.29),
         ("optimized_gemm_batched", "optimized", "batched", 0.013),
         ("optimized_gemm_strided", "optimized", "strided", 0.0127),
         ("optimized_gemm_tiled", "optimized", "tiled", 0.05),
         ("optimized_gemm_fused", "optimized", "fused epilogue", 0.0121)]),
    "ch01:performance": (
        {"batch": 2048.0, "hidden": 1024.0}, "samples", 2048.0,
        [("baseline_performance", "baseline", "fp32 eager", 61.1),
         ("optimized_performance", "optimized", "fp16 + fused microbatches", 9.46),
         ("optimized_performance_fp16", "optimized", "fp16", 75.9),
         ("optimized_performance_fusion", "optimized", "fused microbatches", 16.1),
         ("optimized_performance_graphs", "optimized", "cuda graphs", 8.9)]),
}

STR = h5py.string_dtype("utf-8")


def put(obj, name, value):
    """One attribute: str -> vlen UTF-8, int -> int64, float -> float64."""
    if isinstance(value, str):
        obj.attrs.create(name, value, dtype=STR)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        obj.attrs.create(name, np.int64(value), dtype=np.int64)
    else:
        obj.attrs.create(name, np.float64(value), dtype=np.float64)


def gpu_facts(grp, rng):
    for k, v in (("valid", 1), ("index", 0), ("sm_clock_mhz", 1980), ("mem_clock_mhz", 2619),
                 ("temperature_c", int(rng.integers(40, 45))), ("power_w", 300.0 + rng.random())):
        put(grp, k, v)


def write_variant(inst, vname, role, technique, base_ms, a, rng, factor, status, work, unit,
                  flops, bytes_, device):
    g = inst.create_group(vname)
    n = a.samples
    if status == "ok":
        s = base_ms * factor * np.exp(rng.normal(0.0, a.noise, n))
    elif status in ("crashed", "timeout", "skipped"):
        s = np.zeros(0)
    else:  # verify_failed, error: timed, but excluded from baselines
        s = base_ms * factor * np.exp(rng.normal(0.0, a.noise, n))
    g.create_dataset("samples_ms", data=s.astype(np.float64), dtype=np.float64,
                     chunks=(max(1, min(len(s), 1024)),), maxshape=(None,))
    have = len(s) > 0
    q = (lambda p: float(np.percentile(s, p))) if have else (lambda p: float("nan"))
    med = q(50)
    put(g, "status", status)
    put(g, "message", "" if status == "ok" else "synthetic %s" % status)
    put(g, "role", role)
    put(g, "technique", technique)
    put(g, "host_launch", 1 if vname in a.host_launch else 0)
    put(g, "device_ms", device if vname in a.host_launch and have else float("nan"))
    put(g, "iterations", int(n))
    put(g, "warmup", 5)
    put(g, "n_samples", int(len(s)))
    put(g, "median_ms", med)
    put(g, "mean_ms", float(s.mean()) if have else float("nan"))
    put(g, "stddev_ms", float(s.std(ddof=1)) if len(s) > 1 else 0.0)
    for p in (10, 75, 90, 99):
        put(g, "p%d_ms" % p, q(p))
    put(g, "min_ms", float(s.min()) if have else float("nan"))
    put(g, "max_ms", float(s.max()) if have else float("nan"))
    put(g, "mad_ms", float(np.median(np.abs(s - med))) if have else float("nan"))
    put(g, "launches_per_iteration", 40 if role == "baseline" else 1)
    put(g, "kernels_per_iteration", -1)
    put(g, "work_per_iteration", work)
    put(g, "work_unit", unit)
    put(g, "throughput", work / (med / 1000.0) if have else float("nan"))
    put(g, "throughput_unit", unit + "/s")
    put(g, "bytes_per_iteration", bytes_)
    put(g, "flops_per_iteration", flops)
    put(g, "rel_error", 1e-7)
    put(g, "tolerance", 1e-5)
    put(g, "elapsed_s", float(s.sum()) / 1000.0 + 0.1)
    put(g, "signal", 9 if status == "crashed" else 0)
    put(g, "seed", a.seed)
    gpu_facts(g.create_group("gpu_before"), rng)
    gpu_facts(g.create_group("gpu_after"), rng)


def write_rank(a, rank, slow, fails, dslow):
    local = rank % a.gpus_per_node
    node = "%s%02d" % (a.node_prefix, a.first_node + rank // a.gpus_per_node)
    rng = np.random.default_rng([a.seed, rank, a.first_node])
    path = os.path.join(a.out, "rank-%05d.h5" % rank)
    uid = uuid.UUID(bytes=hashlib.sha256(("%s/%d" % (node, local)).encode()).digest()[:16])
    with h5py.File(path, "w") as f:
        root = (("schema_version", 1), ("tool", "aisp"), ("tool_version", "0.1.0"),
                ("git_commit", a.git_commit), ("run_id", a.run_id), ("job_name", "ch01"),
                ("job_sha256", hashlib.sha256(b"ch01").hexdigest()),
                ("command_line", "aisp bench run --targets ch01"), ("node", node),
                ("hostname", node), ("rank", rank), ("world_size", a.ranks),
                ("local_rank", local), ("local_size", a.gpus_per_node), ("backend", a.backend),
                ("gpu_index", local), ("gpu_name", a.gpu_name), ("gpu_uuid", "GPU-%s" % uid),
                ("gpu_serial", "%013d" % (rank + 1000 * a.first_node)), ("driver", "580.65"),
                ("cuda_version", "13.0"), ("hardware_key", a.hardware_key), ("seed", a.seed),
                ("start_utc", "2026-11-25T10:00:00Z"), ("end_utc", "2026-11-25T10:05:00Z"),
                ("status", "complete"))
        for k, v in root:
            put(f, k, v)
        factor = float(np.exp(rng.normal(0.0, a.spread))) * slow.get(rank, 1.0)
        tg = f.create_group("targets")
        for tname, (params, unit, work, variants) in list(TARGETS.items())[:a.targets]:
            inst = tg.create_group(tname)
            put(inst, "target", tname)
            for k, v in params.items():
                put(inst, "param." + k, float(v))
            flops = work if unit == "flop" else float("nan")
            for vname, role, tech, base in variants[:a.variants]:
                st = fails.get((rank, vname), "ok")
                dev = 0.8 * base * factor / slow.get(rank, 1.0) * dslow.get(rank, 1.0)
                write_variant(inst, vname, role, tech, base, a, rng, factor, st, work, unit,
                              flops, 4.0 * 1024 * 1024, dev)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--ranks", type=int, default=4)
    p.add_argument("--first-rank", type=int, default=0, help="write ranks from here on")
    p.add_argument("--last-rank", type=int, default=-1, help="stop before this rank")
    p.add_argument("--gpus-per-node", type=int, default=2)
    p.add_argument("--node-prefix", default="node")
    p.add_argument("--first-node", type=int, default=1)
    p.add_argument("--run-id", default="run1")
    p.add_argument("--git-commit", default="0123456789abcdef0123456789abcdef01234567")
    p.add_argument("--hardware-key", default="2x_test_gpu")
    p.add_argument("--gpu-name", default="NVIDIA Test GPU")
    p.add_argument("--backend", default="cuda")
    p.add_argument("--targets", type=int, default=2)
    p.add_argument("--variants", type=int, default=3)
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--spread", type=float, default=0.005)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--slow", action="append", default=[], help="RANK:FACTOR")
    p.add_argument("--fail", action="append", default=[], help="RANK:VARIANT:STATUS")
    p.add_argument("--host-launch", action="append", default=[], help="VARIANT")
    p.add_argument("--device-slow", action="append", default=[], help="RANK:FACTOR")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    slow = {int(r): float(x) for r, x in (s.split(":") for s in a.slow)}
    fails = {(int(r), v): st for r, v, st in (s.split(":") for s in a.fail)}
    dslow = {int(r): float(x) for r, x in (s.split(":") for s in a.device_slow)}
    last = a.ranks if a.last_rank < 0 else a.last_rank
    for r in range(a.first_rank, last):
        write_rank(a, r, slow, fails, dslow)
    return 0


if __name__ == "__main__":
    sys.exit(main())
