#!/usr/bin/env python3
"""timer_table.py - the timer-agreement table of a GPU overhead session:
aisp's median per ch01:gemm variant (bench/host/overhead.py --backend cuda,
median over rounds) against
  bare   the same target code in bench/host/bare_loop (own events; and one
         event pair around all iterations: no per-iteration sync),
  peer   the same cuBLAS calls from Python, PyTorch events
         (bench/gpu/timer_peer.py),
  ncu    Nsight Compute gpu__time_duration of the peer's kernels, summed per
         iteration (kernels only: no launch gaps, so below an event timer for
         the multi-launch variants),
  torch  PyTorch's own path (torch.mm per GEMM / torch.bmm), for reference.
Goal: aisp within 3% of the independent timer.

  timer_table.py --overhead overhead.json --peer peer.json [--ncu-dir DIR]
                 [--ncu-iters N]
"""
import argparse
import csv
import glob
import json
import os
import statistics

TORCH_PEER = {"baseline_gemm": "torch_mm_x_batch", "optimized_gemm_strided": "torch_bmm",
              "optimized_gemm_batched": "torch_bmm"}


def ncu_per_iter(path, iters):
    """Summed gpu__time_duration (ms) of the kernels in an ncu CSV, per iteration."""
    total, kernels = 0.0, 0
    with open(path) as f:
        rows = csv.reader(line for line in f if line.startswith('"'))
        head = next(rows, None)
        if not head or "Metric Value" not in head:
            return None, 0
        name, unit, val = (head.index(k) for k in ("Metric Name", "Metric Unit", "Metric Value"))
        for r in rows:
            if r[name] != "gpu__time_duration.sum":
                continue
            scale = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3,
                     "msecond": 1.0, "ms": 1.0}.get(r[unit], 1e-6)
            total += float(r[val].replace(",", "")) * scale
            kernels += 1
    return (total / iters if kernels else None), kernels


def fmt(x, digits=4):
    return "-" if x is None else f"{x:.{digits}f}"


def ratio(x, y):
    return "-" if x is None or y is None or y == 0 else f"{x / y:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--overhead", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--ncu-dir")
    ap.add_argument("--ncu-iters", type=int, default=10)
    a = ap.parse_args()
    case = next(c for c in json.load(open(a.overhead)) if c["case"] == "ch01:gemm")
    peer = json.load(open(a.peer))["variants"] if os.path.exists(a.peer) else {}
    print("| variant | aisp median ms | bare median ms | bare block mean ms | peer (same cuBLAS"
          " calls) ms | aisp / peer | ncu kernels ms/iter (kernels) | aisp / ncu |"
          " PyTorch path ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for v, rounds in case["variants"].items():
        am = statistics.median(r["aisp_median_ms"] for r in rounds)
        bm = statistics.median(r["bare"]["median_ms"] for r in rounds)
        bb = statistics.median(r["bare"]["block_mean_ms"] for r in rounds)
        pm = peer.get(v, {}).get("median_ms")
        nm, nk = None, 0
        path = os.path.join(a.ncu_dir or "", f"ncu_{v}.csv")
        if a.ncu_dir and os.path.exists(path):
            nm, nk = ncu_per_iter(path, a.ncu_iters)
        tp = peer.get(TORCH_PEER.get(v, ""), {}).get("median_ms")
        print(f"| {v} | {am:.4f} | {bm:.4f} | {bb:.4f} | {fmt(pm)} | {ratio(am, pm)} |"
              f" {fmt(nm)} ({nk}) | {ratio(am, nm)} | {fmt(tp)} |")
    starts = [r["start_ms"] for rs in case["variants"].values() for r in rs if r["start_ms"]]
    opens = [r["open_ms"] for rs in case["variants"].values() for r in rs if r["open_ms"]]
    if starts:
        print(f"\nWorker start (spawn to ready) {statistics.median(starts):.1f} ms, of which CUDA"
              f" context, stream, cuBLAS handle and workspace (backend open)"
              f" {statistics.median(opens):.1f} ms (median of {len(starts)} runs).")
    print(f"\nrounds: {len(next(iter(case['variants'].values())))}; ncu files: "
          f"{sorted(os.path.basename(p) for p in glob.glob(os.path.join(a.ncu_dir or '.', 'ncu_*.csv')))}")


if __name__ == "__main__":
    main()
