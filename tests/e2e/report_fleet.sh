#!/bin/sh
# report of a synthetic fleet with a slow GPU: the HTML shows that GPU and
# its node (tables and a red mark in the SVG plot), markdown likewise, and
# every string from the input is escaped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" "$T/runB" --out "$T/g" >/dev/null
E=$T/g/expectations_2x_test_gpu.json
expect_exit 1 "HTML report with expectations exits 1 (as compare)" \
	"$AISP" report "$T/runA" "$T/runB" --expectations "$E" -o "$T/r.html"
check "HTML: node n04 is regressed in the verdict table" grep -q "<tr><td>n04</td><td>regressed</td>" "$T/r.html"
check "HTML: the slowed GPU is in the findings" grep -q "<td>regressed</td><td>ch01:gemm/baseline_gemm</td><td>$SLOW_GPU</td><td>n04</td>" "$T/r.html"
check "HTML: rank map row of the slowed GPU" grep -q "<tr><td>runB</td><td>2</td><td>n04</td><td>n04</td><td>0</td><td>NVIDIA Test GPU</td><td>$SLOW_GPU</td><td>complete</td><td>regressed</td></tr>" "$T/r.html"
n=$(grep -c "<svg" "$T/r.html")
[ "$n" = 6 ] && ok "HTML: one SVG plot per variant (6)" || no "HTML: 6 SVG plots (got $n)"
check "HTML: the slowed GPU is marked red and labelled n04 in the plots" grep -q 'fill="#c00" text-anchor="middle">n04</text>' "$T/r.html"
check "HTML: well formed (every element closed, SVG parses as XML)" "$PY" - "$T/r.html" <<'PYEOF'
import sys, re, html.parser, xml.etree.ElementTree as ET
t = open(sys.argv[1]).read()
class P(html.parser.HTMLParser):
    void = {"meta", "br"}
    def __init__(s): super().__init__(); s.stack = []
    def handle_starttag(s, tag, a):
        if tag not in s.void: s.stack.append(tag)
    def handle_endtag(s, tag):
        assert s.stack and s.stack[-1] == tag, (tag, s.stack[-5:]); s.stack.pop()
p = P(); p.feed(t); assert p.stack == [], p.stack
for svg in re.findall(r"<svg.*?</svg>", t, re.S):
    ET.fromstring(svg)
PYEOF
expect_exit 1 "markdown report exits 1 too" "$AISP" report "$T/runA" "$T/runB" --expectations "$E" -o "$T/r.md"
check "markdown: node n04 regressed" grep -q "^| n04 | regressed |" "$T/r.md"
check "markdown: outlier table names the slowed GPU" grep -q "^| outlier | ch01:gemm/baseline\\\\_gemm | $SLOW_GPU | n04 | 2 |" "$T/r.md"
expect_exit 0 "report without expectations exits 0" "$AISP" report "$T/runA" "$T/runB" -o "$T/plain.html"
check "without expectations the fleet outlier is still reported" grep -q "<td>outlier</td><td>ch01:gemm/baseline_gemm</td><td>$SLOW_GPU</td><td>n04</td>" "$T/plain.html"
"$PY" "$TOOLS/make_rank_files.py" --out "$T/evil" --ranks 2 --node-prefix '<i>n&' --run-id 'r"1<b>' \
	--gpu-name '<script>alert(1)</script>' --seed 9
"$AISP" report "$T/evil" -o "$T/evil.html" >/dev/null 2>&1
check "HTML: input strings are escaped" sh -c "! grep -q '<script>\\|<i>n\\|<b>' '$T/evil.html' &&
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/evil.html' && grep -q '&lt;i&gt;n&amp;01' '$T/evil.html' &&
	grep -q 'r&quot;1&lt;b&gt;' '$T/evil.html'"
"$AISP" report "$T/evil" -o "$T/evil.md" >/dev/null 2>&1
check "markdown: input strings are escaped" sh -c "! grep -q '<script>' '$T/evil.md' && grep -q '&lt;script&gt;' '$T/evil.md'"
finish
