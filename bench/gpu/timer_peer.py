#!/usr/bin/env python3
"""timer_peer.py - an independent timer for ch01:gemm on CUDA: the same cuBLAS
calls that kernels/ch01/gemm.cu makes (cublasSgemm x batch, cublasSgemmBatched,
cublasSgemmStridedBatched, and the separate calls captured into a CUDA graph),
issued from Python through ctypes on a handle of our own (CUBLAS_DEFAULT_MATH,
pointer mode host, a 32 MiB workspace, as runner/backend_cuda.c sets it up),
on PyTorch's memory and stream, timed with PyTorch CUDA events around one
iteration (warm-up first, median of --iters). Also PyTorch's own path for the
same work (torch.mm per GEMM, torch.bmm), FP32 without TF32.

Nothing of aisp is used: no harness, no backend, no event of ours.
Prints one line per variant and writes --json:
  peer VARIANT median_ms=.. p10_ms=.. p90_ms=.. n=..

  python3 bench/gpu/timer_peer.py [--iters 1000] [--m 32 --n 256 --k 256 --batch 40]
                                  [--json OUT] [--nvtx VARIANT]
--nvtx V runs only V for --iters iterations inside an NVTX range "timed" (for
ncu --nvtx --nvtx-include timed/ ...).
"""
import argparse
import ctypes
import glob
import json
import os
import statistics

import torch

CUBLAS_OP_N = 0
CUBLAS_DEFAULT_MATH = 0
CUBLAS_POINTER_MODE_HOST = 0


def load_cublas():
    """libcublas: the copy PyTorch loaded, else the toolkit's, else a wheel's."""
    names = ["libcublas.so.13", "libcublas.so.12", "libcublas.so"]
    cands = names + sorted(glob.glob("/usr/local/cuda/lib64/libcublas.so*"))
    for p in torch.__path__ + [os.path.dirname(torch.__path__[0])]:
        cands += sorted(glob.glob(os.path.join(p, "**", "libcublas.so*"), recursive=True))
    for c in cands:
        try:
            lib = ctypes.CDLL(c)
            lib.cublasCreate_v2
            return lib, c
        except (OSError, AttributeError):
            continue
    raise SystemExit("timer_peer: no libcublas found")


