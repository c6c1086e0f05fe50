#!/usr/bin/env python3
"""SIGKILL a rank where loss could happen, then check and resume.

usage: kill_resume.py AISP JOB WORKDIR --shim SO [--trials N] [--seed S]

JOB has long items (tens of ms), then a batch of tiny items (committed
together), then long items again. Each trial starts `aisp bench run --job
JOB` (singleton) and kills it with SIGKILL at one of three kinds of instant,
taken in turn:
  item    after the k-th progress line (k random), a random part of an item
          later: during an item, or its commit;
  rename  stopped (SIGSTOP, by the LD_PRELOAD shim SO) at the j-th rename of
          the rank file: the new image is written and fsynced to .tmp, the
          rename that publishes it has not happened;
  tiny    a random instant inside the batch of tiny items.
Then: (1) every item the run reported done is in the rank file, intact
(status ok, samples match n_samples); (2) the file is readable; (3) at a
rename stop, the .tmp image is complete and the rank file is the previous
one; (4) `--resume` re-runs exactly the missing items and completes the run;
(5) what aisp prints is text (UTF-8): a byte that is not fails the trial,
named with its offset and what precedes it.
A trial tests surviving items only when at least one item was on disk at the
kill; the others are not counted. Fails when any check fails or when fewer
than 80% of the trials tested surviving items.
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

PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] (\S+) (\S+) rank 0 \.\.\. [0-9.e+-]+ ms$")
KINDS = ("item", "rename", "tiny")


def items_in(path):
    """{(instance, variant): n_samples} of the ok items in a rank file, and its status."""
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


def progress(text, seen):
    """Add the (instance, variant) of every progress line of text to seen."""
    for line in text.splitlines():
        m = PROGRESS.match(line)
        if m:
            seen.add((m.group(3), m.group(4)))


def stopped(pid):
    """True when process pid is stopped (state T)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def start(o, d, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.Popen([o.aisp, "bench", "run", "--job", o.job, "--out", d],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def read_until(p, n, seen, got):
    """Read progress lines into seen (the bytes into got) until the n-th;
    False if the run ended first. ValueError on output that is not text."""
    for raw in p.stdout:
        got += raw
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            text_of("the run", bytes(got))  # raises, with the bytes before
        m = PROGRESS.match(line.rstrip("\n"))
        if m:
            seen.add((m.group(3), m.group(4)))
            if int(m.group(1)) >= n:
                return True
    return False


def shim_env(o, stop):
    env = {"LD_PRELOAD": o.shim, "AISP_RENAME_SUFFIX": "rank-00000.h5",
           "AISP_RENAME_STOP": str(stop)}
    # an ASan binary wants its runtime first; the shim only wraps rename
    env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    return env


def kill_rename(o, d, stop, rank):
    """Run until the stop-th rename of the rank file, check the files there, kill.

    Returns (reported items, note or None, failure or None); ValueError on
    output that is not text."""
    p = start(o, d, shim_env(o, stop))
    seen = set()
    while p.poll() is None and not stopped(p.pid):
        time.sleep(0.002)
    if p.poll() is not None:  # fewer renames than stop in this run
        p.communicate()
        return seen, "finished first", None
    note = f"stopped at rename {stop}"
    fail = None
    try:
        tmp, _ = items_in(rank + ".tmp")
        old, _ = items_in(rank) if os.path.exists(rank) else ({}, None)
        if not set(old) <= set(tmp):
            fail = f"the .tmp image lacks items of the rank file: {sorted(set(old) - set(tmp))}"
    except Exception as e:  # noqa: BLE001 - an incomplete image is the failure
        fail = f".tmp image unreadable at the rename: {e}"
    p.send_signal(signal.SIGKILL)
    progress(text_of("the killed run", p.communicate()[0]), seen)
    return seen, note, fail


def kill_after_line(o, d, k, delay):
    """Kill delay seconds after the k-th progress line; the reported items.
    ValueError on output that is not text."""
    p = start(o, d)
    seen, got = set(), bytearray()
    try:
        reached = read_until(p, k, seen, got)
        if reached:
            time.sleep(delay)
    finally:
        p.send_signal(signal.SIGKILL)
        got += p.communicate()[0]
    progress(text_of("the killed run", bytes(got)), seen)
    return seen, None if reached and p.returncode == -signal.SIGKILL else "finished first"


def kill(o, d, kind, rng, layout, rank):
    """One kill of the given kind: (reported items, note, failure or None)."""
    fail = None
    if kind == "rename":
        stop = rng.randint(3, max(3, layout["renames"]))
        reported, note, fail = kill_rename(o, d, stop, rank)
        if note == "finished first":  # a loaded machine commits less often: the
            subprocess.run(["rm", "-rf", d], check=True)  # first commit of an item
            reported, note, fail = kill_rename(o, d, 3, rank)
    elif kind == "item":
        k = rng.randint(1, layout["total"] - 1)
        reported, note = kill_after_line(o, d, k, rng.uniform(0, layout["long_s"]))
        note = note or f"after item {k}"
    else:
        k = layout["tiny_first"] - 1
        reported, note = kill_after_line(o, d, k, rng.uniform(0, layout["tiny_s"]))
        where = "in" if len(reported) < layout["tiny_last"] else "after"  # a loaded machine
        note = note or f"{where} the tiny batch"                            # may be late
    return reported, note, fail


def trial(o, i, rng, layout):
    kind = KINDS[i % len(KINDS)]
    d = os.path.join(o.workdir, f"k{i:03d}")
    rank = os.path.join(d, "rank-00000.h5")
    try:
        reported, note, fail = kill(o, d, kind, rng, layout, rank)
    except ValueError as e:
        return kind, False, f"FAIL {e}"
    if fail:
        return kind, False, f"FAIL {note}: {fail}"
    if not os.path.exists(rank):
        if reported:
            return kind, False, f"FAIL {len(reported)} items reported but no rank file"
        return kind, False, f"ok {note}: no rank file yet (not counted)"
    try:
        have, _ = items_in(rank)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the failure
        return kind, False, f"FAIL {note}: rank file unreadable after kill: {e}"
    lost = reported - set(have)
    if lost:
        return kind, False, f"FAIL {note}: reported but missing after kill: {sorted(lost)}"
    r = subprocess.run([o.aisp, "bench", "run", "--resume", d], capture_output=True)
    try:
        r_out = text_of("--resume on stdout", r.stdout)
        r_err = text_of("--resume on stderr", r.stderr)
    except ValueError as e:
        return kind, False, f"FAIL {note}: {e}"
    if r.returncode != 0:
        return kind, False, f"FAIL resume exit {r.returncode}: {r_out[-300:]} {r_err[-300:]}"
    rerun = len(re.findall(r"^\[\d+/\d+\]", r_out, re.M))
    after, status = items_in(rank)
    if len(after) != layout["total"] or status != "complete":
        return kind, False, f"FAIL after resume: {len(after)} items ok, status {status}"
    if rerun != layout["total"] - len(have):
        return kind, False, f"FAIL resume ran {rerun} items, {layout['total'] - len(have)} were missing"
    counted = len(have) > 0 and note != "finished first"
    return kind, counted, (f"ok {note}: {len(reported)} reported, {len(have)} kept, {rerun} re-run"
                           + ("" if counted else " (not counted)"))


def calibrate(o):
    """One whole run: item count, the tiny batch's place and length, renames."""
    d = os.path.join(o.workdir, "whole")
    log = os.path.join(o.workdir, "renames.log")
    env = shim_env(o, 0)
    env["AISP_RENAME_LOG"] = log
    t0 = time.monotonic()
    p = start(o, d, env)
    times, medians = [], []
    for raw in p.stdout:
        try:
            line = text_of("the whole run", raw)
        except ValueError as e:
            sys.exit(f"kill_resume: {e}")
        m = PROGRESS.match(line.rstrip("\n"))
        if m:
            times.append(time.monotonic() - t0)
            medians.append(float(line.split("...")[1].split()[0]))
    if p.wait() != 0 or not medians:
        sys.exit(f"kill_resume: the whole run failed (exit {p.returncode})")
    tiny = [i for i, v in enumerate(medians) if v < 1.0]
    if not tiny or tiny[0] == 0:
        sys.exit("kill_resume: the job needs long items before a batch of tiny ones")
    with open(log) as f:
        renames = len(f.readlines())
    gaps = sorted(times[i + 1] - times[i] for i in range(len(times) - 1)
                  if medians[i] >= 1.0 and medians[i + 1] >= 1.0)
    long_s = gaps[len(gaps) // 2]  # one long item, as this machine runs it now
    return {"total": len(medians), "tiny_first": tiny[0] + 1, "tiny_last": tiny[-1] + 1,
            "renames": renames,
            "long_s": long_s, "tiny_s": times[tiny[-1]] - times[tiny[0] - 1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aisp")
    ap.add_argument("job")
    ap.add_argument("workdir")
    ap.add_argument("--shim", required=True)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    rng = random.Random(o.seed)
    layout = calibrate(o)
    print(f"whole run: {layout['total']} items, tiny batch from item {layout['tiny_first']}, "
          f"{layout['renames']} rank-file renames", flush=True)
    fails = 0
    counted = {k: 0 for k in KINDS}
    for i in range(o.trials):
        kind, tested, res = trial(o, i, rng, layout)
        fails += res.startswith("FAIL")
        counted[kind] += tested
        print(f"trial {i + 1} ({kind}): {res}", flush=True)
    n = sum(counted.values())
    need = (4 * o.trials + 4) // 5
    print(f"kill trials: {o.trials - fails} passed, {fails} failed; {n} of {o.trials} tested "
          f"surviving items (" + ", ".join(f"{k} {v}" for k, v in counted.items()) +
          f"; at least {need} needed)")
    return 1 if fails or n < need else 0


if __name__ == "__main__":
    sys.exit(main())
