#!/usr/bin/python3
"""check_fleet.py - independent numpy check of `aisp gather`'s numbers.

  check_fleet.py OUT_DIR RUN_DIR... [--z 3.5] [--min-delta 0.02]

Reads every rank-*.h5 of the run directories with h5py, recomputes per GPU
(median over runs of each run's sample median), per variant (fleet median,
p10, p90 of per-GPU medians with numpy's default linear quantiles, MAD,
robust z, outlier rule, noise within and between runs, noise floor and
detectable slowdown per target) and per instance (best optimized variant,
speedup), then compares with OUT_DIR/fleet.h5 and OUT_DIR/expectations_<hk>.json.
A host-launch-bound variant (attribute host_launch 1; absent in a CUDA file
from before it: the four variants flagged when it came) is judged by its
device_ms: per GPU the median of its runs', the fleet statistics, z and
outliers of those, device noise = max(run-to-run noise of device_ms, 0.001)
and its detectable slowdown, checked as fleet.h5 and judged_by/device_* of
the expectations hold them.
Files that are not readable aisp rank files are skipped, as gather does.
Prints one line per check; exits 1 on any mismatch.
"""
import argparse
import glob
import json
import math
import os
import sys
from collections import defaultdict
from statistics import NormalDist

import h5py
import numpy as np

RTOL = 1e-12
LEGACY = {("ch01:gemm", "baseline_gemm"), ("ch01:gemm", "optimized_gemm_batched"),
          ("ch01:gemm", "optimized_gemm_strided"), ("qual:launch", "baseline_stream")}


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_runs(dirs):
    """(hk, inst, var, gpu) -> {'meds': [...], 'ok': bool, 'node', 'role', ...}"""
    gpus = defaultdict(lambda: {"meds": [], "rel_mad": [], "n": [], "devs": [], "status": None})
    meta, launch = {}, defaultdict(bool)
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "rank-*.h5"))):
            try:
                f = h5py.File(path, "r")
            except OSError:
                continue
            with f:
                if s(f.attrs.get("tool", "")) != "aisp" or "schema_version" not in f.attrs:
                    continue
                hk, gpu, node = s(f.attrs["hardware_key"]), s(f.attrs["gpu_uuid"]), s(f.attrs["node"])
                backend = s(f.attrs.get("backend", ""))
                for inst, ig in f.get("targets", {}).items():
                    for var, vg in ig.items():
                        k = (hk, inst, var, gpu)
                        st = s(vg.attrs["status"])
                        smp = vg["samples_ms"][()] if "samples_ms" in vg else np.zeros(0)
                        e = gpus[k]
                        e["node"] = node
                        hl = vg.attrs.get("host_launch")
                        target = s(ig.attrs["target"])
                        launch[(hk, inst, var)] |= bool(hl) if hl is not None else \
                            backend == "cuda" and (target, var) in LEGACY
                        if st == "ok" and len(smp):
                            med = float(np.median(smp))
                            dev = float(vg.attrs.get("device_ms", math.nan))
                            e["devs"].append(dev if dev > 0 and math.isfinite(dev) else math.nan)
                            e["meds"].append(med)
                            e["rel_mad"].append(1.4826 * float(np.median(np.abs(smp - med))) / med)
                            e["n"].append(len(smp))
                            e["status"] = "ok"
                        elif e["status"] != "ok":
                            e["status"] = st
                        meta[(hk, inst, var)] = s(vg.attrs["role"])
    return gpus, meta, launch


def spread(values):
    """Fleet median, p10, p90, MAD, min, max of a list of per-GPU values."""
    m = np.array(sorted(values))
    if not len(m):
        return dict(median=math.nan, p10=math.nan, p90=math.nan, mad=math.nan, min=math.nan,
                    max=math.nan)
    fm = float(np.median(m))
    return dict(median=fm, p10=float(np.percentile(m, 10)), p90=float(np.percentile(m, 90)),
                mad=float(np.median(np.abs(m - fm))), min=float(m[0]), max=float(m[-1]))


