#!/usr/bin/python3
"""dispatch.py - `--mode spread` with 1000 tiny work items (bench/host/
dispatch1000.yaml) over 1, 2, 4 and 8 ranks (mpirun --oversubscribe):
items per second, and per rank where its time went, from the PMPI shim
(bench/host/mpi_idle.c) and the rank files:

  span      MPI_Init returned -> MPI_Finalize (the rank's whole run)
  work      sum of elapsed_s of its items (the worker measuring them)
  wait      blocked in MPI_Recv (asking rank 0 for the next item) plus the
            final exit-status agreement (waiting for the slowest rank)
  other     span - work - wait: the rank's own cost per item (worker pipe
            round trip, the rank file's commit, rank 0 serving the others)

  span ms/item  the run's span / items: what an item adds to the sweep's
                wall time (the items themselves take ~10 us)
  rank ms/item  sum over ranks of (span - work) / items: rank-time spent on
                an item beyond its measurement; with more ranks than cores
                it counts CPU sharing (ranks x span on 2 cores)
  cpu ms/item   CPU time of all processes (ranks, workers, mpirun) / items

  dispatch.py --aisp A --shim S --job J --work DIR [--ranks 1,2,4,8] [--log F]
Prints the markdown section body on stdout.
"""
import argparse
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import h5py


def read_kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, v = line.split()
            out[k] = float(v)
    return out


def rank_items(path):
    """(items, seconds of worker time, bytes) of one rank file."""
    n, work = 0, 0.0
    with h5py.File(path, "r") as f:
        for inst in f["targets"].values():
            for g in inst.values():
                n += 1
                work += float(g.attrs["elapsed_s"])
    return n, work, os.path.getsize(path)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(a, np):
    """One mpirun of the job over np ranks; per-rank rows and totals."""
    out = os.path.join(a.work, f"run-np{np}")
    mpi = os.path.join(a.work, f"mpi-np{np}")
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(mpi, ignore_errors=True)
    os.makedirs(mpi)
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(np),
           "-x", f"LD_PRELOAD={a.shim}", "-x", f"AISP_BENCH_MPI_DIR={mpi}",
           a.aisp, "bench", "run", "--job", a.job, "--backend", "host", "--out", out]
    cpu0, t0 = children_cpu(), time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - cpu0
    if p.returncode:
        sys.exit(f"dispatch: {' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    ranks = []
    for r in range(np):
        s = read_kv(os.path.join(mpi, f"mpi-rank-{r:05d}.txt"))
        n, work, size = rank_items(os.path.join(out, f"rank-{r:05d}.h5"))
        wait = s["recv_s"] + s["last_coll_s"]
        ranks.append({"rank": r, "items": n, "span": s["span_s"], "work": work, "wait": wait,
                      "recv": s["recv_s"], "end_wait": s["last_coll_s"],
                      "other": s["span_s"] - work - wait, "init": s["init_s"],
                      "bytes": size, "probes": s["probe_n"]})
    items = sum(r["items"] for r in ranks)
    return {"np": np, "wall": wall, "cpu": cpu, "items": items, "ranks": ranks,
            "span": max(r["span"] for r in ranks), "cmd": " ".join(cmd[:5] + cmd[9:])}


def report(runs):
    print("| ranks | items | wall s | run span s | items/s | span ms/item | rank ms/item |"
          " cpu ms/item | idle per rank s (mean, max) | biggest rank file MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        rk = r["ranks"]
        busy = sum(x["span"] - x["work"] for x in rk)
        idle = [x["wait"] for x in rk]
        print(f"| {r['np']} | {r['items']} | {r['wall']:.2f} | {r['span']:.2f} |"
              f" {r['items'] / r['span']:.1f} | {1e3 * r['span'] / r['items']:.2f} |"
              f" {1e3 * busy / r['items']:.2f} |"
              f" {1e3 * r['cpu'] / r['items']:.2f} | {sum(idle) / len(idle):.2f}, {max(idle):.2f} |"
              f" {max(x['bytes'] for x in rk) / 2**20:.1f} |")
    print("\nPer rank (items; span, work, waiting for an item, end wait, other; s):\n")
    print("| ranks | per rank: items / span / work / wait item / end wait / other |")
    print("|---:|---|")
    for r in runs:
        cells = "; ".join(f"r{x['rank']}: {x['items']} / {x['span']:.2f} / {x['work']:.3f} /"
                          f" {x['recv']:.2f} / {x['end_wait']:.2f} / {x['other']:.2f}"
                          for x in r["ranks"])
        print(f"| {r['np']} | {cells} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aisp", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--job", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ranks", default="1,2,4,8")
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    runs = []
    for np in (int(x) for x in a.ranks.split(",")):
        runs.append(run_once(a, np))
        print(f"dispatch: {np} ranks: {runs[-1]['wall']:.1f} s", file=sys.stderr)
    with open(a.log or os.devnull, "w") as log:
        json.dump(runs, log, indent=1)
    report(runs)
    print(f"\nCommand: `{runs[-1]['cmd']}` (with the PMPI shim preloaded).")


if __name__ == "__main__":
    main()
