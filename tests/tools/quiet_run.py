#!/usr/bin/python3
"""quiet_run.py - a real run as a quiet machine would have measured it.

  quiet_run.py REF_DIR SRC OUT [--noise 0.005] [--spread 0.003] [--seed S]

Copies the run directory SRC to OUT unchanged (names, nodes, ranks, UUIDs,
test knobs, job.yaml) except the samples of every ok variant: they become
controlled samples (fleet_from_run.controlled_samples: within-run noise R,
no randomness) around centre x knob x g, where centre is the variant's
quiet time (fleet_from_run.centres over REF_DIR: the median over its rank
files of each sample median over its knob factor), knob is
1 + AISP_TEST_SLOW_PCT/100 of the file's own test knobs and g = exp(N(0,
spread)) a factor per GPU (seeded by --seed and the rank). So the verdicts
on OUT depend on the knobs the run was made with, never on how busy the
machine was while it ran; runs quieted against the same REF_DIR share
their centres and can be compared with each other.
"""
import argparse
import glob
import os
import shutil
import sys

import h5py
import numpy as np

from fleet_from_run import centres, controlled_samples, knob_factor, set_samples, text


def quiet_file(path, centre, a):
    with h5py.File(path, "r+") as f:
        rng = np.random.default_rng([a.seed, int(f.attrs["rank"])])
        scale = knob_factor(f) * float(np.exp(rng.normal(0.0, a.spread)))
        for inst, ig in f.get("targets", {}).items():
            for var, vg in ig.items():
                n = len(vg["samples_ms"]) if "samples_ms" in vg else 0
                c = centre.get((inst, var))
                if text(vg.attrs.get("status", "")) == "ok" and n and c:
                    set_samples(vg, controlled_samples(c * scale, n, a.noise))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ref")
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--noise", type=float, default=0.005)
    p.add_argument("--spread", type=float, default=0.003)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if not glob.glob(os.path.join(a.src, "rank-*.h5")):
        print("quiet_run.py: %s: no rank files" % a.src, file=sys.stderr)
        return 2
    centre = centres([a.ref])
    shutil.copytree(a.src, a.out)
    for path in sorted(glob.glob(os.path.join(a.out, "rank-*.h5"))):
        quiet_file(path, centre, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