def z_and_outliers(vals, st, z_thr, min_delta):
    """Robust z and the outlier rule of per-GPU values vals against st."""
    z, outl = {}, {}
    fm, mad = st["median"], st["mad"]
    for u, x in vals.items():
        if mad > 0:
            z[u] = (x - fm) / (1.4826 * mad)
        else:
            z[u] = 0.0 if x == fm else math.copysign(math.inf, x - fm)
        outl[u] = z[u] > z_thr and x > fm * (1 + min_delta)
    return z, outl


def expected(gpus, meta, launch, z_thr, min_delta):
    per_var = defaultdict(dict)
    for (hk, inst, var, gpu), e in gpus.items():
        per_var[(hk, inst, var)][gpu] = e
    out = {}
    for key, g in per_var.items():
        ok = {u: e for u, e in g.items() if e["status"] == "ok"}
        med = {u: float(np.median(e["meds"])) for u, e in ok.items()}
        devs = {u: [d for d in e["devs"] if not math.isnan(d)] for u, e in ok.items()}
        dev = {u: float(np.median(d)) for u, d in devs.items() if d}
        st, dst = spread(med.values()), spread(dev.values())
        z, outl = z_and_outliers(dev if launch[key] else med, dst if launch[key] else st,
                                 z_thr, min_delta)
        out[key] = dict(noise(g), **st, gpu_med=med, z=z, outlier=outl, role=meta[key],
                        nodes=len({e["node"] for e in g.values()}), gpus=len(g),
                        host_launch=launch[key], gpu_dev=dev,
                        dev=dict(dst, gpus=len(dev), **device_noise(devs)))
    per_target(out)
    return out


def device_noise(devs):
    """Run-to-run noise of device_ms (one number per run: no within-run
    term), floored at 0.001; NAN/None when no GPU has a device time."""
    d, pairs = [], 0
    for x in devs.values():
        k = len(x)
        if k >= 2:
            med = float(np.median(x))
            d += [abs(math.log(y / med)) * math.sqrt(k / (k - 1)) for y in x]
            pairs += k - 1
    run = 1.4826 * float(np.median(d)) if d else None
    n = max(run if run is not None else 0.0, 0.001) if any(devs.values()) else None
    return dict(noise_run=run, noise_run_pairs=pairs, noise=n, detectable=None)


def noise(g):
    """The noise of one variant from its GPUs g (fleet.h's formulas)."""
    ok = [e for e in g.values() if e["status"] == "ok"]
    rel = [x for e in ok for x in e["rel_mad"]]
    if not rel:
        return dict(noise_within=None, noise_run=None, noise_run_pairs=0, noise=None,
                    detectable=None)
    within = float(np.median(rel))
    se = 1.2533 * within / math.sqrt(float(np.median([n for e in ok for n in e["n"]])))
    d, pairs = [], 0
    for e in ok:
        k = len(e["meds"])
        if k >= 2:
            med = float(np.median(e["meds"]))
            d += [abs(math.log(x / med)) * math.sqrt(k / (k - 1)) for x in e["meds"]]
            pairs += k - 1
    run = 1.4826 * float(np.median(d)) if d else None
    n = max(run if run is not None else 0.0, se, 0.001)
    return dict(noise_within=within, noise_run=run, noise_run_pairs=pairs, noise=n,
                detectable=None)


def per_target(out):
    """detectable = z(1 - 0.001/V) sqrt(2) noise, V the variants of the
    instance with a result (fleet.h): at most 0.1% false drains per target."""
    judged = defaultdict(int)
    for (hk, inst, _), w in out.items():
        judged[(hk, inst)] += w["noise"] is not None
    for (hk, inst, _), w in out.items():
        z = -NormalDist().inv_cdf(0.001 / max(judged[(hk, inst)], 1))
        if w["noise"] is not None:
            w["detectable"] = z * math.sqrt(2.0) * w["noise"]
        if w["dev"]["noise"] is not None:
            w["dev"]["detectable"] = z * math.sqrt(2.0) * w["dev"]["noise"]


