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
  detectable   = z(1 - 0.001/V) sqrt(2) noise, V the target's variants with
                 a result (V = 1: 4.37 noise, V = 4: 4.92 noise): two medians
                 as noisy as this differ by more in at most 0.1%/V of
                 comparisons, so a target (any of its V variants) drains a
                 healthy GPU at most once in 1000
tolerance   what gather derives from the noise when the job sets none: max
            over the target's variants of max(detectable, min_delta 2%),
            rounded up to 0.1%
timer       the timer pass of each run (after the samples: one batch of
            timer_iterations iterations, a sample's or more so that it lasts
            >= 20 ms, between the same CUDA events as a sample, CUPTI tracing
            the device work only): events / span = timer_events_ms /
            timer_span_ms, our timer against CUPTI's timestamps of the same region (goal: within 3% for single-kernel
            variants, kernels_per_iteration 1); median / kernels =
            median_ms / timer_kernels_ms, what an iteration costs beyond
            the device work itself (launch gaps)

Cause columns (from what the rank file records beside each median): the
spread of the device-side time (CUPTI device_ms, device_span_ms), of the
host's enqueue time (host_ms), the SM clock range (NVML before/after the
samples), whether the same kernels ran in every run (names and counts per
iteration; memsets and memcpys, names cut by the length limit and the
iteration count of the counted pass do not make a difference), and the
drift inside runs (second half of the samples vs the first).

