#!/bin/sh
# gather over 8 synthetic GPUs in 2 runs, one 30% slower: it is flagged alone,
# the numbers match an independent numpy computation, the expectations file
# is the book's schema, and the output is deterministic.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
expect_exit 0 "gather of 2 runs exits 0" "$AISP" gather "$T/runA" "$T/runB" --out "$T/g"
expect_text "8 rank files from 2 runs, 0 skipped" "8 rank files from 2 runs read"
n=$(grep -c "^gather: outlier" "$T/out")
[ "$n" = 6 ] && ok "6 outliers (one per variant)" || no "6 outliers (one per variant): got $n"
others=$(grep "^gather: outlier" "$T/out" | grep -v "GPU $SLOW_GPU on node n04 " | wc -l)
[ "$others" = 0 ] && ok "every outlier is the slowed GPU on n04" || no "outliers name other GPUs"
check "fleet.h5: exactly the slowed GPU has status outlier" "$PY" - "$T/g/fleet.h5" "$SLOW_GPU" <<'PYEOF'
import sys, h5py
rows = h5py.File(sys.argv[1])["gpus"][()]
bad = {(r["gpu_uuid"].decode(), r["node"].decode()) for r in rows if r["status"] != b"ok"}
print("    flagged:", bad)
sys.exit(0 if bad == {(sys.argv[2], "n04")} and len(rows) == 8 * 6 else 1)
PYEOF
check "numbers match numpy (tests/tools/check_fleet.py)" "$PY" "$TOOLS/check_fleet.py" "$T/g" "$T/runA" "$T/runB"
check "expectations: book schema v2 with fleet section and both runs" "$PY" - "$T/g/expectations_2x_test_gpu.json" <<'PYEOF'
import sys, json
d = json.load(open(sys.argv[1]))
assert d["schema_version"] == 2 and d["hardware_key"] == "2x_test_gpu", d.keys()
assert sorted(d["examples"]) == ["gemm_cuda", "performance_cuda"], sorted(d["examples"])
for k, e in d["examples"].items():
    for f in ("example", "type", "metrics", "metadata", "provenance", "fleet"):
        assert f in e, (k, f)
    m = e["metrics"]
    for f in ("baseline_time_ms", "baseline_p75_ms", "best_optimized_time_ms", "best_speedup",
              "baseline_throughput.latency_ms", "baseline_throughput.requests_per_s"):
        assert isinstance(m[f], float), (k, f)
    assert abs(m["baseline_throughput.requests_per_s"] * m["baseline_time_ms"] - 1000) < 1e-9
    assert e["fleet"]["gpus"] == 8 and e["fleet"]["nodes"] == 4, e["fleet"]
    assert [r["run_id"] for r in e["provenance"]["runs"]] == ["runA", "runB"]
    assert e["metadata"]["best_optimization"] in e["fleet"]["variants"]
PYEOF
check "expectations text is exactly Python's json.dump(indent=2, sort_keys=True)" "$PY" - "$T/g/expectations_2x_test_gpu.json" <<'PYEOF'
import sys, json
t = open(sys.argv[1]).read()
sys.exit(0 if json.dumps(json.loads(t), indent=2, sort_keys=True) + "\n" == t else 1)
PYEOF
"$AISP" gather "$T/runB" "$T/runA" --out "$T/g2" >/dev/null 2>&1
check "a second gather (runs in the other order) gives identical fleet numbers" \
	sh -c "sed '/\"dir\"\\|\"run_id\"\\|\"git_commit\"\\|\"end_utc\"\\|\"start_utc\"\\|rank_files\\|world_size\\|\"timestamp\"/d' '$T/g/expectations_2x_test_gpu.json' >'$T/a.json' &&
	       sed '/\"dir\"\\|\"run_id\"\\|\"git_commit\"\\|\"end_utc\"\\|\"start_utc\"\\|rank_files\\|world_size\\|\"timestamp\"/d' '$T/g2/expectations_2x_test_gpu.json' >'$T/b.json' && cmp -s '$T/a.json' '$T/b.json'"
cp "$T/g/expectations_2x_test_gpu.json" "$T/first.json"
"$AISP" gather "$T/runA" "$T/runB" --out "$T/g" >/dev/null 2>&1
check "gathering again over the existing file gives the same bytes" cmp -s "$T/first.json" "$T/g/expectations_2x_test_gpu.json"
"$PY" - "$T/g/expectations_2x_test_gpu.json" <<'PYEOF'
import sys, json
d = json.load(open(sys.argv[1]))
d["examples"]["gemm_cuda"]["tolerance"] = {"lower": 0.1, "upper": 0.4}
d["examples"]["zz_kept_host"] = {"example": "zz_kept", "type": "host", "metrics": {"baseline_time_ms": 1.0},
                                 "metadata": {}, "provenance": {}, "note": "mine"}
json.dump(d, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PYEOF
"$AISP" gather "$T/runA" "$T/runB" --out "$T/g" >/dev/null 2>&1
check "an update keeps hand-set tolerances and other examples" "$PY" - "$T/g/expectations_2x_test_gpu.json" <<'PYEOF'
import sys, json
d = json.load(open(sys.argv[1]))
assert d["examples"]["gemm_cuda"]["tolerance"] == {"lower": 0.1, "upper": 0.4}
assert d["examples"]["zz_kept_host"]["note"] == "mine"
PYEOF
"$PY" "$TOOLS/make_rank_files.py" --out "$T/runC" --ranks 4 --gpus-per-node 4 --node-prefix m \
	--run-id runC --hardware-key 4x_other_gpu --gpu-name "Other GPU" --seed 5
expect_exit 0 "gather of two hardware keys exits 0" "$AISP" gather "$T/runA" "$T/runC" --out "$T/g3"
check "one expectations file per hardware key, each with its own GPUs" "$PY" - "$T/g3" <<'PYEOF'
import sys, json
a = json.load(open(sys.argv[1] + "/expectations_2x_test_gpu.json"))
b = json.load(open(sys.argv[1] + "/expectations_4x_other_gpu.json"))
assert a["hardware_key"] == "2x_test_gpu" and b["hardware_key"] == "4x_other_gpu"
assert a["examples"]["gemm_cuda"]["fleet"]["gpus"] == 4 and a["examples"]["gemm_cuda"]["fleet"]["nodes"] == 2
assert b["examples"]["gemm_cuda"]["fleet"]["gpus"] == 4 and b["examples"]["gemm_cuda"]["fleet"]["nodes"] == 1
assert [r["run_id"] for r in b["examples"]["gemm_cuda"]["provenance"]["runs"]] == ["runC"]
PYEOF
check "numbers of both keys match numpy" "$PY" "$TOOLS/check_fleet.py" "$T/g3" "$T/runA" "$T/runC"
finish
