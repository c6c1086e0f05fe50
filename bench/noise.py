#!/usr/bin/env python3
"""noise.py - run-to-run noise, its causes, the detection limit and timer
agreement, from N runs of the same job on the same GPU(s) (issue 16).

  noise.py --runs after='DIR/qual-after-*' [--runs before='DIR/qual-before-*']
           [--profile-runs 'DIR/profile-*'] [--expectations FILE]...
           [--out-dir DIR] [--main after]

Each --runs LABEL=GLOB names run directories (rank-*.h5 inside); runs of one
label are repeats of one job. Per label, target/variant and GPU (gpu_uuid):

spread      (max - min) / median of the runs' median_ms (the issue's goal:
            <= 1%, launch-bound variants <= 2%)
noise_within, noise_run, noise, detectable: as gather stores them in
            fleet.variants.<v> (analysis/README.md, "Noise"), computed here per
            GPU from the same rank files:
  noise_within = median over runs of 1.4826 mad_ms / median_ms
  noise_run    = 1.4826 median over runs of |ln(m_run / m_gpu)| sqrt(k / (k - 1)),
                 k >= 2 runs of the GPU, m_gpu the median of its run medians
  noise        = max(noise_run, 1.2533 noise_within / sqrt(n), 0.001), n the
                 median number of samples per run
  detectable   = z(0.999) sqrt(2) noise = 4.37 noise: two medians as noisy as
                 this differ by more in at most 0.1% of comparisons
tolerance   what gather derives from the noise when the job sets none: max
            over the target's variants of max(detectable, min_delta 2%),
            rounded up to 0.1%
per target  detectable x z(1 - 0.001/V)/z(0.999), V variants judged: the
            slowdown one variant must show so that the target (any of its V
            variants) drains a healthy GPU at most once in 1000

Cause columns (from what the rank file records beside each median): the
spread of the device-side time (CUPTI device_ms, device_span_ms), of the
host's enqueue time (host_ms), the SM clock range (NVML before/after the
samples), whether the kernels that ran had the same names in every run,
and the drift inside runs (second half of the samples vs the first).

--expectations: a gather output (expectations_<key>.json); where it holds
fleet.variants.<v>.noise fields (the verdict engineer's gather), they are
shown beside ours. Writes spread.md, causes.md, noise.md, timer.md and
summary.md into --out-dir (default: print summary only).
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys
from statistics import NormalDist

import h5py
import numpy as np

ALPHA = 0.001          # false drains per GPU and target
Z999 = NormalDist().inv_cdf(1 - ALPHA)
MIN_DELTA = 0.02       # gather's --min-delta default
LAUNCH_TARGETS = ("qual:launch",)
DETECT_GOAL = {"qual:mem_bw": 0.03, "qual:gemm_peak": 0.03, "qual:pcie": 0.03}
ATTRS = ("median_ms", "mad_ms", "n_samples", "device_ms", "device_span_ms", "count_event_ms",
         "host_ms", "sm_clock_start_mhz", "sm_clock_end_mhz", "worker_cpu", "cpu_migrated",
         "involuntary_switches", "warmup_spent_ms", "warmup_clock_steady", "device_ops_per_iteration",
         "launches_per_iteration", "kernels_per_iteration", "iterations_per_sample",
         "profile_kernel_ms", "profile_kernels", "profile_mem_pct", "profile_sm_pct")
STRS = ("status", "kernel_names", "profile_status", "profile_message", "measure_switches")


def attr(a, k, default=math.nan):
    v = a.get(k, default)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, (np.integer, np.floating)):
        v = v.item()
    return v


def read_run(path):
    """{(uuid, instance, variant): record} of one run directory."""
    out = {}
    for f5 in sorted(glob.glob(os.path.join(path, "rank-*.h5"))):
        with h5py.File(f5, "r") as f:
            uuid = attr(f.attrs, "gpu_uuid", "?")
            for inst, g in f["targets"].items():
                for var, gv in g.items():
                    a = gv.attrs
                    rec = {k: attr(a, k) for k in ATTRS}
                    rec.update({k: attr(a, k, "") for k in STRS})
                    s = np.asarray(gv["samples_ms"][:], dtype=float)
                    rec["drift"] = math.nan
                    if len(s) >= 8:
                        h = len(s) // 2
                        rec["drift"] = (np.median(s[h:]) - np.median(s[:h])) / np.median(s)
                    for side in ("gpu_before", "gpu_after"):
                        if side in gv:
                            rec[side + "_temp"] = attr(gv[side].attrs, "temperature_c")
                            rec[side + "_power"] = attr(gv[side].attrs, "power_w")
                    rec["run"] = path
                    out[(uuid, inst, var)] = rec
    return out


def collect(globs):
    """{label: {(uuid, inst, var): [records of ok runs]}} and {label: {key:
    runs that hold the key, whatever its status}}."""
    data, present = {}, {}
    for label, pattern in globs:
        dirs = sorted(d for d in glob.glob(pattern) if os.path.isdir(d))
        per = data.setdefault(label, {})
        seen = present.setdefault(label, {})
        for d in dirs:
            for key, rec in read_run(d).items():
                seen[key] = seen.get(key, 0) + 1
                if rec["status"] == "ok":
                    per.setdefault(key, []).append(rec)
    return data, present


def finite(xs):
    return [x for x in xs if isinstance(x, (int, float)) and math.isfinite(x)]


def spread(xs):
    xs = finite(xs)
    if len(xs) < 2:
        return math.nan
    m = statistics.median(xs)
    return (max(xs) - min(xs)) / m if m else math.nan


def med(xs):
    xs = finite(xs)
    return statistics.median(xs) if xs else math.nan


def noise_of(recs):
    """noise_within, noise_run, noise, detectable of one GPU's runs of a
    variant (gather's formulas, analysis/README.md)."""
    rel = [1.4826 * r["mad_ms"] / r["median_ms"] for r in recs if r["median_ms"] > 0]
    if not rel:
        return math.nan, math.nan, math.nan, math.nan
    within = statistics.median(rel)
    n = statistics.median([r["n_samples"] for r in recs]) or 1
    ms = finite([r["median_ms"] for r in recs])
    run = math.nan
    if len(ms) >= 2:
        mg, k = statistics.median(ms), len(ms)
        run = 1.4826 * statistics.median([abs(math.log(m / mg)) * math.sqrt(k / (k - 1))
                                          for m in ms])
    noise = max(finite([run, 1.2533 * within / math.sqrt(n), 0.001]))
    return within, run, noise, Z999 * math.sqrt(2.0) * noise


def target_detectable(det, n_variants):
    """detectable widened so that any of n_variants drains at most 0.1%."""
    z = NormalDist().inv_cdf(1 - ALPHA / max(n_variants, 1))
    return det * z / Z999


def noise_tolerance(dets):
    """gather's tolerance from the noise: max(detectable, min_delta), up to 0.1%."""
    dets = finite(dets)
    return math.ceil(max(dets + [MIN_DELTA]) * 1000 - 1e-9) / 1000 if dets else math.nan


def launch_bound(inst, recs):
    """Launch-bound: qual:launch, the host's enqueue time is most of an
    iteration, or the GPU is busy less than 70% of the device span."""
    if inst in LAUNCH_TARGETS:
        return True
    host = med([r["host_ms"] / r["median_ms"] for r in recs if r["median_ms"] > 0])
    busy = med([r["device_ms"] / r["device_span_ms"] for r in recs if r["device_span_ms"] > 0])
    return (math.isfinite(host) and host >= 0.7) or (math.isfinite(busy) and busy < 0.7)


def cause(inst, recs):
    """The likeliest cause of the spread, from what the runs recorded."""
    sm = spread([r["median_ms"] for r in recs])
    if not math.isfinite(sm) or sm <= 0.01:
        return "-"
    names = {r["kernel_names"] for r in recs if r["kernel_names"]}
    if len(names) > 1:
        return "different kernels in different runs (library choice)"
    dev = spread([r["device_ms"] for r in recs])
    host = spread([r["host_ms"] for r in recs])
    hshare = med([r["host_ms"] / r["median_ms"] for r in recs if r["median_ms"] > 0])
    clk = spread([r["sm_clock_start_mhz"] for r in recs] + [r["sm_clock_end_mhz"] for r in recs])
    if math.isfinite(hshare) and hshare >= 0.7 and math.isfinite(host) and host >= 0.5 * sm:
        return "host launch path (host_ms moves with the median)"
    if math.isfinite(dev) and dev >= 0.5 * sm:
        if math.isfinite(clk) and clk >= 0.5 * sm:
            return "GPU side: SM clock differs between runs"
        return "GPU side at the same clock (placement, power, thermal?)"
    if math.isfinite(dev):
        return "gaps between device work (launch cadence), device time steady"
    return "unattributed (no CUPTI record)"


def fmt(x, pct=False, digits=4):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{100 * x:.2f}%" if pct else f"{x:.{digits}g}"


def variants_by_target(per):
    by = {}
    for (uuid, inst, var) in per:
        by.setdefault((uuid, inst), set()).add(var)
    return by


def order(keys):
    return sorted(keys, key=lambda k: (k[1], k[2], k[0]))


def spread_md(data, runs, labels):
    keys = order(set().union(*(set(data[label]) for label in labels)))
    head = "| target | variant | " + " | ".join(f"{l} (runs) | {l} spread" for l in labels) + \
        " | goal | met |"
    lines = [head, "|" + "---|" * (4 + 2 * len(labels))]
    for k in keys:
        row = [k[1], k[2]]
        last = labels[-1]
        lb = launch_bound(k[1], data[last].get(k, []))
        goal = 0.02 if lb else 0.01
        for label in labels:
            recs = data[label].get(k, [])
            row += [f"{len(recs)}/{runs[label].get(k, 0)}",
                    fmt(spread([r["median_ms"] for r in recs]), True)]
        s = spread([r["median_ms"] for r in data[last].get(k, [])])
        row += [f"<= {goal * 100:.0f}%" + (" (launch-bound)" if lb else ""),
                "-" if not math.isfinite(s) else ("yes" if s <= goal else "**no**")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def causes_md(data, label):
    lines = ["| target | variant | median ms | spread | device_ms spread | span spread | host_ms "
             "spread | host share | SM MHz (min-max) | temp C (min-max) | kernel sets | drift in "
             "run | migrated | preempted (max) | likeliest cause |", "|" + "---|" * 15]
    for k in order(data[label]):
        recs = data[label][k]
        clocks = finite([r["sm_clock_start_mhz"] for r in recs] + [r["sm_clock_end_mhz"] for r in recs])
        clocks = [c for c in clocks if c > 0]
        names = {r["kernel_names"] for r in recs if r["kernel_names"]}
        temps = [t for t in finite([r.get("gpu_before_temp") for r in recs] +
                                   [r.get("gpu_after_temp") for r in recs]) if t > 0]
        lines.append("| " + " | ".join([
            k[1], k[2], fmt(med([r["median_ms"] for r in recs])),
            fmt(spread([r["median_ms"] for r in recs]), True),
            fmt(spread([r["device_ms"] for r in recs]), True),
            fmt(spread([r["device_span_ms"] for r in recs]), True),
            fmt(spread([r["host_ms"] for r in recs]), True),
            fmt(med([r["host_ms"] / r["median_ms"] for r in recs if r["median_ms"] > 0]), True),
            f"{min(clocks):.0f}-{max(clocks):.0f}" if clocks else "-",
            f"{min(temps):.0f}-{max(temps):.0f}" if temps else "-",
            str(len(names)) if names else "-",
            fmt(med([r["drift"] for r in recs]), True),
            str(sum(1 for r in recs if r["cpu_migrated"] == 1)),
            fmt(max(finite([r["involuntary_switches"] for r in recs]), default=math.nan)),
            cause(k[1], recs)]) + " |")
    return "\n".join(lines) + "\n"


def gather_fields(expectations, inst, var):
    """(fleet.variants.<var> dict, tolerance dict) of instance inst in gather's
    expectations files, or ({}, {})."""
    name = inst.split(":", 1)[-1]
    for path in expectations:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        for ex in doc.get("examples", {}).values():
            if ex.get("example") != name:
                continue
            v = ex.get("fleet", {}).get("variants", {}).get(var)
            if v is not None:
                return v, ex.get("tolerance", {})
    return {}, {}


def noise_md(data, label, expectations):
    per = data[label]
    by = variants_by_target(per)
    rows, dets = [], {}
    for k in order(per):
        within, run, noise, det = noise_of(per[k])
        dets.setdefault((k[0], k[1]), []).append(det)
        rows.append((k, within, run, noise, det))
    lines = ["| target | variant | runs | median ms | spread | noise_within | noise_run | noise | "
             "detectable | per target (V) | goal | gather: noise / detectable | tolerance "
             "(source) |", "|" + "---|" * 13]
    for k, within, run, noise, det in rows:
        recs = per[k]
        nv = len(by[(k[0], k[1])])
        goal = DETECT_GOAL.get(k[1].split("[")[0])
        g, tol = gather_fields(expectations, k[1], k[2])
        gdet = g.get("detectable")
        use = gdet if isinstance(gdet, (int, float)) else det
        tol_text = (f"{fmt(tol.get('upper'), True)} ({tol.get('source', 'hand')})" if tol else
                    f"{fmt(noise_tolerance(dets[(k[0], k[1])]), True)} (noise, ours)")
        lines.append("| " + " | ".join([
            k[1], k[2], str(len(recs)), fmt(med([r["median_ms"] for r in recs])),
            fmt(spread([r["median_ms"] for r in recs]), True), fmt(within, True), fmt(run, True),
            fmt(noise, True), fmt(det, True), f"{fmt(target_detectable(det, nv), True)} ({nv})",
            "-" if goal is None else (f"<= {goal * 100:.0f}%: " +
                                      ("yes" if math.isfinite(use) and use <= goal else "**no**")),
            f"{fmt(g.get('noise'), True)} / {fmt(gdet, True)}" if g else "-",
            tol_text]) + " |")
    return "\n".join(lines) + "\n"


def timer_md(data, label, prof):
    lines = ["| target | variant | ops/iter | median ms (events) | count pass: events ms | "
             "CUPTI span ms | events / span | CUPTI device ms | median / device | ncu ms | "
             "median / ncu | single kernel: within 3% |", "|" + "---|" * 12]
    for k in order(data[label]):
        recs = data[label][k]
        m = med([r["median_ms"] for r in recs])
        ev = med([r["count_event_ms"] for r in recs])
        sp = med([r["device_span_ms"] for r in recs])
        dv = med([r["device_ms"] for r in recs])
        ops = med([r["device_ops_per_iteration"] for r in recs])
        ncu = med([r["profile_kernel_ms"] for r in prof.get(k, [])]) if prof else math.nan
        single = ops == 1
        checks = [x for x in (ev / sp if sp > 0 else math.nan,
                              m / ncu if ncu > 0 and single else math.nan) if math.isfinite(x)]
        ok = "-" if not single or not checks else \
            ("yes" if all(abs(c - 1) <= 0.03 for c in checks) else "**no**")
        lines.append("| " + " | ".join([
            k[1], k[2], fmt(ops), fmt(m), fmt(ev), fmt(sp),
            fmt(ev / sp if sp > 0 else math.nan), fmt(dv),
            fmt(m / dv if dv > 0 else math.nan), fmt(ncu),
            fmt(m / ncu if ncu > 0 else math.nan), ok]) + " |")
    return "\n".join(lines) + "\n"


def profile_md(prof_data):
    lines = ["| target | variant | profile_status | kernels | ncu ms | memory % | SM % | message |",
             "|" + "---|" * 8]
    for k in order(prof_data):
        for r in prof_data[k]:
            lines.append("| " + " | ".join([
                k[1], k[2], r["profile_status"], fmt(r["profile_kernels"]),
                fmt(r["profile_kernel_ms"]), fmt(r["profile_mem_pct"]), fmt(r["profile_sm_pct"]),
                (r["profile_message"] or "")[:120].replace("|", "/")]) + " |")
    return "\n".join(lines) + "\n"


def summary_md(data, runs, labels, main_label, prof):
    """One compact table: spread per label, goal, detectable, timers, cause."""
    keys = order(set().union(*(set(data[label]) for label in labels)))
    per = data[main_label]
    head = ["target/variant"] + [f"{l} spread" for l in labels] + \
        ["goal met", "detectable", "events/CUPTI", "cause of what is left"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for k in keys:
        recs = per.get(k, [])
        lb = launch_bound(k[1], recs)
        s = spread([r["median_ms"] for r in recs])
        goal = 0.02 if lb else 0.01
        det = noise_of(recs)[3] if recs else math.nan
        ev = med([r["count_event_ms"] for r in recs])
        sp = med([r["device_span_ms"] for r in recs])
        row = [f"{k[1]} {k[2]}"] + [fmt(spread([r["median_ms"] for r in data[l].get(k, [])]), True)
                                    for l in labels]
        row += ["-" if not math.isfinite(s) else ("yes" if s <= goal else "**no**") +
                f" (<= {goal * 100:.0f}%)", fmt(det, True),
                fmt(ev / sp if sp > 0 else math.nan), cause(k[1], recs)]
        lines.append("| " + " | ".join(row) + " |")
    if prof:
        st = {}
        for k in prof:
            for r in prof[k]:
                st.setdefault(r["profile_status"], []).append(k[2])
        lines.append("")
        lines.append("profile pass: " + "; ".join(f"{s}: {', '.join(v)}" for s, v in sorted(st.items())))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", action="append", help="LABEL=GLOB of run dirs")
    ap.add_argument("--formulas", action="store_true", help="print the definitions and exit")
    ap.add_argument("--profile-runs", help="GLOB of --profile minimal run dirs")
    ap.add_argument("--expectations", action="append", default=[])
    ap.add_argument("--main", help="label for noise, causes and timers (default: the last)")
    ap.add_argument("--out-dir")
    o = ap.parse_args()
    if o.formulas:
        doc = __doc__
        print(doc[doc.index("spread      (max"):doc.index("Cause columns")].rstrip())
        return 0
    if not o.runs:
        ap.error("--runs LABEL=GLOB is required")
    globs = [tuple(r.split("=", 1)) for r in o.runs]
    if any(len(g) != 2 for g in globs):
        sys.exit("noise.py: --runs takes LABEL=GLOB")
    data, runs = collect(globs)
    labels = [g[0] for g in globs]
    main_label = o.main or labels[-1]
    prof = {}
    if o.profile_runs:
        pdata, _ = collect([("profile", o.profile_runs)])
        prof = pdata["profile"]
    sections = {
        "spread.md": spread_md(data, runs, labels),
        "causes.md": causes_md(data, main_label) + "\n" +
        "".join(f"Before ({l}):\n\n" + causes_md(data, l) + "\n" for l in labels if l != main_label),
        "noise.md": noise_md(data, main_label, o.expectations),
        "timer.md": timer_md(data, main_label, prof),
    }
    if prof:
        sections["profile.md"] = profile_md(prof)
    sections["summary.md"] = summary_md(data, runs, labels, main_label, prof)
    if o.out_dir:
        os.makedirs(o.out_dir, exist_ok=True)
        for name, text in sections.items():
            with open(os.path.join(o.out_dir, name), "w") as f:
                f.write(text)
    print("Spread of the runs' medians, (max - min) / median; detectable slowdown at <= 0.1% "
          f"false drains ({main_label}); events/CUPTI = count-pass events over CUPTI span:\n")
    print(sections["summary.md"])
    if not o.out_dir:
        for name in ("causes.md", "noise.md", "timer.md", "profile.md"):
            if name in sections:
                print(f"\n{name}:\n\n{sections[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