--expectations: a gather output (expectations_<key>.json); where it holds
fleet.variants.<v>.noise fields (the verdict engineer's gather), they are
shown beside ours. Writes spread.md, causes.md, noise.md, timer.md,
warmup.md and summary.md into --out-dir (default: print summary only).
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys
from itertools import combinations
from statistics import NormalDist

import h5py
import numpy as np

ALPHA = 0.001          # false drains per GPU and target
MIN_DELTA = 0.02       # gather's --min-delta default
NAMES_MAX = 1023       # kernel_names is cut at this many bytes (h5out.h)
SW_POWER_CAP = 0x4     # NVML clocks-event reason: software power cap
LAUNCH_TARGETS = ("qual:launch",)
DETECT_GOAL = {"qual:mem_bw": 0.03, "qual:gemm_peak": 0.03, "qual:pcie": 0.03}
ATTRS = ("median_ms", "mad_ms", "n_samples", "device_ms", "device_span_ms", "count_event_ms",
         "host_ms", "sm_clock_start_mhz", "sm_clock_end_mhz", "worker_cpu", "cpu_migrated",
         "involuntary_switches", "warmup_spent_ms", "warmup_clock_steady", "device_ops_per_iteration",
         "launches_per_iteration", "kernels_per_iteration", "iterations_per_sample",
         "profile_kernel_ms", "profile_kernels", "profile_mem_pct", "profile_sm_pct",
         "count_iterations", "timer_events_ms", "timer_span_ms", "timer_kernels_ms",
         "warmup_clock_start_mhz", "warmup_clock_end_mhz", "worker_start_ms")
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
                            rec[side + "_throttle"] = attr(gv[side].attrs, "throttle_reasons", 0)
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


def z_upper(p):
    """The one-sided upper normal point: P(Z > z) = p."""
    return -NormalDist().inv_cdf(p)


def noise_of(recs, n_variants=1):
    """noise_within, noise_run, noise, detectable of one GPU's runs of a
    variant of a target with n_variants variants (gather's formulas,
    analysis/README.md)."""
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
    z = z_upper(ALPHA / max(n_variants, 1))
    return within, run, noise, z * math.sqrt(2.0) * noise


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


def kernel_set(rec):
    """({kernel name: launches per iteration}, complete) of one run's counted
    pass, from kernel_names "name xN; ..." over count_iterations; memsets
    and memcpys are left out (a library's choice is its kernels), and so is
    the last entry of a text cut at NAMES_MAX (complete is then False).
    None when the run saw no names."""
    text, it = rec["kernel_names"], rec["count_iterations"]
    if not text or text.startswith("(") or not isinstance(it, (int, float)) or not it > 0:
        return None
    parts = text.split("; ")
    complete = len(text.encode()) < NAMES_MAX and not parts[-1].startswith("+")
    if not complete:
        parts = parts[:-1]
    out = {}
    for p in parts:
        name, sep, n = p.rpartition(" x")
        if sep and n.isdigit() and not name.startswith(("memset", "memcpy")):
            out[name] = round(int(n) / it, 3)
    return out, complete


def kernels_differ(recs):
    """True when two runs ran different kernels, or the same ones a different
    number of times per iteration (a name missing from a cut text is not a
    difference)."""
    sets = [k for k in (kernel_set(r) for r in recs) if k is not None]
    for (a, a_all), (b, b_all) in combinations(sets, 2):
        for name in set(a) | set(b):
            if name in a and name in b:
                if a[name] != b[name]:
                    return True
            elif (name in a and b_all) or (name in b and a_all):
                return True
    return False


def power_capped(recs):
    """True when NVML reported the software power cap right after the item
    in every run (gpu_after; gpu_before still shows the item before)."""
    return bool(recs) and all(int(r.get("gpu_after_throttle", 0) or 0) & SW_POWER_CAP
                              for r in recs)


def cause(inst, recs):
    """The likeliest cause of the spread, from what the runs recorded."""
    sm = spread([r["median_ms"] for r in recs])
    if not math.isfinite(sm) or sm <= 0.01:
        return "-"
    if kernels_differ(recs):
        return "different kernels in different runs (library choice)"
    dev = spread([r["device_ms"] for r in recs])
    host = spread([r["host_ms"] for r in recs])
    hshare = med([r["host_ms"] / r["median_ms"] for r in recs if r["median_ms"] > 0])
    clk = spread([r["sm_clock_start_mhz"] for r in recs] + [r["sm_clock_end_mhz"] for r in recs])
    if math.isfinite(hshare) and hshare >= 0.7 and math.isfinite(host) and host >= 0.5 * sm:
        return ("host launch path (host_ms moves with the median" +
                (", device_ms steady)" if math.isfinite(dev) and dev < 0.5 * sm else ")"))
    if math.isfinite(dev) and dev >= 0.5 * sm:
        if math.isfinite(clk) and clk >= 0.5 * sm:
            return "GPU side: SM clock differs between runs" + \
                (" (software power cap in every run)" if power_capped(recs) else "")
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
             "spread | host share | SM MHz (min-max) | temp C (min-max) | kernels | drift in "
             "run | migrated | preempted (max) | likeliest cause |", "|" + "---|" * 15]
    for k in order(data[label]):
        recs = data[label][k]
        clocks = finite([r["sm_clock_start_mhz"] for r in recs] + [r["sm_clock_end_mhz"] for r in recs])
        clocks = [c for c in clocks if c > 0]
        sets = [k for k in (kernel_set(r) for r in recs) if k is not None]
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
            ("differ" if kernels_differ(recs) else "same") if sets else "-",
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
        nv = len(by[(k[0], k[1])])
        within, run, noise, det = noise_of(per[k], nv)
        dets.setdefault((k[0], k[1]), []).append(det)
        rows.append((k, nv, within, run, noise, det))
    lines = ["| target | variant | runs | median ms | spread | noise_within | noise_run | noise | "
             "detectable (V) | goal | gather: noise / detectable | tolerance (source) |",
             "|" + "---|" * 12]
    for k, nv, within, run, noise, det in rows:
        recs = per[k]
        goal = DETECT_GOAL.get(k[1].split("[")[0])
        g, tol = gather_fields(expectations, k[1], k[2])
        gdet = g.get("detectable")
        use = gdet if isinstance(gdet, (int, float)) else det
        tol_text = (f"{fmt(tol.get('upper'), True)} ({tol.get('source', 'hand')})" if tol else
                    f"{fmt(noise_tolerance(dets[(k[0], k[1])]), True)} (noise, ours)")
        lines.append("| " + " | ".join([
            k[1], k[2], str(len(recs)), fmt(med([r["median_ms"] for r in recs])),
            fmt(spread([r["median_ms"] for r in recs]), True), fmt(within, True), fmt(run, True),
            fmt(noise, True), f"{fmt(det, True)} ({nv})",
            "-" if goal is None else (f"<= {goal * 100:.0f}%: " +
                                      ("yes" if math.isfinite(use) and use <= goal else "**no**")),
            f"{fmt(g.get('noise'), True)} / {fmt(gdet, True)}" if g else "-",
            tol_text]) + " |")
    return "\n".join(lines) + "\n"


def ratio(recs, a, b):
    """Median over runs of each run's a / b."""
    return med([r[a] / r[b] for r in recs if isinstance(r[b], (int, float)) and r[b] > 0])


