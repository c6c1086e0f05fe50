#!/usr/bin/env python3
"""perf_fp16_emulation.py - numpy emulation of ch01:performance's fused FP16
step with FP32 master weights, against a per-step float64 (or float32)
reference: the per-tensor update errors that the CUDA check's bounds are set
from (notes/performance.md), and what one skipped step of the iteration does
to each tensor.

The emulated step rounds to FP16 what the GPU stores in FP16 (the data, the
weight and bias copies, h1, h2, dz, dh2, dh1) and computes in FP32 what the
GPU computes in FP32 (GEMM sums of exact FP16 products, logits, softmax, the
masters' updates). Its own random data (same distributions as mlp_ref.h);
numpy sums in another order than the tensor cores. Per step: relative update
error ||(w - w0) - (ref - w0)|| / ||ref - w0|| of W1 b1 W2 b2 W3 b3.

  python3 bench/perf_fp16_emulation.py [--size 256] [--steps 8] [--ref 64|32]
                                      [--skip STEP] [--seed 1]

--size sets input = hidden (the book's 8192 takes over an hour of CPU with
numpy's reference BLAS); --skip STEP also trains the reference without that
step's update and prints its error (-1: no such run).
"""
import argparse
import time

import numpy as np


def half(a):
    """a rounded to FP16, as FP32."""
    return a.astype(np.float16).astype(np.float32)


def softmax_grad(z, y):
    """Loss of logits z (rows) with labels y and dz = softmax - onehot."""
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y]))
    p[np.arange(len(y)), y] -= 1
    return loss, p


def step_ref(P, xb, yb, dt, lr, skip=False):
    """One SGD step in dtype dt on the mean loss; returns (params, loss)."""
    W1, b1, W2, b2, W3, b3 = P
    xb = xb.astype(dt)
    h1 = np.maximum(xb @ W1.T + b1, 0)
    h2 = np.maximum(h1 @ W2.T + b2, 0)
    loss, dz = softmax_grad(h2 @ W3.T + b3, yb)
    dz /= len(yb)
    dh2 = (dz @ W3) * (h2 > 0)
    dh1 = (dh2 @ W2) * (h1 > 0)
    if skip:
        return P, loss
    G = [dh1.T @ xb, dh1.sum(0), dh2.T @ h1, dh2.sum(0), dz.T @ h2, dz.sum(0)]
    return [p - lr * g for p, g in zip(P, G)], loss


def step_fp16(M, xb, yb, lr):
    """One fused step as the GPU does it: FP16 copies, FP32 masters M."""
    W1, b1, W2, b2, W3, b3 = M
    xh = half(xb)
    h1 = half(np.maximum(xh @ half(W1).T + half(b1), 0))
    h2 = half(np.maximum(h1 @ half(W2).T + half(b2), 0))
    loss, dz = softmax_grad(h2 @ half(W3).T + b3, yb)
    dz = half(dz)  # the summed loss's gradient; 1/B is in alpha
    dh2 = half((dz @ half(W3)) * (h2 > 0))
    dh1 = half((dh2 @ half(W2)) * (h1 > 0))
    a = np.float32(-lr / len(yb))
    G = [dh1.T @ xh, dh1.sum(0), dh2.T @ h1, dh2.sum(0), dz.T @ h2, dz.sum(0)]
    return [(m + a * g).astype(np.float32) for m, g in zip(M, G)], loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--ref", type=int, choices=(32, 64), default=64)
    ap.add_argument("--skip", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    I = H = a.size
    C, B, lr = 10, 256, 0.01
    dt = np.float64 if a.ref == 64 else np.float32
    rng = np.random.default_rng(a.seed)
    x = rng.uniform(-1, 1, (B * a.steps, I)).astype(np.float32)
    y = np.argmax(x.astype(np.float64) @ rng.uniform(-1, 1, (C, I)).T, axis=1)
    P0 = []
    for fin, fout in ((I, H), (H, H), (H, C)):
        bound = 1 / np.sqrt(fin)
        P0 += [rng.uniform(-bound, bound, (fout, fin)).astype(np.float32),
               rng.uniform(-bound, bound, fout).astype(np.float32)]

    def train(fp16, skip=-1):
        P, L = ([p.copy() for p in P0] if fp16 else [p.astype(dt) for p in P0]), []
        for t in range(a.steps):
            sl = slice(t * B, (t + 1) * B)
            if fp16:
                P, l = step_fp16(P, x[sl], y[sl], lr)
            else:
                P, l = step_ref(P, x[sl], y[sl], dt, lr, skip=t == skip)
            L.append(l)
        return P, L

    t0 = time.time()
    ref, Lr = train(False)
    got, Lg = train(True)
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]

    def err(P, k):
        u = ref[k] - P0[k].astype(np.float64)
        return np.linalg.norm(P[k].astype(np.float64) - ref[k]) / np.linalg.norm(u)

    print(f"size {I}, {a.steps} steps of {B}, reference float{a.ref}, {time.time() - t0:.0f} s")
    rel = np.linalg.norm(np.array(Lg) - Lr) / np.linalg.norm(Lr)
    print(f"loss ref {Lr[0]:.5f}->{Lr[-1]:.5f}, fp16 {Lg[0]:.5f}->{Lg[-1]:.5f}, rel err {rel:.1e}")
    print("fp16 update err:", " ".join(f"{n} {err(got, k):.2e}" for k, n in enumerate(names)))
    if 0 <= a.skip < a.steps:
        skip, _ = train(False, a.skip)
        print(f"step {a.skip} skipped:", " ".join(f"{n} {err(skip, k):.2e}"
                                                 for k, n in enumerate(names)))


if __name__ == "__main__":
    main()
