#!/usr/bin/python3
"""check_fleet.py - independent numpy check of `aisp gather`'s numbers.

  check_fleet.py OUT_DIR RUN_DIR... [--z 3.5] [--min-delta 0.02]

Reads every rank-*.h5 of the run directories with h5py, recomputes per GPU
(median over runs of each run's sample median), per variant (fleet median,
p10, p90 of per-GPU medians with numpy's default linear quantiles, MAD,
robust z, outlier rule, noise within and between runs, noise floor and
detectable slowdown per target) and per instance (best optimized variant,
speedup), then compares with OUT_DIR/fleet.h5 and OUT_DIR/expectations_<hk>.json.
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


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_runs(dirs):
    """(hk, inst, var, gpu) -> {'meds': [...], 'ok': bool, 'node', 'role', ...}"""
    gpus = defaultdict(lambda: {"meds": [], "rel_mad": [], "n": [], "status": None})
    meta = {}
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
                for inst, ig in f.get("targets", {}).items():
                    for var, vg in ig.items():
                        k = (hk, inst, var, gpu)
                        st = s(vg.attrs["status"])
                        smp = vg["samples_ms"][()] if "samples_ms" in vg else np.zeros(0)
                        e = gpus[k]
                        e["node"] = node
                        if st == "ok" and len(smp):
                            med = float(np.median(smp))
                            e["meds"].append(med)
                            e["rel_mad"].append(1.4826 * float(np.median(np.abs(smp - med))) / med)
                            e["n"].append(len(smp))
                            e["status"] = "ok"
                        elif e["status"] != "ok":
                            e["status"] = st
                        meta[(hk, inst, var)] = s(vg.attrs["role"])
    return gpus, meta


def expected(gpus, meta, z_thr, min_delta):
    per_var = defaultdict(dict)
    for (hk, inst, var, gpu), e in gpus.items():
        per_var[(hk, inst, var)][gpu] = e
    out = {}
    for key, g in per_var.items():
        med = {u: float(np.median(e["meds"])) for u, e in g.items() if e["status"] == "ok"}
        m = np.array(sorted(med.values()))
        fm = float(np.median(m)) if len(m) else math.nan
        mad = float(np.median(np.abs(m - fm))) if len(m) else math.nan
        z, outl = {}, {}
        for u, x in med.items():
            if mad > 0:
                z[u] = (x - fm) / (1.4826 * mad)
            else:
                z[u] = 0.0 if x == fm else math.copysign(math.inf, x - fm)
            outl[u] = z[u] > z_thr and x > fm * (1 + min_delta)
        out[key] = dict(noise(g), median=fm, p10=float(np.percentile(m, 10)) if len(m) else math.nan,
                        p90=float(np.percentile(m, 90)) if len(m) else math.nan, mad=mad,
                        gpu_med=med, z=z, outlier=outl, role=meta[key],
                        nodes=len({e["node"] for e in g.values()}), gpus=len(g))
    per_target(out)
    return out


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
        if w["noise"] is not None:
            z = -NormalDist().inv_cdf(0.001 / judged[(hk, inst)])
            w["detectable"] = z * math.sqrt(2.0) * w["noise"]


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
    gpus, meta = read_runs(a.runs)
    want = expected(gpus, meta, a.z, a.min_delta)
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
        if u in w["gpu_med"]:
            ok = close(w["gpu_med"][u], float(r["median_ms"])) and close(w["z"][u], float(r["z"])) \
                and close(w["median"], float(r["fleet_median_ms"])) \
                and (status == "outlier") == w["outlier"][u]
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
        checked += 1
        if int(r["nodes"]) != w["nodes"] or int(r["gpus"]) != w["gpus"]:
            bad += 1
            print("not ok - %s nodes/gpus %d/%d want %d/%d" % (key, r["nodes"], r["gpus"],
                                                            w["nodes"], w["gpus"]))
    bad += check_json(a.out, want)
    print("%s - check_fleet: %d numbers checked against numpy, %d mismatches" % (
        "ok" if bad == 0 else "not ok", checked, bad))
    return 1 if bad else 0


def check_json(out, want):
    """Baseline time, best variant and speedup in every expectations file."""
    bad = 0
    for path in glob.glob(os.path.join(out, "expectations_*.json")):
        doc = json.load(open(path))
        hk = doc["hardware_key"]
        insts = {k[1] for k in want if k[0] == hk}
        for inst in insts:
            vs = {k[2]: w for k, w in want.items() if k[0] == hk and k[1] == inst}
            base = [w for w in vs.values() if w["role"] == "baseline"][0]
            opt = {v: w for v, w in vs.items() if w["role"] == "optimized" and w["gpu_med"]}
            best = min(opt, key=lambda v: opt[v]["median"]) if opt else None
            exs = [e for e in doc["examples"].values() if e.get("target") and
                   e["example"] == inst.split(":", 1)[-1]]
            if len(exs) != 1:
                print("not ok - %s: %d examples for %s" % (path, len(exs), inst))
                bad += 1
                continue
            for v, w in vs.items():
                got = exs[0].get("fleet", {}).get("variants", {}).get(v, {})
                for k in ("noise_within", "noise_run", "noise_run_pairs", "noise", "detectable"):
                    ref, have = w[k], got.get(k, "absent")
                    same = ref is None and have is None or \
                        ref is not None and have not in (None, "absent") and close(float(ref), float(have))
                    if not same:
                        bad += 1
                        print("not ok - %s %s/%s %s: got %r want %r" % (path, inst, v, k, have, ref))
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
