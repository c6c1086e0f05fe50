#!/usr/bin/python3
"""fuzz_rank_file.py - mutate a rank file (random bytes, truncation) and run
`aisp gather` on each mutant: it must exit 0, 2 or 3, never crash or hang.

  fuzz_rank_file.py AISP RANK_FILE WORKDIR COUNT [SEED]
Prints one line per failure and a summary; exits 1 on any failure.
"""
import os
import random
import shutil
import subprocess
import sys


def main():
    aisp, src, work, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    data = open(src, "rb").read()
    run = os.path.join(work, "run")
    os.makedirs(run, exist_ok=True)
    bad = 0
    for i in range(count):
        d = bytearray(data)
        for _ in range(rng.choice([1, 4, 16, 64])):
            d[rng.randrange(len(d))] = rng.randrange(256)
        if rng.random() < 0.2:
            d = d[:rng.randrange(len(d))]
        with open(os.path.join(run, "rank-00000.h5"), "wb") as f:
            f.write(d)
        try:
            r = subprocess.run([aisp, "gather", run, "--out", os.path.join(work, "out"),
                                "--file-timeout", "2"], capture_output=True, timeout=60)
            rc = r.returncode
        except subprocess.TimeoutExpired:
            rc = "hang"
        if rc not in (0, 2, 3):
            bad += 1
            keep = os.path.join(work, "fail-%d.h5" % i)
            shutil.copy(os.path.join(run, "rank-00000.h5"), keep)
            print("not ok - mutant %d: exit %s (kept %s)" % (i, rc, keep))
    print("%s - %d mutants of %s, %d failures" % ("ok" if not bad else "not ok", count, src, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
