#!/usr/bin/python3
"""hostile_rank_file.py SRC DST KIND - a copy of rank file SRC whose names
carry hostile text (HTML, '/', '..', control characters), for the hostile
input tests. KIND: names (group and attribute names and strings), hwkey
(hardware_key '../../<script>'), long (4000-character names)."""
import shutil
import sys

import h5py

XSS = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
STR = h5py.string_dtype("utf-8")


def put(obj, name, value):
    obj.attrs.create(name, value, dtype=STR)


def rename_all(f, make):
    """Rename every target instance and variant group with make(old, i)."""
    t = f["targets"]
    for i, inst in enumerate(list(t.keys())):
        for j, var in enumerate(list(t[inst].keys())):
            g = t[inst][var]
            if not isinstance(g, h5py.Group):
                continue
            put(g, "technique", XSS + "/" + make("technique", i * 3 + j))
            put(g, "message", XSS + "/" + make("message", i * 3 + j))
            t[inst].move(var, make(var, i * 3 + j))
        put(t[inst], "target", make(inst, i))
        t.move(inst, make(inst, i))


def main():
    src, dst, kind = sys.argv[1:4]
    shutil.copy(src, dst)
    with h5py.File(dst, "a") as f:
        if kind == "names":
            # group names cannot hold '/' (HDF5's separator)
            bad = ["<script>alert(1)", IMG, "..", "a\\b", "x\x1b[31my", "..%2f..%2fetc"]
            rename_all(f, lambda old, i: old[:8] + bad[i % len(bad)])
            for k in ("node", "hostname", "gpu_name", "run_id", "job_name", "git_commit",
                      "command_line", "driver", "gpu_serial"):
                put(f, k, XSS + "/../" + IMG)
        elif kind == "hwkey":
            put(f, "hardware_key", "../../" + XSS)
        elif kind == "long":
            rename_all(f, lambda old, i: old + str(i) + "n" * 4000)
            put(f, "node", "n" * 100000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
