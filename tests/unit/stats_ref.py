#!/usr/bin/python3
"""stats_ref.py - independent numpy reference for tests/unit/test_stats.c.

Run with /usr/bin/python3 (numpy). Prints the numbers hard-coded in
test_stats.c; rerun it when a data set there changes.
"""
import math

import numpy as np


def gen(n):
    # Same expression, same order of operations as gen() in test_stats.c.
    return np.array([1.0 + 0.01 * ((i * 37) % 101) + 0.001 * i for i in range(n)])


SETS = {
    "seven": np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6]),
    "ten": np.array([0.51, 0.49, 0.5, 0.52, 0.48, 0.5, 3.9, 0.47, 0.53, 0.5]),
    "gen50": gen(50),
    "gen1000": gen(1000),
}


def ci_rel(x):
    s = np.sort(x)
    n = len(s)
    if n < 6:
        return math.inf
    lo = max(0, math.floor(n / 2 - 0.98 * math.sqrt(n)))
    hi = min(n - 1, math.ceil(n / 2 + 0.98 * math.sqrt(n)))
    return (s[hi] - s[lo]) / 2 / abs(np.median(s))


for name, x in SETS.items():
    med = np.median(x)
    print(f"/* {name} */")
    print(f"  n={len(x)}")
    for label, v in [
        ("median", med),
        ("mean", np.mean(x)),
        ("stddev", np.std(x, ddof=1)),
        ("p10", np.quantile(x, 0.10, method="linear")),
        ("p75", np.quantile(x, 0.75, method="linear")),
        ("p90", np.quantile(x, 0.90, method="linear")),
        ("p99", np.quantile(x, 0.99, method="linear")),
        ("min", np.min(x)),
        ("max", np.max(x)),
        ("mad", np.median(np.abs(x - med))),
        ("ci_rel", ci_rel(x)),
        ("q0.333", np.quantile(x, 0.333, method="linear")),
    ]:
        print(f"  {label} = {v!r}")
