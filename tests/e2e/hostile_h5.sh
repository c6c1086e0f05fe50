#!/bin/sh
# Hostile rank files through gather, compare and report: empty, truncated,
# text, foreign HDF5, random, sparse 1 GB, a directory, a FIFO, a symlink
# loop or to /dev/zero, and rank files whose names and strings carry HTML,
# '/', '..' or control characters. Each bad file is named and skipped (exit
# 3), never a crash or a hang; a hostile hardware_key never reaches a file
# path; HTML and markdown reports escape
# every name (no raw '<script' or '<img').
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" --out "$T/g" >/dev/null 2>&1 || no "gather of the fixture"
E=$T/g/expectations_2x_test_gpu.json
tried=0
# Files that are not rank files, next to the 4 good ones of runA.
R=$T/bad && mkdir "$R" && cp "$T"/runA/*.h5 "$R"/
: >"$R/rank-00004.h5"
truncate -s 1G "$R/rank-00005.h5"
mkdir "$R/rank-00006.h5"
mkfifo "$R/rank-00007.h5"
ln -s rank-00008.h5 "$R/rank-00008.h5"
ln -s /dev/zero "$R/rank-00009.h5"
head -c 100000 /dev/urandom >"$R/rank-00010.h5"
head -c 3000 "$T/runA/rank-00001.h5" >"$R/rank-00011.h5"
echo "not hdf5 at all" >"$R/rank-00012.h5"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"w"); f["x"]=[1,2,3]; f.attrs["tool"]="<script>"' "$R/rank-00013.h5"
tried=$((tried + 10))
for c in gather compare report; do
	case $c in
	gather) set -- "$AISP" gather "$R" --out "$T/gb" --file-timeout 10 ;;
	compare) set -- "$AISP" compare "$R" --expectations "$E" ;;
	report) set -- "$AISP" report "$R" -o "$T/bad.md" ;;
	esac
	expect_exit 3 "$c over 10 bad files among 4 good ones" timeout 120 "$@"
	[ $c = report ] && cat "$T/bad.md" >>"$T/out" # the report names them in the file
	for n in 4 5 6 7 8 9 10 11 12 13; do
		f=$(printf '%s/rank-%05d.h5' "$R" "$n")
		expect_text "$f" "$c names $(basename "$f")"
	done
done
# Hostile names and strings (tests/tools/hostile_rank_file.py).
H=$T/hostile && mkdir "$H" && cp "$T"/runA/*.h5 "$H"/
"$PY" "$TOOLS/hostile_rank_file.py" "$T/runA/rank-00001.h5" "$H/rank-00001.h5" names &&
	"$PY" "$TOOLS/hostile_rank_file.py" "$T/runA/rank-00002.h5" "$H/rank-00002.h5" hwkey &&
	"$PY" "$TOOLS/hostile_rank_file.py" "$T/runA/rank-00003.h5" "$H/rank-00003.h5" long ||
	no "hostile rank files"
tried=$((tried + 3))
touch "$T/marker"
expect_exit 3 "gather of hostile names (the hardware_key file skipped)" "$AISP" gather "$H" --out "$T/gh"
expect_text "rank-00002.h5: root attribute hardware_key: '../../<script>alert(1)</script>' is not a safe file name" \
	"the unsafe hardware_key is named"
expect_text "...: instance name longer than 127 characters" \
	"a name longer than 127 characters is refused, not cut"
check "gather wrote nothing but its three files" test "$(find "$T" -newer "$T/marker" -type f | sort | tr '\n' ' ')" = \
	"$T/gh/expectations_2x_test_gpu.json $T/gh/fleet.h5 $T/gh/history.h5 $T/out "
check "the expectations file of the good hardware key is written" test -s "$T/gh/expectations_2x_test_gpu.json"
for fmt in html md; do
	"$AISP" report "$H" --expectations "$E" -o "$T/h.$fmt" >"$T/out" 2>&1
	rc=$?
	case $rc in 1|3) ok "report.$fmt of hostile names (exit $rc)" ;; *) no "report.$fmt of hostile names (exit $rc)"; head -5 "$T/out" ;; esac
	# HTML escapes as entities, markdown with a backslash (no entities there)
	check "report.$fmt: no raw <script or <img" sh -c "! grep -qiE '(^|[^\\\\])<(script|img)' '$T/h.$fmt'"
	esc='&lt;script&gt;' && [ $fmt = md ] && esc='\\<script>'
	check "report.$fmt: the names are there, escaped" grep -q "$esc" "$T/h.$fmt"
	check "report.$fmt: no control characters" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T/h.$fmt' || ! LC_ALL=C tr -d '\n\t' <'$T/h.$fmt' | grep -q '[[:cntrl:]]'"
done
"$AISP" compare "$H" --expectations "$E" --drain-list "$T/drain.txt" >"$T/out" 2>&1
rc=$?
case $rc in 1|3) ok "compare of hostile names (exit $rc)" ;; *) no "compare of hostile names (exit $rc)"; head -5 "$T/out" ;; esac
check "drain list: one 'node reason' line per node, no control characters" \
	sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T/drain.txt' && ! grep -qvE '^[^ ]+ aisp ' '$T/drain.txt'"
echo "# hostile_h5: $tried hostile rank files tried"
finish