def col(row, name):
    """A number of a fleet.h5 table row; NAN when the table has no such column."""
    return float(row[name]) if name in row.dtype.names else math.nan


def close(a, b):
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float) and math.isinf(a):
        return a == b
    return abs(a - b) <= RTOL * max(abs(a), abs(b), 1e-300)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("runs", nargs="+")
    p.add_argument("--z", type=float, default=3.5)
    p.add_argument("--min-delta", type=float, default=0.02)
    a = p.parse_args()
    gpus, meta, launch = read_runs(a.runs)
    want = expected(gpus, meta, launch, a.z, a.min_delta)
    bad = 0
    checked = 0
    with h5py.File(os.path.join(a.out, "fleet.h5"), "r") as f:
        rows = f["gpus"][()]
        vrows = f["variants"][()]
    if len(rows) != len(gpus):
        print("not ok - fleet.h5 /gpus has %d rows, want %d" % (len(rows), len(gpus)))
        bad += 1
    for r in rows:
        key = (s(r["hardware_key"]), s(r["instance"]), s(r["variant"]))
        w, u = want[key], s(r["gpu_uuid"])
        status = s(r["status"])
        fleet_med = w["dev"]["median"] if w["host_launch"] else w["median"]
        if u in w["gpu_med"]:
            ok = close(w["gpu_med"][u], float(r["median_ms"])) \
                and close(w["z"].get(u, math.nan), float(r["z"])) \
                and close(fleet_med, float(r["fleet_median_ms"])) \
                and close(w["gpu_dev"].get(u, math.nan), col(r, "device_ms")) \
                and (status == "outlier") == w["outlier"].get(u, False)
        else:
            ok = status not in ("ok", "outlier")
        checked += 1
        if not ok:
            bad += 1
            print("not ok - %s %s: got median %r z %r status %s, want %r %r outlier=%s" % (
                key, u, r["median_ms"], r["z"], status, w["gpu_med"].get(u), w["z"].get(u),
                w["outlier"].get(u)))
    for r in vrows:
        key = (s(r["hardware_key"]), s(r["instance"]), s(r["variant"]))
        w = want[key]
        got = dict(median=float(r["median_ms"]), p10=float(r["p10_ms"]), p90=float(r["p90_ms"]),
                   mad=float(r["mad_ms"]))
        for k, v in got.items():
            checked += 1
            if not close(w[k], v):
                bad += 1
                print("not ok - %s %s: got %r want %r" % (key, k, v, w[k]))
        if w["host_launch"]:
            d = w["dev"]
            for k, name in (("median", "device_median_ms"), ("p10", "device_p10_ms"),
                           ("p90", "device_p90_ms"), ("mad", "device_mad_ms")):
                checked += 1
                if not close(d[k], col(r, name)):
                    bad += 1
                    print("not ok - %s %s: got %r want %r" % (key, name, col(r, name), d[k]))
        checked += 1
        if col(r, "host_launch") != w["host_launch"]:
            bad += 1
            print("not ok - %s host_launch %r want %d" % (key, col(r, "host_launch"), w["host_launch"]))
        checked += 1
        if int(r["nodes"]) != w["nodes"] or int(r["gpus"]) != w["gpus"]:
            bad += 1
            print("not ok - %s nodes/gpus %d/%d want %d/%d" % (key, r["nodes"], r["gpus"],
                                                            w["nodes"], w["gpus"]))
    bad += check_json(a.out, want, a.min_delta)
    print("%s - check_fleet: %d numbers checked against numpy, %d mismatches" % (
        "ok" if bad == 0 else "not ok", checked, bad))
    return 1 if bad else 0


def check_noise(got, w, prefix, where):
    """The noise fields (prefixed) of an expectations variant against w."""
    bad = 0
    keys = ("noise_run", "noise_run_pairs", "noise", "detectable")
    if prefix:
        keys += ("median_ms", "mad_ms", "gpus")
    else:
        keys += ("noise_within",)
    for k in keys:
        ref, have = w[k], got.get(prefix + k, "absent")
        if isinstance(ref, float) and math.isnan(ref):
            ref = None
        same = ref is None and have is None or \
            ref is not None and have not in (None, "absent") and close(float(ref), float(have))
        if not same:
            bad += 1
            print("not ok - %s %s%s: got %r want %r" % (where, prefix, k, have, ref))
    return bad


