#!/usr/bin/python3
"""check_report_html.py - render an aisp HTML report in headless Chromium and
check what a reader sees.

  check_report_html.py REPORT.html OUT_DIR [--expect-drain NODE] [--plots N]

1. A screenshot of the first screen (1400 x 900) into OUT_DIR/first.png:
   its dimensions and a size that only a page with content has.
2. The DOM after layout (a copy of the report with a checking script added;
   the report itself has no script): the verdict line is on the first
   screen, and so are the node table and the drain list; every plot has a
   title and both axis titles; no element is wider than the page; no SVG
   text sticks out of its SVG; every red GPU up to ten per plot is
   labelled "NODE GPU N"; every badge has a text label; every link to an
   anchor finds it.
Prints one line per check ("ok - ..." / "not ok - ..."); exit 1 on any
failure, 77 when no chromium is installed.
"""
import argparse
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys

WIDTH, HEIGHT = 1400, 900

CHECK_JS = r"""
<script>
window.addEventListener('load', function () {
  var out = {fail: [], stats: {}};
  function fail(m) { out.fail.push(m); }
  var H = %(height)d, pageW = document.documentElement.clientWidth;
  var v = document.querySelector('p.verdict');
  if (!v || !v.textContent.trim()) fail('no verdict line');
  else {
    out.stats.verdict = v.textContent.trim();
    if (v.getBoundingClientRect().bottom > H) fail('verdict line below the first screen');
  }
  var nt = document.querySelector('table.nodes');
  if (!nt) fail('no node table');
  else if (nt.getBoundingClientRect().top > H) fail('node table below the first screen');
  var dr = document.getElementById('drain');
  if (!dr) fail('no drain list heading');
  else {
    if (dr.getBoundingClientRect().top > H) fail('drain list below the first screen');
    var pre = document.querySelector('pre.drain');
    out.stats.drain = pre ? pre.textContent : '';
  }
  if (document.documentElement.scrollWidth > pageW + 1)
    fail('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + pageW);
  var all = document.body.getElementsByTagName('*'), wide = 0;
  for (var i = 0; i < all.length; i++) {
    var r = all[i].getBoundingClientRect();
    if (r.width > 0 && (r.right > pageW + 1 || r.left < -1)) {
      if (wide++ < 5) fail('wider than the page: <' + all[i].tagName.toLowerCase() + ' class="' +
                           all[i].getAttribute('class') + '"> ' + r.left + '..' + r.right);
    }
  }
  var svgs = document.querySelectorAll('svg'), labelled = 0, red = 0;
  out.stats.svgs = svgs.length;
  out.stats.plots = document.querySelectorAll('div.plot').length;
  for (var s = 0; s < svgs.length; s++) {
    var svg = svgs[s], name = 'svg ' + s;
    var t = svg.querySelector('.plot-title');
    if (!t || !t.textContent.trim()) fail(name + ': no title');
    else name = t.textContent.trim();
    ['x', 'y'].forEach(function (ax) {
      var a = svg.querySelector('.axis-title.' + ax);
      if (!a || !a.textContent.trim()) fail(name + ': no ' + ax + ' axis title');
    });
    var ticks = svg.querySelectorAll('.axis.y text');
    if (ticks.length < 2) fail(name + ': fewer than 2 y ticks');
    var sr = svg.getBoundingClientRect(), texts = svg.querySelectorAll('text');
    for (var k = 0; k < texts.length; k++) {
      var tr = texts[k].getBoundingClientRect();
      if (tr.left < sr.left - 1 || tr.right > sr.right + 1 || tr.top < sr.top - 1 ||
          tr.bottom > sr.bottom + 1)
        fail(name + ': text cut off: "' + texts[k].textContent + '"');
    }
    var bad = svg.querySelectorAll('circle.bad').length;
    var labels = svg.querySelectorAll('text.label');
    red += bad;
    labelled += labels.length;
    if (labels.length < Math.min(bad, 10)) fail(name + ': ' + bad + ' red GPUs, ' + labels.length + ' labels');
    for (var l = 0; l < labels.length; l++)
      if (!/ GPU \d+$/.test(labels[l].textContent)) fail(name + ': label "' + labels[l].textContent + '"');
  }
  out.stats.red = red;
  out.stats.labels = labelled;
  var badges = document.querySelectorAll('.badge');
  for (var b = 0; b < badges.length; b++)
    if (!badges[b].textContent.trim()) fail('a badge without text');
  out.stats.badges = badges.length;
  var links = document.querySelectorAll('a[href^="#"]');
  for (var a = 0; a < links.length; a++)
    if (!document.getElementById(links[a].getAttribute('href').slice(1)))
      fail('link to a missing anchor ' + links[a].getAttribute('href'));
  out.stats.links = links.length;
  var pre = document.createElement('pre');
  pre.id = 'aisp-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(exe, profile, args, timeout):
    """One headless run with its own profile (tests may run in parallel)."""
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile,
           "--window-size=%d,%d" % (WIDTH, HEIGHT)] + args
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          env=dict(os.environ, HOME=profile))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("report")
    p.add_argument("out")
    p.add_argument("--expect-drain", default=None, help="a node the verdict line must name")
    p.add_argument("--plots", type=int, default=-1, help="number of plots expected")
    p.add_argument("--timeout", type=int, default=180)
    a = p.parse_args()
    exe = chromium()
    if not exe:
        print("skip: no chromium (tests/deps.sh installs the Debian package)")
        return 77
    os.makedirs(a.out, exist_ok=True)
    fails = 0

    def check(ok, name):
        nonlocal fails
        print(("ok - " if ok else "not ok - ") + name)
        fails += not ok

    shot = os.path.join(a.out, "first.png")
    r = run_chromium(exe, os.path.join(a.out, "profile-shot"),
                     ["--screenshot=" + shot, "file://" + os.path.abspath(a.report)], a.timeout)
    size = png_size(shot) if os.path.exists(shot) else None
    check(size == (WIDTH, HEIGHT), "screenshot of the first screen is %dx%d (got %s)" % (WIDTH, HEIGHT, size))
    nbytes = os.path.getsize(shot) if size else 0
    check(nbytes > 30000, "the screenshot has content (%d bytes)" % nbytes)
    if not size:
        sys.stdout.write(r.stderr.decode(errors="replace")[-2000:])

    page = open(a.report, encoding="utf-8").read()
    check("<script" not in page, "the report itself has no script")
    checked = os.path.join(a.out, "checked.html")
    with open(checked, "w", encoding="utf-8") as f:
        f.write(page.replace("</body>", CHECK_JS % {"height": HEIGHT} + "</body>"))
    r = run_chromium(exe, os.path.join(a.out, "profile-dom"),
                     ["--dump-dom", "--virtual-time-budget=10000", "file://" + os.path.abspath(checked)], a.timeout)
    m = re.search(r'<pre id="aisp-check">(.*?)</pre>', r.stdout.decode("utf-8", "replace"), re.S)
    check(m is not None, "the checking script ran in Chromium")
    if not m:
        sys.stdout.write(r.stderr.decode(errors="replace")[-2000:])
        return 1
    res = json.loads(html.unescape(m.group(1)))
    for msg in res["fail"]:
        check(False, "DOM: " + msg)
    st = res["stats"]
    check(not res["fail"], "DOM: verdict line, node table and drain list on the first screen; every plot "
          "titled with both axis titles; nothing wider than the page or cut off; red GPUs labelled "
          "(%d plots, %d red GPUs, %d labels, %d badges, %d links)" %
          (st.get("plots", 0), st.get("red", 0), st.get("labels", 0), st.get("badges", 0), st.get("links", 0)))
    if a.plots >= 0:
        check(st.get("plots") == a.plots, "%d plots (got %s)" % (a.plots, st.get("plots")))
    if a.expect_drain:
        check(a.expect_drain in st.get("verdict", "") and st.get("verdict", "").startswith("Drain"),
              "the verdict line says to drain %s: %s" % (a.expect_drain, st.get("verdict")))
        check(st.get("drain", "").startswith(a.expect_drain + " "),
              "the drain list starts with %s" % a.expect_drain)
    print("verdict line: %s" % st.get("verdict"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
