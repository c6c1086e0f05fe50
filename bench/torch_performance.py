#!/usr/bin/env python3
"""torch_performance.py - the ch01:performance workload in PyTorch, the peer of
aisp's CUDA target: same MLP (input -> hidden -> ReLU -> hidden -> ReLU ->
classes), softmax cross-entropy, plain SGD, `microbatches` microbatches of
`microbatch` samples per iteration, one SGD step per `accum` microbatches.

  fp32_eager    autograd, FP32 weights (TF32 matmuls unless --no-tf32), per
                microbatch forward/backward, gradients accumulated, SGD step
                per group (the book's baseline_performance)
  fp16_fused    autograd, FP16 weights (model.half()), each group one batch
                of accum*microbatch, SGD step per batch (optimized_performance)
  amp_fused     autocast FP16 over FP32 master weights, fused groups
  fp16_graph    hand-written forward/backward, SGD folded into the weight-
                gradient GEMM (W.addmm_(dY^T, X, alpha=-lr/B)), one CUDA
                graph per iteration; FP16 weights without master copies, so
                most updates of W1/W2 round away (not aisp's workload: shown
                for the bytes it saves)
  fp16_graph_master  the same with FP32 master weights (aisp's in-scope
                scheme): the weight gradient in FP16, added to the FP32
                master, the FP16 copy refreshed (W1m.add_(g); W1.copy_(W1m))

Times one iteration with CUDA events; prints the median (and min/max) after
warm-up, plus the two ceilings (device copy, FP16 GEMM) of this GPU.

  python3 bench/torch_performance.py [--hidden 8192 ...] [--iters 20] [--only NAME,...]
"""
import argparse
import statistics

import torch
import torch.nn.functional as F


def make_model(a, dtype):
    m = torch.nn.Sequential(
        torch.nn.Linear(a.input, a.hidden), torch.nn.ReLU(),
        torch.nn.Linear(a.hidden, a.hidden), torch.nn.ReLU(),
        torch.nn.Linear(a.hidden, a.classes)).cuda()
    return m.to(dtype)


def fp32_eager(a, x, y):
    model = make_model(a, torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    xs, ys = x.float().split(a.microbatch), y.split(a.microbatch)

    def it():
        for g in range(0, a.microbatches, a.accum):
            opt.zero_grad(set_to_none=True)
            for m in range(g, g + a.accum):
                loss = F.cross_entropy(model(xs[m]), ys[m]) / a.accum
                loss.backward()
            opt.step()
    return it


def fp16_fused(a, x, y):
    model = make_model(a, torch.float16)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    B = a.microbatch * a.accum
    xs, ys = x.half().split(B), y.split(B)

    def it():
        for xb, yb in zip(xs, ys):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb).float(), yb).backward()
            opt.step()
    return it


def amp_fused(a, x, y):
    model = make_model(a, torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    B = a.microbatch * a.accum
    xs, ys = x.float().split(B), y.split(B)

    def it():
        for xb, yb in zip(xs, ys):
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.float16):
                out = model(xb)
            F.cross_entropy(out.float(), yb).backward()
            opt.step()
    return it


def fp16_graph(a, x, y, master=False):
    """Manual fused step: dz is the summed-loss gradient (scale B, undone in alpha).
    master: FP32 master weights and biases, FP16 copies refreshed after each update."""
    model = make_model(a, torch.float16)
    W1, b1, W2, b2, W3, b3 = [p.detach() for p in model.parameters()]
    M = [p.float() for p in (W1, b1, W2, b2, W3, b3)] if master else None
    B = a.microbatch * a.accum
    xs, ys = x.half().split(B), y.split(B)
    alpha = -a.lr / B
    rows = torch.arange(B, device="cuda")

    def update(k, w, grad_of):
        if master:
            M[k].add_(grad_of(), alpha=alpha)
            w.copy_(M[k])
        elif w.dim() == 2:
            w.addmm_(*grad_of(True), alpha=alpha)
        else:
            w.add_(grad_of().half(), alpha=alpha)

    def step(xb, yb):
        h1 = torch.relu(torch.addmm(b1, xb, W1.t()))
        h2 = torch.relu(torch.addmm(b2, h1, W2.t()))
        z = torch.addmm(b3, h2, W3.t()).float()
        dz = torch.softmax(z, 1)
        dz[rows, yb] -= 1.0
        dz = dz.half()
        dh2 = (dz @ W3) * (h2 > 0)
        update(4, W3, lambda f=False: (dz.t(), h2) if f else dz.t() @ h2)
        update(5, b3, lambda: dz.sum(0, dtype=torch.float32))
        dh1 = (dh2 @ W2) * (h1 > 0)
        update(2, W2, lambda f=False: (dh2.t(), h1) if f else dh2.t() @ h1)
        update(3, b2, lambda: dh2.sum(0, dtype=torch.float32))
        update(0, W1, lambda f=False: (dh1.t(), xb) if f else dh1.t() @ xb)
        update(1, b1, lambda: dh1.sum(0, dtype=torch.float32))

    def body():
        for xb, yb in zip(xs, ys):
            step(xb, yb)

    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(2):
            body()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        body()
    return graph.replay


def fp16_graph_master(a, x, y):
    return fp16_graph(a, x, y, master=True)


def time_it(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
          for _ in range(iters)]
    for a, b in ev:
        a.record()
        fn()
        b.record()
    torch.cuda.synchronize()
    ms = [a.elapsed_time(b) for a, b in ev]
    return statistics.median(ms), min(ms), max(ms)


def ceilings():
    """Device copy (bytes read + written) and an 8192^3 FP16 GEMM on random data."""
    n = 1 << 29
    src = torch.empty(n, dtype=torch.uint8, device="cuda").random_()
    dst = torch.empty_like(src)
    copy_ms, _, _ = time_it(lambda: dst.copy_(src), 3, 20)
    m = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
    gemm_ms, _, _ = time_it(lambda: m @ m, 3, 20)
    return 2 * n / copy_ms / 1e6, 2 * 8192 ** 3 / gemm_ms / 1e9


def main():
    ap = argparse.ArgumentParser()
    for k, d in (("input", 8192), ("hidden", 8192), ("classes", 10), ("microbatch", 32),
                 ("microbatches", 64), ("accum", 8)):
        ap.add_argument("--" + k, type=int, default=d)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only",
                    default="fp32_eager,fp16_fused,amp_fused,fp16_graph,fp16_graph_master")
    ap.add_argument("--no-tf32", action="store_true")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = not a.no_tf32
    torch.backends.cudnn.allow_tf32 = not a.no_tf32
    torch.manual_seed(0)
    n = a.microbatch * a.microbatches
    x = torch.rand(n, a.input, device="cuda") * 2 - 1
    y = torch.randint(0, a.classes, (n,), device="cuda")
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}; tf32 "
          f"{'on' if not a.no_tf32 else 'off'}; {n} samples/iteration")
    gbs, tfs = ceilings()
    print(f"ceilings: device copy {gbs:.0f} GB/s (read+write), fp16 gemm {tfs:.0f} TFLOP/s")
    for name in a.only.split(","):
        fn = globals()[name](a, x, y)
        med, lo, hi = time_it(fn, a.warmup, a.iters)
        print(f"torch {name:<12} median {med:9.3f} ms  min {lo:9.3f}  max {hi:9.3f}  "
              f"{n / med * 1e3:12.0f} samples/s")
        del fn
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
