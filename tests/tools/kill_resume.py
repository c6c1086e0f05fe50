#!/usr/bin/env python3
"""Kill a rank with SIGKILL at random instants, then check and resume.

usage: kill_resume.py AISP JOB WORKDIR [--trials N] [--seed S]
Each trial starts `aisp bench run --job JOB` (singleton), kills it after a
random delay, and checks that (1) every item the run reported done before the
kill is in the rank file, intact (status ok, samples match n_samples); (2) the
file is readable whatever the instant; (3) `--resume` completes the run with
every item ok. Prints one line per trial and the totals.
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import time

import h5py


def items_in(path):
    """{(instance, variant): n_samples} of the ok items in a rank file."""
    out = {}
    with h5py.File(path, "r") as f:
        for inst, g in f["targets"].items():
            for var, v in g.items():
                a = v.attrs
                if a["status"] == "ok":
                    n = len(v["samples_ms"])
                    if n != a["n_samples"] or n < a["iterations"]:
                        raise ValueError(f"{inst}/{var}: {n} samples vs n_samples {a['n_samples']}")
                    out[(inst, var)] = n
        status = f.attrs["status"]
    return out, status


def text_of(what, data):
    """data (bytes) as text; aisp prints text only, so bytes that are not
    UTF-8 raise ValueError naming the first bad byte and what surrounds it."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        around = data[max(0, e.start - 160):e.start + 40]
        raise ValueError(f"{what} printed byte {data[e.start]:#04x} at {e.start} of "
                         f"{len(data)}, not text: ...{around!r}...") from None


def trial(o, i, rng, total_items):
    d = os.path.join(o.workdir, f"k{i:03d}")
    p = subprocess.Popen([o.aisp, "bench", "run", "--job", o.job, "--out", d],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(rng.uniform(o.min_delay, o.max_delay))
    p.send_signal(signal.SIGKILL)
    raw, _ = p.communicate()
    try:
        out = text_of("the killed run", raw)
    except ValueError as e:
        return f"FAIL {e}"
    reported = set()
    for m in re.finditer(r"^\[\d+/\d+\] (\S+) (\S+) rank 0 \.\.\. [0-9.e+-]+ ms$", out, re.M):
        reported.add((m.group(1), m.group(2)))
    rank = os.path.join(d, "rank-00000.h5")
    if not os.path.exists(rank):
        if reported:
            return f"FAIL {len(reported)} items reported but no rank file"
        return "ok killed before the rank file existed"
    try:
        have, _ = items_in(rank)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the failure
        return f"FAIL rank file unreadable after kill: {e}"
    lost = reported - set(have)
    if lost:
        return f"FAIL reported but missing after kill: {sorted(lost)}"
    r = subprocess.run([o.aisp, "bench", "run", "--resume", d], capture_output=True)
    try:
        r_out = text_of("--resume on stdout", r.stdout)
        r_err = text_of("--resume on stderr", r.stderr)
    except ValueError as e:
        return f"FAIL {e}"
    if r.returncode != 0:
        return f"FAIL resume exit {r.returncode}: {r_out[-300:]} {r_err[-300:]}"
    rerun = len(re.findall(r"^\[\d+/\d+\]", r_out, re.M))
    after, status = items_in(rank)
    if len(after) != total_items or status != "complete":
        return f"FAIL after resume: {len(after)} items ok, status {status}"
    if rerun != total_items - len(have):
        return f"FAIL resume ran {rerun} items, {total_items - len(have)} were missing"
    return f"ok {len(reported)} reported, {len(have)} kept, {rerun} re-run"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aisp")
    ap.add_argument("job")
    ap.add_argument("workdir")
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--items", type=int, default=8)
    ap.add_argument("--min-delay", type=float, default=0.15)
    ap.add_argument("--max-delay", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    rng = random.Random(o.seed)
    fails = 0
    for i in range(o.trials):
        res = trial(o, i, rng, o.items)
        fails += res.startswith("FAIL")
        print(f"trial {i + 1}: {res}", flush=True)
    print(f"kill trials: {o.trials - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
