#!/usr/bin/env python3
"""torch_gemm.py - the PyTorch peer of ch01:gemm, timed the way aisp times:
CUDA events around one iteration, warm-up first, median of many.

Same shapes as the target (batch x (m x k) @ (k x n), FP32, random uniform
(-1, 1) inputs): 40 separate torch.mm calls, and one torch.bmm, each in pure
FP32 and with TF32 allowed. Also the two ceilings: device-to-device copy
bandwidth (1 GiB, bytes read + written) and the same for a copy the size of
the GEMM working set (L2-resident when repeated).

    python3 bench/torch_gemm.py [--iters 1000] [--json OUT.json]
"""
import argparse
import json
import statistics

import torch


def time_ms(fn, iters, warmup=20):
    """Median and p10/p90 of per-call event times of fn (ms)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    end = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        start[i].record()
        fn()
        end[i].record()
    torch.cuda.synchronize()
    t = sorted(s.elapsed_time(e) for s, e in zip(start, end))
    return {"median_ms": statistics.median(t), "p10_ms": t[len(t) // 10],
            "p90_ms": t[(9 * len(t)) // 10], "n": len(t)}


def copy_tbs(nbytes, iters):
    """Copy bandwidth in TB/s counting bytes read plus bytes written."""
    x = torch.empty(nbytes // 4, device="cuda").uniform_()
    y = torch.empty_like(x)
    r = time_ms(lambda: y.copy_(x), iters)
    return 2.0 * nbytes / (r["median_ms"] * 1e-3) / 1e12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--json")
    a = ap.parse_args()

    torch.manual_seed(42)
    A = torch.rand(a.batch, a.m, a.k, device="cuda") * 2 - 1
    B = torch.rand(a.batch, a.k, a.n, device="cuda") * 2 - 1
    C = torch.empty(a.batch, a.m, a.n, device="cuda")
    ref = torch.bmm(A.double(), B.double())
    nbytes = 4 * a.batch * (a.m * a.k + a.k * a.n + a.m * a.n)

    def separate():
        for i in range(a.batch):
            torch.mm(A[i], B[i], out=C[i])

    def batched():
        torch.bmm(A, B, out=C)

    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "cuda": torch.version.cuda, "shape": [a.batch, a.m, a.n, a.k],
           "bytes": nbytes, "results": {}}
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for name, fn in (("40x torch.mm", separate), ("torch.bmm", batched)):
            C.fill_(float("nan"))
            fn()
            torch.cuda.synchronize()
            err = ((C.double() - ref).norm() / ref.norm()).item()
            r = time_ms(fn, a.iters if name == "torch.bmm" else max(a.iters // 4, 50))
            r["rel_error"] = err
            out["results"]["%s %s" % (name, "tf32" if tf32 else "fp32")] = r
    torch.backends.cuda.matmul.allow_tf32 = False
    out["copy_tbs_1GiB"] = copy_tbs(1 << 30, 20)
    out["copy_tbs_working_set"] = copy_tbs(nbytes // 2 // 4 * 4, 200)

    print("torch %s cuda %s on %s" % (out["torch"], out["cuda"], out["device"]))
    print("%-22s %10s %10s %10s %10s" % ("peer", "median_ms", "p10_ms", "p90_ms", "rel_err"))
    for k, r in out["results"].items():
        print("%-22s %10.4f %10.4f %10.4f %10.2e" % (k, r["median_ms"], r["p10_ms"],
                                                      r["p90_ms"], r["rel_error"]))
    print("copy 1 GiB: %.3f TB/s; copy of the %.1f MB working set: %.3f TB/s"
          % (out["copy_tbs_1GiB"], nbytes / 1e6, out["copy_tbs_working_set"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
