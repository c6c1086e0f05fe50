#!/bin/sh
# Hostile expectations files through aisp compare and aisp report: every bad
# file of tests/fuzz/corpus/expect/ (bad-*) gets exit 2 and a message naming
# the file and the place (line:column or JSON path); names with '/', '..' or
# HTML (name-*) never crash and never reach the HTML report unescaped; a good
# drain list or report is unchanged by a refused run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
C=$(cd "$(dirname "$0")/../fuzz/corpus/expect" && pwd)
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" --out "$T/g" >/dev/null 2>&1 || no "gather of the fixture"
E=$T/g/expectations_2x_test_gpu.json
printf 'n99 kept from an earlier compare\n' >"$T/drain.txt"
"$AISP" report "$T/runA" --expectations "$E" -o "$T/good.html" >/dev/null 2>&1
sum() { cksum "$T/drain.txt" "$T/good.html" | awk '{print $1 $2}' | tr -d '\n'; }
before=$(sum)
tried=0
# place_ok FILE: the last output names FILE then a place: ":L:C:" or ": field".
place_ok() { grep -qE -- "$1(:[0-9]+:[0-9]+: |: [a-z_]+[a-z_.]*[:]|: top level:|: cannot read|: short read)" "$T/out"; }
for f in "$C"/bad-*; do
	n=$(basename "$f")
	tried=$((tried + 1))
	expect_exit 2 "compare refuses $n" "$AISP" compare "$T/runA" --expectations "$f" --drain-list "$T/drain.txt"
	if place_ok "$f"; then ok "$n: message names file and place"; else no "$n: message names file and place"; sed 's/^/    /' "$T/out" | head -3; fi
	expect_exit 2 "report refuses $n" "$AISP" report "$T/runA" --expectations "$f" -o "$T/good.html"
done
check "good drain list and report unchanged after $tried refused files" test "$(sum)" = "$before"
# gather updates an existing expectations file: a bad one is named, exit 2,
# and left as it was (and fleet.h5 is not half-written beside it).
mkdir "$T/gx"
for f in "$C"/bad-*; do
	n=$(basename "$f")
	tried=$((tried + 1))
	cp "$f" "$T/gx/expectations_2x_test_gpu.json"
	expect_exit 2 "gather refuses to update $n" "$AISP" gather "$T/runA" --out "$T/gx"
	expect_text "$T/gx/expectations_2x_test_gpu.json" "gather names the file ($n)"
	check "$n left as it was" cmp -s "$f" "$T/gx/expectations_2x_test_gpu.json"
done
check "no fleet.h5 written beside a bad expectations file" test ! -e "$T/gx/fleet.h5"
# Names with '/', '..', HTML: the corpus's name-* files carry the fixture's
# hardware key here; hostile.json puts such names into every string field a
# report may show (example, type, technique, variant keys, an extra example).
for f in "$C"/name-*; do
	sed 's/"b200"/"2x_test_gpu"/' "$f" >"$T/$(basename "$f")"
done
"$PY" - "$E" "$T/name-hostile.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = ['<script>alert(1)</script>', '../../etc/passwd', 'a/b', '"><img src=x onerror=alert(1)>']
exs = d['examples']
for i, (k, ex) in enumerate(list(exs.items())):
    b = bad[i % len(bad)]
    ex['type'] = b
    ex['metadata']['best_optimization'] = b
    for vk, v in list(ex.get('fleet', {}).get('variants', {}).items()):
        v['technique'] = b
        v['role'] = b
    exs[b + str(i)] = dict(ex, example=b)
json.dump(d, open(sys.argv[2], 'w'))
PYEOF
for f in "$T"/name-*; do
	n=$(basename "$f")
	tried=$((tried + 1))
	"$AISP" compare "$T/runA" --expectations "$f" --drain-list "$T/d2.txt" >"$T/out" 2>&1
	rc=$?
	case $rc in 0|1|2|3) ok "compare $n (exit $rc)" ;; *) no "compare $n (exit $rc)"; head -5 "$T/out" ;; esac
	"$AISP" report "$T/runA" --expectations "$f" -o "$T/n.html" >"$T/out" 2>&1
	rc=$?
	case $rc in 0|1|2|3) ok "report $n (exit $rc)" ;; *) no "report $n (exit $rc)"; head -5 "$T/out" ;; esac
	[ "$n" = name-hostile.json ] && check "$n: the hostile names reach report.html escaped" grep -q "&lt;script&gt;" "$T/n.html"
	check "$n: no raw <script or <img in report.html" sh -c "! grep -qiE '<script|<img' '$T/n.html'"
	check "$n: drain list lines are 'node reason'" sh -c "! grep -qvE '^[A-Za-z0-9_.:-]+ ' '$T/d2.txt'"
done
# Not a file: a directory, a missing file, /dev/null, a FIFO with no writer.
for f in "$T" "$T/none.json" /dev/null; do
	tried=$((tried + 1))
	expect_exit 2 "compare --expectations $f" "$AISP" compare "$T/runA" --expectations "$f"
	expect_text "$f" "message names $f"
done
mkfifo "$T/fifo"
tried=$((tried + 1))
expect_exit 2 "compare --expectations FIFO (no hang)" timeout 20 "$AISP" compare "$T/runA" --expectations "$T/fifo"
# A 20 MB file of '[' and a 5 MB string value.
"$PY" -c "import sys; sys.stdout.write('[' * 20000000)" >"$T/big.json"
"$PY" -c "import sys; sys.stdout.write('{\"schema_version\": 2, \"hardware_key\": \"' + 'x' * 5000000 + '\", \"examples\": {}}')" >"$T/long.json"
tried=$((tried + 2))
expect_exit 2 "20 MB of '['" "$AISP" compare "$T/runA" --expectations "$T/big.json"
expect_text "big.json:1:" "deep nesting names line:column"
"$AISP" compare "$T/runA" --expectations "$T/long.json" >"$T/out" 2>&1
rc=$?
case $rc in 1|2|3) ok "5 MB hardware_key: judged or refused (exit $rc)" ;; *) no "5 MB hardware_key (exit $rc)" ;; esac
# Strings of the expectations file that compare prints (hardware_key, commit)
# never reach the terminal as control codes.
"$PY" -c "
import json, sys
d = json.load(open(sys.argv[1])); k = d['examples']
for e in k.values():
    e['provenance']['git_commit'] = 'c0ffee\x1b[2J'
json.dump(d, open(sys.argv[2], 'w'))" "$E" "$T/esc.json"
"$AISP" compare "$T/runA" --expectations "$T/esc.json" >"$T/out" 2>&1
tried=$((tried + 1))
if LC_ALL=C tr -d '\n\t' <"$T/out" | LC_ALL=C grep -q '[[:cntrl:]]'; then
	no "an escape sequence in the file's git commit reached compare's output"
else
	ok "compare prints the file's strings without control characters"
fi
echo "# hostile_expect: $tried inputs tried"
finish