class Peer:
    """A cuBLAS handle of our own on PyTorch's current stream."""

    def __init__(self, a):
        self.lib, self.path = load_cublas()
        self.a = a
        vp, i = ctypes.c_void_p, ctypes.c_int
        self.handle = vp()
        self.check(self.lib.cublasCreate_v2(ctypes.byref(self.handle)), "create")
        self.stream = torch.cuda.current_stream()
        self.bind(self.stream)
        self.ws = torch.empty(32 << 20, dtype=torch.uint8, device="cuda")
        self.check(self.lib.cublasSetWorkspace_v2(self.handle, vp(self.ws.data_ptr()),
                                                  ctypes.c_size_t(32 << 20)), "workspace")
        self.check(self.lib.cublasSetMathMode(self.handle, i(CUBLAS_DEFAULT_MATH)), "math")
        self.check(self.lib.cublasSetPointerMode_v2(self.handle, i(CUBLAS_POINTER_MODE_HOST)),
                   "pointer mode")
        self.one, self.zero = ctypes.c_float(1.0), ctypes.c_float(0.0)
        g = torch.Generator(device="cuda").manual_seed(42)
        b, m, n, k = a.batch, a.m, a.n, a.k
        self.A = torch.rand(b, m, k, device="cuda", generator=g) * 2 - 1
        self.B = torch.rand(b, k, n, device="cuda", generator=g) * 2 - 1
        self.C = torch.empty(b, m, n, device="cuda")
        ptrs = lambda t: torch.tensor([t[j].data_ptr() for j in range(b)], dtype=torch.int64,
                                      device="cuda")
        self.Ap, self.Bp, self.Cp = ptrs(self.A), ptrs(self.B), ptrs(self.C)

    @staticmethod
    def check(status, what):
        if status != 0:
            raise SystemExit(f"timer_peer: cuBLAS {what}: status {status}")

    def bind(self, stream):
        self.check(self.lib.cublasSetStream_v2(self.handle, ctypes.c_void_p(stream.cuda_stream)),
                   "set stream")

    def separate(self):
        """batch cublasSgemm calls, row-major as C^T = B^T A^T (as gemm.cu)."""
        a, i, vp = self.a, ctypes.c_int, ctypes.c_void_p
        for j in range(a.batch):
            self.check(self.lib.cublasSgemm_v2(
                self.handle, i(CUBLAS_OP_N), i(CUBLAS_OP_N), i(a.n), i(a.m), i(a.k),
                ctypes.byref(self.one), vp(self.B[j].data_ptr()), i(a.n),
                vp(self.A[j].data_ptr()), i(a.k), ctypes.byref(self.zero),
                vp(self.C[j].data_ptr()), i(a.n)), "Sgemm")

    def batched(self):
        a, i, vp = self.a, ctypes.c_int, ctypes.c_void_p
        self.check(self.lib.cublasSgemmBatched(
            self.handle, i(CUBLAS_OP_N), i(CUBLAS_OP_N), i(a.n), i(a.m), i(a.k),
            ctypes.byref(self.one), vp(self.Bp.data_ptr()), i(a.n), vp(self.Ap.data_ptr()),
            i(a.k), ctypes.byref(self.zero), vp(self.Cp.data_ptr()), i(a.n), i(a.batch)),
            "SgemmBatched")

    def strided(self):
        a, i, vp, ll = self.a, ctypes.c_int, ctypes.c_void_p, ctypes.c_longlong
        self.check(self.lib.cublasSgemmStridedBatched(
            self.handle, i(CUBLAS_OP_N), i(CUBLAS_OP_N), i(a.n), i(a.m), i(a.k),
            ctypes.byref(self.one), vp(self.B.data_ptr()), i(a.n), ll(a.k * a.n),
            vp(self.A.data_ptr()), i(a.k), ll(a.m * a.k), ctypes.byref(self.zero),
            vp(self.C.data_ptr()), i(a.n), ll(a.m * a.n), i(a.batch)), "SgemmStridedBatched")

    def graph(self):
        """The separate calls captured once into a CUDA graph; returns its replay."""
        g = torch.cuda.CUDAGraph()
        side = torch.cuda.Stream()
        with torch.cuda.graph(g, stream=side):
            self.bind(side)
            self.separate()
        self.bind(self.stream)
        return g.replay

    def check_result(self):
        """Max relative error of C against a float64 product (catches a wrong call)."""
        ref = torch.bmm(self.A.double(), self.B.double())
        return float((self.C.double() - ref).abs().max() / ref.abs().max())


def time_ms(fn, iters, warmup=50):
    """Median, p10, p90 of per-iteration CUDA event times of fn (ms)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(iters):
        s.record()
        fn()
        e.record()
        e.synchronize()
        ts.append(s.elapsed_time(e))
    ts.sort()
    return {"median_ms": statistics.median(ts), "p10_ms": ts[len(ts) // 10],
            "p90_ms": ts[(9 * len(ts)) // 10], "n": len(ts)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--json")
    ap.add_argument("--nvtx")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    p = Peer(a)
    fns = {"baseline_gemm": p.separate, "optimized_gemm_batched": p.batched,
           "optimized_gemm_strided": p.strided}
    fns["optimized_gemm_graph"] = p.graph()
    if a.nvtx:
        fn = fns[a.nvtx]
        for _ in range(5):
            fn()
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_push("timed")
        for _ in range(a.iters):
            fn()
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_pop()
        return
    out = {"cublas": p.path, "shape": [a.m, a.n, a.k, a.batch], "variants": {}}
    for name, fn in fns.items():
        r = time_ms(fn, a.iters)
        torch.cuda.synchronize()
        r["rel_error"] = p.check_result()
        out["variants"][name] = r
        print(f"peer {name} median_ms={r['median_ms']:.6f} p10_ms={r['p10_ms']:.6f} "
              f"p90_ms={r['p90_ms']:.6f} n={r['n']} rel_error={r['rel_error']:.2e}", flush=True)
    A, B, C = p.A, p.B, p.C
    torch_fns = {"torch_mm_x_batch": lambda: [torch.mm(A[j], B[j], out=C[j])
                                              for j in range(a.batch)],
                 "torch_bmm": lambda: torch.bmm(A, B, out=C)}
    for name, fn in torch_fns.items():
        r = time_ms(fn, a.iters)
        out["variants"][name] = r
        print(f"peer {name} median_ms={r['median_ms']:.6f} p10_ms={r['p10_ms']:.6f} "
              f"p90_ms={r['p90_ms']:.6f} n={r['n']}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
