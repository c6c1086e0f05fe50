#!/bin/sh
# report of a synthetic fleet (8 GPUs on 4 nodes, one GPU of n04 30% slower):
# the first screen says to drain n04 and why (verdict line, node table worst
# first, drain list equal to compare's), one plot per variant with the
# baseline and its tolerance, the history of the baseline; markdown fits 120
# columns without HTML entities or needless escapes; every string from the
# input is escaped (HTML) or neutralised (markdown).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/fleet_fixture.sh"
make_fleet "$T" || { no "synthetic rank files"; finish; }
"$AISP" gather "$T/runA" --out "$T/g" >/dev/null
"$AISP" gather "$T/runA" "$T/runB" --out "$T/g" >/dev/null
E=$T/g/expectations_2x_test_gpu.json
expect_exit 1 "HTML report with expectations exits 1 (as compare)" \
	"$AISP" report "$T/runA" "$T/runB" --expectations "$E" -o "$T/r.html"
check "HTML: the verdict line says to drain n04, with counts and the worst item" grep -q \
	'<p class="verdict drain">Drain 1 of 4 nodes: n04: 6 of 12 items slow; worst ch01:[a-z_:/0-9]* +[23][0-9.]*% (.*) on GPU 0 (GPU-' "$T/r.html"
check "HTML: the node table starts with n04, linked to its details" grep -q \
	'<tr><td class="node"><a href="#node-n04">n04</a></td><td><span class="badge v-regressed">REGRESSED</span></td>' "$T/r.html"
check "HTML: n04's details are there" grep -q '<h3 id="node-n04">n04: REGRESSED, GPU 0</h3>' "$T/r.html"
"$AISP" compare "$T/runA" "$T/runB" --expectations "$E" --drain-list "$T/drain" >/dev/null
check "HTML: the drain list is compare's, line for line" "$PY" - "$T/r.html" "$T/drain" <<'PYEOF'
import sys, re, html
page = open(sys.argv[1]).read()
shown = html.unescape(re.search(r'<pre class="drain">(.*?)</pre>', page, re.S).group(1)).strip()
want = open(sys.argv[2]).read().strip()
assert shown == want, (shown, want)
PYEOF
n=$(grep -c '<div class="plot"' "$T/r.html")
[ "$n" = 6 ] && ok "HTML: one plot per variant (6)" || no "HTML: 6 plots (got $n)"
n=$(grep -c '<svg class="history"' "$T/r.html")
[ "$n" = 6 ] && ok "HTML: the baseline history of each variant (2 refreshes)" || no "HTML: 6 history plots (got $n)"
check "HTML: the slowed GPU is red and labelled with node and GPU index" \
	grep -q 'class="label" font-size="10" fill="#c62828" text-anchor="end">n04 GPU 0</text>' "$T/r.html"
check "HTML: the baseline line and the tolerance band" sh -c \
	"grep -q 'class=\"reference\"' '$T/r.html' && grep -q 'class=\"band\"' '$T/r.html' && grep -q '>+25%</text>' '$T/r.html'"
check "HTML: the baseline's runs with their commits" grep -q '<td>runB</td><td>2026-11-25T10:05:00Z</td><td>fedcba987654</td>' "$T/r.html"
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
check "markdown: the verdict line" grep -q '^\*\*Drain 1 of 4 nodes: n04: 6 of 12 items slow; worst ch01:' "$T/r.md"
check "markdown: n04 first in the node table" sh -c "grep '^| n0' '$T/r.md' | head -1 | grep -q '^| n04  | REGRESSED | 1 of 2: GPU 0 | 6 of 12 '"
check "markdown: every line fits 120 columns" sh -c "awk 'length > 120 { print FILENAME\": \"FNR\": \"length; bad = 1 } END { exit bad }' '$T/r.md'"
check "markdown: no HTML entity, no escaped underscore inside a name" sh -c \
	"! grep -q '&#\\|&lt;\\|&gt;\\|&amp;\\|&quot;' '$T/r.md' && ! grep -q 'baseline\\\\_gemm' '$T/r.md' && grep -q 'baseline_gemm' '$T/r.md'"
check "markdown: the history of each variant" grep -q '^- ch01:gemm/baseline_gemm: 0.2888 -> 0.2893 ms over 2 refreshes' "$T/r.md"
check "markdown: tables are aligned (every row of a table as wide as its header)" "$PY" - "$T/r.md" <<'PYEOF'
import sys
w = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("|"):
        w = w or len(line)
        assert len(line) == w, (w, line)
    else:
        w = None
PYEOF
"$PY" "$TOOLS/make_rank_files.py" --out "$T/runF" --ranks 4 --gpus-per-node 2 --node-prefix n \
	--first-node 3 --run-id runF --seed 2 --slow 2:1.3 --slow 0:0.6
"$AISP" report "$T/runA" "$T/runF" --expectations "$E" -o "$T/f.html" >/dev/null
check "HTML: a node faster than expected is not drained and not linked; every link has its anchor" \
	"$PY" - "$T/f.html" <<'PYEOF'
import sys, re
t = open(sys.argv[1]).read()
ids = set(re.findall(r' id="([^"]+)"', t))
links = re.findall(r' href="#([^"]+)"', t)
assert links and all(l in ids for l in links), (sorted(set(links) - ids), sorted(ids))
assert re.search(r'<td class="node">n03</td><td><span class="badge v-improved">', t), "n03 not IMPROVED"
assert 'href="#node-n03"' not in t
PYEOF
expect_exit 0 "report without expectations exits 0" "$AISP" report "$T/runA" "$T/runB" -o "$T/plain.html"
check "without expectations the fleet outlier is on the first screen" grep -q \
	'<p class="verdict drain">No baseline given; outliers against this run&#39;s own fleet. Check 1 of 4 nodes: n04 (GPU 0' "$T/plain.html"
"$PY" "$TOOLS/make_rank_files.py" --out "$T/evil" --ranks 2 --node-prefix '<i>n&amp;_' --run-id 'r"1<b>|x' \
	--gpu-name '<script>alert(1)</script>' --seed 9
"$AISP" report "$T/evil" -o "$T/evil.html" >/dev/null 2>&1
check "HTML: input strings are escaped" sh -c "! grep -q '<script>\\|<i>n\\|<b>' '$T/evil.html' &&
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/evil.html' && grep -q '&lt;i&gt;n&amp;amp;_01' '$T/evil.html' &&
	grep -q 'r&quot;1&lt;b&gt;' '$T/evil.html'"
"$AISP" report "$T/evil" -o "$T/evil.md" >/dev/null 2>&1
check "markdown: input strings cannot make HTML, entities or table cells" sh -c \
	"! grep -q '[^\\\\]<i>\\|[^\\\\]<b>\\|[^\\\\]&amp;' '$T/evil.md' &&
	grep -q '\\\\<i>n\\\\&amp;\\\\_01' '$T/evil.md' && grep -q 'r\"1\\\\<b>\\\\|x' '$T/evil.md'"
finish
