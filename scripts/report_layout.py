#!/usr/bin/env python3
"""A rendered report as a reader meets it: measured in headless Chromium, and its first screens
photographed for docs/.

    python scripts/report_layout.py reports/synthetic/quick/index.html               # measure at 1400 and 800 px
    python scripts/report_layout.py REPORT --screenshot docs/report_first_screens.png  # and photograph it

Each width opens a copy of the page (beside it, so its figures load) with a script that writes its
measurements into the page, read back with ``--dump-dom``: the page's width against the window's, the
element reaching furthest right, the tallest table row, and the page's height. Rows are measured
twice: as the page opens (folded comparisons closed) and with every ``<details>`` unfolded. The
page fails when it scrolls sideways, an element reaches past the window's right edge, a row is
taller than ``--max-row`` pixels, or a row of a compact table (the comparisons) takes more than one
line. Exit status 0 when every width passes, 1 when one fails, 2 when
no Chromium is installed (``apt-get install chromium``; ``$CHROMIUM`` names another binary).

``--screenshot FILE`` saves the first ``--screens`` screens (``--screen-height`` pixels each) at the
first width.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--allow-file-access-from-files")
MAX_ROW = 120       # px: a table row taller than this reads as a wall of text
ONE_LINE = 32       # px: the tallest row of a compact table (one line per row)
SCREEN_HEIGHT = 900  # px: one screen of a laptop at 1400 px wide

# Runs when the page has loaded; writes its measurements into <pre id="layout-measurements">.
MEASURE = """<script>
window.addEventListener("load", () => {
  const view = document.documentElement.clientWidth;
  const describe = (el) => el ? el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.className ? "." + String(el.className).split(" ").join(".") : "") : "";
  const measure = () => {
    let widest = null, right = 0, tallest = null, height = 0, compact = 0;
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (box.right > right) { right = box.right; widest = el; }
    }
    for (const row of document.querySelectorAll("tr")) {
      const h = row.getBoundingClientRect().height;
      if (h > height) { height = h; tallest = row; }
      if (row.closest("table.compact") && row.closest("tbody")) { compact = Math.max(compact, h); }
    }
    return {page_width: document.documentElement.scrollWidth, widest: describe(widest), widest_right: right,
            tallest_row: height, tallest_row_text: tallest ? tallest.innerText.slice(0, 80) : "",
            tallest_row_table: tallest ? describe(tallest.closest("table")) : "", tallest_compact_row: compact,
            page_height: document.documentElement.scrollHeight};
  };
  const folded = measure();
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const unfolded = measure();
  const sections = {};
  document.querySelectorAll("details").forEach((d) => { d.open = false; });
  document.querySelectorAll("[id^=table-], [id^=figure-], h2[id]").forEach((el) => {
    sections[el.id] = Math.round(el.getBoundingClientRect().top + window.scrollY);
  });
  const out = document.createElement("pre");
  out.id = "layout-measurements";
  out.textContent = JSON.stringify({view_width: view, folded, unfolded, sections});
  document.body.appendChild(out);
});
</script>
"""


def browser() -> str | None:
    """The Chromium binary: ``$CHROMIUM`` or the first of :data:`BROWSERS` on ``PATH``."""
    return os.environ.get("CHROMIUM") or next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _chromium(binary: str, url: str, width: int, height: int, *options: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                               "--virtual-time-budget=10000", *options, url],
                              capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"{binary} exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def measure(page: Path, width: int, binary: str, height: int = SCREEN_HEIGHT) -> dict:
    """The measurements of ``page`` in a window ``width`` px wide (module docstring)."""
    page = Path(page).resolve()
    copy = page.with_name(f".layout-{width}-{page.name}")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    try:
        dom = _chromium(binary, copy.as_uri(), width, height, "--dump-dom")
    finally:
        copy.unlink()
    found = re.search(r'<pre id="layout-measurements">(.*?)</pre>', dom, re.S)
    if found is None:
        raise RuntimeError(f"{page}: the page wrote no measurements at {width} px")
    return json.loads(html.unescape(found.group(1)))


def problems(measured: dict, max_row: float = MAX_ROW) -> list[str]:
    """What is wrong with one width's measurements, in words (empty when nothing is)."""
    view, found = measured["view_width"], []
    for state in ("folded", "unfolded"):
        m = measured[state]
        if m["page_width"] > view:
            found.append(f"{state}: the page is {m['page_width']} px wide in a {view} px window")
        if m["widest_right"] > view + 0.5:
            found.append(f"{state}: {m['widest']} reaches {m['widest_right']:.0f} px, past the window's {view} px")
        if m["tallest_row"] > max_row:
            found.append(f"{state}: a row of {m['tallest_row_table']} is {m['tallest_row']:.0f} px tall "
                         f"(> {max_row:g}): {m['tallest_row_text']!r}")
        if m["tallest_compact_row"] > ONE_LINE:
            found.append(f"{state}: a row of a compact table is {m['tallest_compact_row']:.0f} px tall, more than "
                         f"one line ({ONE_LINE} px)")
    return found


def screenshot(page: Path, out: Path, binary: str, width: int = 1400, screens: int = 3,
               screen_height: int = SCREEN_HEIGHT) -> Path:
    """The first ``screens`` screens of ``page`` at ``width`` px as a PNG (256 colours: a third of the bytes)."""
    from PIL import Image

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _chromium(binary, Path(page).resolve().as_uri(), width, screens * screen_height, f"--screenshot={out}")
    with Image.open(out) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a report's index.html (or its folder)")
    parser.add_argument("--width", type=int, nargs="+", default=[1400, 800], help="window widths (default 1400 800)")
    parser.add_argument("--max-row", type=float, default=MAX_ROW, help=f"tallest row allowed, px (default {MAX_ROW})")
    parser.add_argument("--screenshot", type=Path, help="save the first screens at the first width as this PNG")
    parser.add_argument("--screens", type=int, default=3, help="screens in the screenshot (default 3)")
    parser.add_argument("--screen-height", type=int, default=SCREEN_HEIGHT,
                        help=f"one screen's height, px (default {SCREEN_HEIGHT})")
    args = parser.parse_args(argv)
    page = args.report / "index.html" if args.report.is_dir() else args.report
    if not page.is_file():
        print(f"error: {page}: no such report page", file=sys.stderr)
        return 2
    binary = browser()
    if binary is None:
        print("error: no Chromium found (apt-get install chromium, or set CHROMIUM)", file=sys.stderr)
        return 2
    failed = False
    for width in args.width:
        measured = measure(page, width, binary, args.screen_height)
        folded, unfolded = measured["folded"], measured["unfolded"]
        print(f"{width} px: page {folded['page_width']} x {folded['page_height']} px "
              f"({unfolded['page_height']} px unfolded), tallest row {folded['tallest_row']:.0f} px "
              f"({unfolded['tallest_row']:.0f} px unfolded; compact {unfolded['tallest_compact_row']:.0f} px), "
              f"furthest right {folded['widest_right']:.0f} px "
              f"({folded['widest']})")
        print("  sections from the top: " + ", ".join(f"{k} {v}" for k, v in measured["sections"].items()))
        for problem in problems(measured, args.max_row):
            print(f"  FAIL {problem}")
            failed = True
    if args.screenshot:
        print(f"wrote {screenshot(page, args.screenshot, binary, args.width[0], args.screens, args.screen_height)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