def timer_md(data, label, prof):
    lines = ["| target | variant | kernels/iter | iter/sample | median ms | timer pass: events ms | "
             "CUPTI span ms | events / span | CUPTI kernels ms | median / kernels | ncu ms | "
             "ncu / kernels | single kernel: events/span within 3% |", "|" + "---|" * 13]
    for k in order(data[label]):
        recs = data[label][k]
        kern = med([r["kernels_per_iteration"] for r in recs])
        ev_sp = ratio(recs, "timer_events_ms", "timer_span_ms")
        kms = med([r["timer_kernels_ms"] for r in recs])
        ncu = med([r["profile_kernel_ms"] for r in prof.get(k, [])]) if prof else math.nan
        ok = "-" if kern != 1 or not math.isfinite(ev_sp) else \
            ("yes" if abs(ev_sp - 1) <= 0.03 else "**no**")
        lines.append("| " + " | ".join([
            k[1], k[2], fmt(kern), fmt(med([r["iterations_per_sample"] for r in recs])),
            fmt(med([r["median_ms"] for r in recs])), fmt(med([r["timer_events_ms"] for r in recs])),
            fmt(med([r["timer_span_ms"] for r in recs])), fmt(ev_sp), fmt(kms),
            fmt(ratio(recs, "median_ms", "timer_kernels_ms")), fmt(ncu),
            fmt(ncu / kms if ncu > 0 and kms > 0 else math.nan), ok]) + " |")
    return "\n".join(lines) + "\n"


def mhz_range(xs):
    xs = [x for x in finite(xs) if x > 0]
    return f"{min(xs):.0f}-{max(xs):.0f}" if xs else "-"


def warmup_md(data, label):
    """Per variant: in how many runs a worker was started for it (after an
    item with CUPTI on, each item gets a new one), how the warm-up ended
    (clock-checked: two SM clock reads 100 ms apart within 1%), the clocks at
    its start and end and during the samples, and whether the software power
    cap was reported."""
    lines = ["| target | variant | runs | fresh worker | warm-up ms (median, max) | steady | "
             "SM MHz at warm-up start | at its end | during samples | power cap |",
             "|" + "---|" * 10]
    for k in order(data[label]):
        recs = data[label][k]
        spent = finite([r["warmup_spent_ms"] for r in recs])
        steady = [r["warmup_clock_steady"] for r in recs]
        lines.append("| " + " | ".join([
            k[1], k[2], str(len(recs)),
            f"{sum(1 for r in recs if (r['worker_start_ms'] or 0) > 0)}/{len(recs)}",
            f"{statistics.median(spent):.0f}, {max(spent):.0f}" if spent else "-",
            f"{sum(1 for x in steady if x == 1)}/{len(steady)}" +
            (f" ({sum(1 for x in steady if x == -1)} unchecked)" if -1 in steady else ""),
            mhz_range([r["warmup_clock_start_mhz"] for r in recs]),
            mhz_range([r["warmup_clock_end_mhz"] for r in recs]),
            mhz_range([r["sm_clock_start_mhz"] for r in recs] +
                      [r["sm_clock_end_mhz"] for r in recs]),
            "every run" if power_capped(recs) else "-"]) + " |")
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
        ["goal met", "detectable", "events/span", "cause of what is left"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by = variants_by_target(per)
    for k in keys:
        recs = per.get(k, [])
        lb = launch_bound(k[1], recs)
        s = spread([r["median_ms"] for r in recs])
        goal = 0.02 if lb else 0.01
        det = noise_of(recs, len(by.get((k[0], k[1]), ())))[3] if recs else math.nan
        row = [f"{k[1]} {k[2]}"] + [fmt(spread([r["median_ms"] for r in data[l].get(k, [])]), True)
                                    for l in labels]
        row += ["-" if not math.isfinite(s) else ("yes" if s <= goal else "**no**") +
                f" (<= {goal * 100:.0f}%)", fmt(det, True),
                fmt(ratio(recs, "timer_events_ms", "timer_span_ms")), cause(k[1], recs)]
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
        "warmup.md": "".join(f"{l}:\n\n" + warmup_md(data, l) + "\n" for l in labels),
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
          f"false drains per target ({main_label}); events/span = the timer pass's events over "
          "CUPTI's span of the same batch:\n")
    print(sections["summary.md"])
    if not o.out_dir:
        for name in ("causes.md", "noise.md", "timer.md", "warmup.md", "profile.md"):
            if name in sections:
                print(f"\n{name}:\n\n{sections[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
