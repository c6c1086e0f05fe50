#!/usr/bin/env python3
"""Independent reader of aisp rank files (h5py + numpy), checked field by field.

usage: check_rankfiles.py RUN_DIR --ranks N --targets T1,T2 [--status complete]
Prints one line per failed check and exits 1 if any failed.
"""
import argparse
import glob
import math
import os
import sys

import h5py
import numpy as np

ROOT_STR = ["tool", "tool_version", "git_commit", "run_id", "job_name", "job_sha256",
            "command_line", "node", "hostname", "backend", "gpu_name", "gpu_uuid",
            "driver", "cuda_version", "hardware_key", "start_utc", "end_utc", "status"]
ROOT_INT = ["schema_version", "rank", "world_size", "local_rank", "local_size", "gpu_index", "seed"]
STATS = {"median_ms": 50, "p10_ms": 10, "p75_ms": 75, "p90_ms": 90, "p99_ms": 99}


def close(a, b):
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def check_variant(fail, where, g, run_ids):
    a = g.attrs
    s = np.asarray(g["samples_ms"][:], dtype=np.float64)
    if a["status"] != "ok":
        fail(f"{where}: status {a['status']}: {a['message']}")
        return
    if len(s) != a["n_samples"] or len(s) < a["iterations"]:
        fail(f"{where}: {len(s)} samples, n_samples {a['n_samples']}, iterations {a['iterations']}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        fail(f"{where}: samples not all finite and positive")
    for key, q in STATS.items():
        want = float(np.percentile(s, q))
        if not close(float(a[key]), want):
            fail(f"{where}: {key} {a[key]!r} != numpy {want!r}")
    if not close(float(a["min_ms"]), float(s.min())) or not close(float(a["max_ms"]), float(s.max())):
        fail(f"{where}: min/max differ from samples")
    if not close(float(a["mean_ms"]), float(s.mean())):
        fail(f"{where}: mean_ms {a['mean_ms']} != {s.mean()}")
    med = np.median(s)
    if not close(float(a["mad_ms"]), float(np.median(np.abs(s - med)))):
        fail(f"{where}: mad_ms differs")
    if a["role"] not in ("baseline", "optimized"):
        fail(f"{where}: role {a['role']}")
    if not (a["rel_error"] <= a["tolerance"]):
        fail(f"{where}: rel_error {a['rel_error']} > tolerance {a['tolerance']}")
    for sub in ("gpu_before", "gpu_after"):
        if sub not in g or "uuid" not in g[sub].attrs:
            fail(f"{where}: no {sub} facts")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--status", default="complete")
    o = ap.parse_args()
    bad = []
    fail = bad.append
    files = sorted(glob.glob(os.path.join(o.run_dir, "rank-*.h5")))
    if len(files) != o.ranks:
        fail(f"{len(files)} rank files, want {o.ranks}")
    run_ids = set()
    for i, path in enumerate(files):
        with h5py.File(path, "r") as f:
            for k in ROOT_STR:
                if not isinstance(f.attrs.get(k), str):
                    fail(f"{path}: root attribute {k} missing or not a string")
            for k in ROOT_INT:
                if not isinstance(f.attrs.get(k), (int, np.integer)):
                    fail(f"{path}: root attribute {k} missing or not an integer")
            if f.attrs.get("rank") != i or f.attrs.get("world_size") != o.ranks:
                fail(f"{path}: rank {f.attrs.get('rank')} / world {f.attrs.get('world_size')}")
            if f.attrs.get("status") != o.status:
                fail(f"{path}: status {f.attrs.get('status')}, want {o.status}")
            run_ids.add(f.attrs.get("run_id"))
            for t in o.targets.split(","):
                if f"targets/{t}" not in f:
                    fail(f"{path}: no /targets/{t}")
                    continue
                for v, g in f[f"targets/{t}"].items():
                    check_variant(fail, f"{path}:/targets/{t}/{v}", g, run_ids)
    if len(run_ids) != 1:
        fail(f"run ids differ between ranks: {run_ids}")
    for b in bad:
        print("FAIL", b)
    print(f"checked {len(files)} rank files: {'ok' if not bad else str(len(bad)) + ' failures'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
