#!/usr/bin/python3
"""overhead.py - the runner's own cost on the host backend, and its timed
region against the same kernel in a bare loop (bench/host/bare_loop.c).

For each case (a target and its parameters) and each round, in turn:
  1. `aisp bench run` with a fixed iteration count (no adaptive stop), its
     ranks preloaded with the PMPI shim (bench/host/mpi_idle.c): wall time of
     the whole process, MPI_Init time, and from the rank file the samples,
     the worker's time per item (elapsed_s) and worker_start_ms/open_ms;
  2. bare_loop with the same parameters, iterations, warm-up and seed: the
     target's own untimed work (setup, verify, warm-up) and its timed region
     without the runner.
Rounds alternate aisp and bare so that a load change on a shared machine
hits both. Medians over rounds are reported.

  runner overhead = wall - timed regions - target's untimed work
                    (split: MPI_Init, worker start, per-item rest)

Writes the markdown section body to stdout and raw rows to --log.
  overhead.py --aisp A --bare B [--shim S] --work DIR [--rounds N] [--log F]
              [--backend host|cuda]
Without --shim (no MPI profiling library), MPI_Init is not split out.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import h5py

# Per backend: (label, target, params, variants or None, iterations, warmup).
CASES = {
    "host": [
        ("trivial", "test:fault", {"mode": 0, "ms": 0}, ["baseline_fault"], 1, 0),
        ("test:fault ms=2", "test:fault", {"mode": 0, "ms": 2}, None, 20, 3),
        # 20 items of ~60 ms (verify + one timed iteration of 20..39 ms): the
        # rank's cost per item, the fixed part of "trivial" taken away
        ("test:fault 20 items", "test:fault", {"mode": 0, "ms": list(range(20, 40))},
         ["baseline_fault"], 1, 0),
        ("ch01:gemm", "ch01:gemm", {}, None, 10, 2),
        ("ch01:performance", "ch01:performance", {}, None, 20, 3),
    ],
    "cuda": [  # the timer-agreement case first: the log is rewritten after each case
        ("ch01:gemm", "ch01:gemm", {}, None, 1000, 50),
        ("trivial", "ch01:gemm", {"m": 1, "n": 1, "k": 1, "batch": 1},
         ["optimized_gemm_strided"], 1, 0),
        ("ch01:gemm 20 items", "ch01:gemm", {"m": 1, "n": 1, "k": 1,
                                              "batch": list(range(1, 21))},
         ["optimized_gemm_strided"], 1, 0),
    ],
}
SEED = 42


def job_yaml(name, target, params, variants, iters, warmup):
    """A job file text for one target with fixed iteration counts."""
    lines = [f"name: {name}", f"iterations: {iters}", f"warmup: {warmup}",
             f"max_iterations: {iters}", "time_budget_s: 600", "ci_target: 1",
             f"seed: {SEED}", "mode: every", "targets:", f"  - target: {target}"]
    if variants:
        lines.append(f"    variants: [{', '.join(variants)}]")
    fixed = {k: v for k, v in params.items() if not isinstance(v, list)}
    swept = {k: v for k, v in params.items() if isinstance(v, list)}
    if fixed:
        kv = ", ".join(f"{k}: {v}" for k, v in fixed.items())
        lines.append(f"    params: {{{kv}}}")
    if swept:
        kv = ", ".join(f"{k}: [{', '.join(str(x) for x in v)}]" for k, v in swept.items())
        lines.append(f"    sweep: {{{kv}}}")
    return "\n".join(lines) + "\n"


def read_kv(path):
    """A 'key value' file as a dict of floats."""
    out = {}
    with open(path) as f:
        for line in f:
            k, v = line.split()
            out[k] = float(v)
    return out


def read_rank_file(path):
    """Per variant: samples, elapsed_s, worker start/open of a rank file."""
    out = {}
    with h5py.File(path, "r") as f:
        for iname, inst in f["targets"].items():
            for vname, g in inst.items():
                a = g.attrs
                out[vname if len(f["targets"]) == 1 else f"{iname}/{vname}"] = {
                    "status": a["status"],
                    "samples": g["samples_ms"][:].tolist(),
                    "elapsed_ms": float(a["elapsed_s"]) * 1e3,
                    "start_ms": float(a.get("worker_start_ms", 0.0)),
                    "open_ms": float(a.get("worker_open_ms", 0.0)),
                }
    return out


def run_aisp(a, case, work, rnd):
    """One `aisp bench run` of case; its wall time, shim and rank-file facts."""
    label, target, params, variants, iters, warmup = case
    tag = f"{label.replace(' ', '_').replace(':', '_').replace('=', '')}-{rnd}"
    job = os.path.join(work, f"job-{tag}.yaml")
    out = os.path.join(work, f"run-{tag}")
    mpi = os.path.join(work, f"mpi-{tag}")
    shutil.rmtree(out, ignore_errors=True)  # aisp refuses an --out that holds a run
    os.makedirs(mpi, exist_ok=True)
    with open(job, "w") as f:
        f.write(job_yaml(tag, target, params, variants, iters, warmup))
    env = dict(os.environ, AISP_BENCH_MPI_DIR=mpi)
    if a.shim:
        env["LD_PRELOAD"] = a.shim
    cmd = [a.aisp, "bench", "run", "--job", job, "--backend", a.backend, "--out", out]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = (time.perf_counter() - t0) * 1e3
    if p.returncode:
        sys.exit(f"overhead: {' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
    nan = float("nan")
    shim = (read_kv(os.path.join(mpi, "mpi-rank-00000.txt")) if a.shim
            else {"init_s": nan, "finalize_s": nan})
    return {"wall_ms": wall, "init_ms": shim["init_s"] * 1e3, "fin_ms": shim["finalize_s"] * 1e3,
            "variants": read_rank_file(os.path.join(out, "rank-00000.h5")),
            "cmd": " ".join(cmd)}


def run_bare(a, case):
    """bare_loop over the variants of case; per variant its phases and timings."""
    label, target, params, variants, iters, warmup = case
    cmd = [a.bare, "--target", target, "--iters", str(iters), "--warmup", str(warmup),
           "--seed", str(SEED), "--backend", a.backend]
    swept = [(k, v) for k, v in params.items() if isinstance(v, list)]
    points = [dict(params, **{swept[0][0]: x}) for x in swept[0][1]] if swept else [params]
    out = {}
    for pt in points:  # one bare run per instance (sweeps: one parameter at most)
        pcmd = cmd + (["--params", ",".join(f"{k}={v}" for k, v in pt.items())] if pt else [])
        for v in variants or [None]:
            p = subprocess.run(pcmd + (["--variant", v] if v else []), capture_output=True,
                               text=True)
            if p.returncode:
                sys.exit(f"overhead: {' '.join(pcmd)} failed: {p.stderr}")
            for line in p.stdout.splitlines():
                f = line.split()
                key = f[2] if not swept else f"{pt[swept[0][0]]}/{f[2]}"
                out[key] = {k: float(x) for k, x in (kv.split("=") for kv in f[3:])}
    return out


def round_row(run, bare):
    """The overhead split of one aisp run, using its paired bare run.

    rank: what the rank process spends outside its worker (wall - worker time
    per item - worker start - MPI_Init): exec, job, rank-file commits, pipe,
    MPI_Finalize. Measured inside one aisp run, so little noise.
    in_worker: worker time per item - timed - the target's untimed work as
    bare_loop timed it: the measuring loop's own cost (two processes
    subtracted, so noisy on a loaded machine)."""
    vs = run["variants"]
    timed = sum(sum(v["samples"]) for v in vs.values())
    untimed = sum(b["setup_ms"] + b["verify_ms"] + b["warmup_ms"] for b in bare.values())
    worker = sum(v["elapsed_ms"] for v in vs.values())
    start = sum(v["start_ms"] for v in vs.values())
    opened = sum(v["open_ms"] for v in vs.values())
    mpi = run["init_ms"] + run["fin_ms"]
    mpi = mpi if mpi == mpi else 0.0  # NaN: no shim
    rank = run["wall_ms"] - worker - start - mpi
    in_worker = worker - timed - untimed
    return {"items": len(vs), "wall": run["wall_ms"], "timed": timed, "untimed": untimed,
            "init": run["init_ms"], "fin": run["fin_ms"], "start": start, "open": opened, "rank": rank,
            "rank_item": rank / len(vs), "in_worker": in_worker,
            "rest": rank + in_worker}


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def lo(rows, key):
    return min(r[key] for r in rows)


def fsync_probe(work, n=20):
    """Median ms of write+fsync+rename of a 4 KiB file in work (the commit's floor)."""
    ts, path = [], os.path.join(work, "fsync.probe")
    for _ in range(n):
        t0 = time.perf_counter()
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"x" * 4096)
        os.fsync(fd)
        os.close(fd)
        os.rename(path + ".tmp", path)
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def report(results, rounds, fsync_ms):
    """Print the markdown body: overhead table, then timed-region table."""
    print("| case | items | wall ms | timed ms | target untimed ms | MPI_Init + Finalize ms |"
          " worker start ms (open) | rank side ms (min) | per item ms (min) | in worker ms |"
          " overhead % of wall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, rows, _ in results:
        pct = 100.0 * med(rows, "rest") / med(rows, "wall")
        print(f"| {label} | {rows[0]['items']} | {med(rows, 'wall'):.1f} | {med(rows, 'timed'):.1f}"
              f" | {med(rows, 'untimed'):.1f} | {med(rows, 'init'):.1f} + {med(rows, 'fin'):.1f} |"
              f" {med(rows, 'start'):.2f}"
              f" ({med(rows, 'open'):.3f}) | {med(rows, 'rank'):.1f} ({lo(rows, 'rank'):.1f}) |"
              f" {med(rows, 'rank_item'):.1f} ({lo(rows, 'rank_item'):.1f}) |"
              f" {med(rows, 'in_worker'):.1f} | {pct:.1f} |")
    by = {label: rows for label, rows, _ in results}
    many = next((label for label in by if label.endswith(" 20 items")), None)
    if "trivial" in by and many:
        n = by[many][0]["items"] - 1
        per = [(f(by[many], k) - f(by["trivial"], k)) / n
               for f in (med, lo) for k in ("rank", "in_worker")]
        print(f"\nPer item beyond the first (20-item run minus the 1-item run, / {n}):"
              f" rank side {per[0]:.2f} ms (from minima: {per[2]:.2f} ms), in worker"
              f" {per[1]:.2f} ms (from minima: {per[3]:.2f} ms).")
    print(f"\nMedians (and minima) of {rounds} rounds. *rank side* = wall - worker time on the items"
          " - worker start - MPI_Init - MPI_Finalize: exec and exit, job resolution, the worker pipe"
          " and the rank file's commits (at open and close, and after each item that took longer"
          " than ten commits: a rewrite of the whole file plus fsync; fsync of a 4 KiB file"
          f" here: {fsync_ms:.1f} ms median). *in worker* ="
          " worker time - timed - target untimed: the measuring loop's own cost (noisy: two"
          " processes subtracted). *target untimed*: the target's own setup, verify and warm-up as"
          " bare_loop times them (the target's cost, not the runner's). *overhead* = rank side +"
          " in worker, without MPI start/stop and worker start (once per rank). MPI nan: not"
          " measured (no PMPI shim), then it is in *rank side*.\n")
    print("| case | variant | aisp median ms | bare median ms | aisp / bare (range over rounds) |"
          " aisp min / bare min | aisp mean ms | bare block mean ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, rows, pairs in results:
        if label == "trivial" or set(pairs[0][0]["variants"]) != set(pairs[0][1]):
            continue  # nothing timed, or a sweep (instances named differently)
        for v in pairs[0][0]["variants"]:
            am = [statistics.median(r["variants"][v]["samples"]) for r, _ in pairs]
            bm = [b[v]["median_ms"] for _, b in pairs]
            ratios = [x / y for x, y in zip(am, bm)]
            amin = min(min(r["variants"][v]["samples"]) for r, _ in pairs)
            bmin = min(b[v]["min_ms"] for _, b in pairs)
            amean = statistics.median(statistics.fmean(r["variants"][v]["samples"]) for r, _ in pairs)
            bblock = statistics.median(b[v]["block_mean_ms"] for _, b in pairs)
            print(f"| {label} | {v} | {statistics.median(am):.4f} | {statistics.median(bm):.4f} |"
                  f" {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) |"
                  f" {amin / bmin:.3f} | {amean:.4f} | {bblock:.4f} |")


def variant_log(pairs):
    """Per variant, per round: aisp median/mean/min/n and the bare loop's figures."""
    out = {}
    if set(pairs[0][0]["variants"]) != set(pairs[0][1]):
        return out
    for v in pairs[0][0]["variants"]:
        out[v] = [{"aisp_median_ms": statistics.median(r["variants"][v]["samples"]),
                   "aisp_mean_ms": statistics.fmean(r["variants"][v]["samples"]),
                   "aisp_min_ms": min(r["variants"][v]["samples"]),
                   "aisp_n": len(r["variants"][v]["samples"]),
                   "start_ms": r["variants"][v]["start_ms"], "open_ms": r["variants"][v]["open_ms"],
                   "bare": b[v]} for r, b in pairs]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aisp", required=True)
    ap.add_argument("--bare", required=True)
    ap.add_argument("--shim")
    ap.add_argument("--backend", choices=["host", "cuda"], default="host")
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    results = []
    for case in CASES[a.backend]:
        rows, pairs = [], []
        for rnd in range(a.rounds):
            run = run_aisp(a, case, a.work, rnd)
            bare = run_bare(a, case)
            rows.append(round_row(run, bare))
            pairs.append((run, bare))
        results.append((case[0], rows, pairs))
        print(f"overhead: {case[0]} done", file=sys.stderr)
        with open(a.log or os.devnull, "w") as log:  # after each case: a cut run keeps some
            json.dump([{"case": l, "rows": rows, "variants": variant_log(pairs)}
                       for l, rows, pairs in results], log, indent=1)
    report(results, a.rounds, fsync_probe(a.work))


if __name__ == "__main__":
    main()
