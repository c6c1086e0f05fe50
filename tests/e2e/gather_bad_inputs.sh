#!/bin/sh
# gather, compare and report on bad input: corrupt, truncated, foreign and
# missing rank files are named and skipped (exit 3), never a crash; bad
# command lines exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
R=$T/runA
expect_exit 0 "gather of a healthy run exits 0" "$AISP" gather "$R" --out "$T/g0"
head -c 3000 "$R/rank-00003.h5" >"$R/rank-00004.h5"
echo "not hdf5 at all" >"$R/rank-00005.h5"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"w"); f["x"]=[1,2,3]; f.attrs["tool"]="other"' "$R/rank-00006.h5"
"$PY" - "$R/rank-00007.h5" "$R/rank-00002.h5" <<'PYEOF'
import sys, shutil, h5py
shutil.copy(sys.argv[2], sys.argv[1])
with h5py.File(sys.argv[1], "a") as f:
    del f.attrs["hardware_key"]
    f.attrs["rank"] = 7
PYEOF
"$PY" - "$R/rank-00008.h5" "$R/rank-00002.h5" <<'PYEOF'
import sys, shutil, h5py
shutil.copy(sys.argv[2], sys.argv[1])
with h5py.File(sys.argv[1], "a") as f:
    f.attrs["schema_version"] = 99
PYEOF
expect_exit 3 "gather with corrupt, truncated and foreign files exits 3" "$AISP" gather "$R" --out "$T/g1"
expect_text "skipped $R/rank-00004.h5: not a readable HDF5 file" "truncated file named"
expect_text "skipped $R/rank-00005.h5: not a readable HDF5 file" "text file named"
expect_text "skipped $R/rank-00006.h5: not an aisp rank file" "foreign HDF5 file named"
expect_text "skipped $R/rank-00007.h5: root attribute hardware_key: missing" "missing attribute named with its file"
expect_text "skipped $R/rank-00008.h5: root attribute schema_version: 99, expected 1" "wrong rank-file schema named"
expect_text "4 rank files from 1 runs, 5 skipped" "the good files are still gathered"
check "fleet.h5 lists the 5 skipped files" "$PY" -c 'import h5py,sys; sys.exit(0 if len(h5py.File(sys.argv[1])["skipped"]) == 5 else 1)' "$T/g1/fleet.h5"
check "the good files give the same expectations as before" cmp -s "$T/g0/expectations_2x_test_gpu.json" "$T/g1/expectations_2x_test_gpu.json"
rm -f "$R"/rank-0000[4-8].h5
rm "$R/rank-00001.h5"
expect_exit 3 "a run missing a rank file exits 3" "$AISP" gather "$R" --out "$T/g2"
expect_text "incomplete run runA in $R: 3 of 4 rank files" "the incomplete run is named"
mkdir "$T/empty"
expect_exit 3 "an empty run directory exits 3" "$AISP" gather "$T/empty" --out "$T/g3"
expect_text "$T/empty: no rank-*.h5 files" "the empty directory is named"
expect_exit 2 "a missing run directory exits 2" "$AISP" gather "$T/nope" --out "$T/g4"
expect_text "$T/nope: No such file or directory" "the missing directory is named"
expect_exit 2 "gather without RUN_DIR exits 2" "$AISP" gather
expect_exit 2 "gather with an unknown option exits 2" "$AISP" gather --bogus "$R"
expect_exit 2 "gather --z not a number exits 2" "$AISP" gather --z abc "$R"
expect_exit 0 "gather --help exits 0" "$AISP" gather --help
expect_text "usage: aisp gather" "gather --help prints usage"
mkdir -p "$T/gx" && echo '{"schema_version": 2' >"$T/gx/expectations_2x_test_gpu.json"
expect_exit 2 "a broken existing expectations file is not overwritten (exit 2)" "$AISP" gather "$T/runB" --out "$T/gx"
expect_text "$T/gx/expectations_2x_test_gpu.json:2:0: bad JSON" "the broken file is named with its line"
expect_text "(it exists: fix or remove it)" "and what to do"
expect_exit 2 "compare without --expectations exits 2" "$AISP" compare "$R"
expect_exit 0 "compare --help exits 0" "$AISP" compare --help
expect_exit 2 "report without -o exits 2" "$AISP" report "$R"
expect_exit 0 "report --help exits 0" "$AISP" report --help
expect_exit 3 "report of an empty directory exits 3" "$AISP" report "$T/empty" -o "$T/r.md"
finish