def noise_tolerance(vs, min_delta):
    """The tolerance gather derives from the noise of variants vs (of what
    each is judged by): the largest over variants with a result of
    max(detectable, min_delta) rounded up to 0.001; None when no variant's
    run-to-run noise was measured."""
    t, known = None, False
    for w in vs.values():
        n = w["dev"] if w["host_launch"] else w
        known |= n["noise_run"] is not None
        det = n["detectable"] if n["detectable"] is not None else min_delta
        x = math.ceil(max(det, min_delta) * 1000.0 - 1e-9) / 1000.0
        if w["gpu_med"] and (t is None or x > t):
            t = x
    return t if known else None


def check_tolerance(ex, vs, min_delta, where):
    """A tolerance of source 'noise' against noise_tolerance; 1 when wrong."""
    tol = ex.get("tolerance", {})
    if tol.get("source") != "noise":
        return 0
    t = noise_tolerance(vs, min_delta)
    if t is not None and close(t, tol["upper"]) and close(t, tol["lower"]):
        return 0
    print("not ok - %s tolerance: got %r want %r (from the noise)" % (where, tol, t))
    return 1


def check_json(out, want, min_delta):
    """Baseline time, best variant, speedup, judged_by, the noise and the
    noise-derived tolerance in every expectations file."""
    bad = 0
    for path in glob.glob(os.path.join(out, "expectations_*.json")):
        doc = json.load(open(path))
        hk = doc["hardware_key"]
        insts = {k[1] for k in want if k[0] == hk}
        for inst in insts:
            vs = {k[2]: w for k, w in want.items() if k[0] == hk and k[1] == inst}
            base = [w for w in vs.values() if w["role"] == "baseline"][0]
            if not base["gpu_med"]:
                continue  # no baseline with status ok (qual:nccl on one GPU): gather writes none
            opt = {v: w for v, w in vs.items() if w["role"] == "optimized" and w["gpu_med"]}
            best = min(opt, key=lambda v: opt[v]["median"]) if opt else None
            exs = [e for e in doc["examples"].values() if e.get("target") and
                   e["example"] == inst.split(":", 1)[-1]]
            if len(exs) != 1:
                print("not ok - %s: %d examples for %s" % (path, len(exs), inst))
                bad += 1
                continue
            bad += check_tolerance(exs[0], vs, min_delta, "%s %s" % (path, inst))
            for v, w in vs.items():
                got = exs[0].get("fleet", {}).get("variants", {}).get(v, {})
                bad += check_noise(got, w, "", "%s %s/%s" % (path, inst, v))
                judged_by = "device_ms" if w["host_launch"] else "median_ms"
                if got.get("judged_by") != judged_by:
                    bad += 1
                    print("not ok - %s %s/%s judged_by: got %r want %r" % (
                        path, inst, v, got.get("judged_by"), judged_by))
                if w["host_launch"]:
                    d = dict(w["dev"], median_ms=w["dev"]["median"], mad_ms=w["dev"]["mad"])
                    bad += check_noise(got, d, "device_", "%s %s/%s" % (path, inst, v))
                elif any(k.startswith("device_") for k in got):
                    bad += 1
                    print("not ok - %s %s/%s: device fields on a variant judged by its median" % (
                        path, inst, v))
            m = exs[0]["metrics"]
            ok = close(base["median"], m["baseline_time_ms"])
            if best:
                ok = ok and exs[0]["metadata"]["best_optimization"] == best and \
                    close(base["median"] / opt[best]["median"], m["best_speedup"])
            if not ok:
                bad += 1
                print("not ok - %s %s: baseline %r best %r speedup %r" % (
                    path, inst, m["baseline_time_ms"], exs[0]["metadata"].get("best_optimization"),
                    m.get("best_speedup")))
    return bad


if __name__ == "__main__":
    sys.exit(main())
