"""The report as a reader meets it, in a real browser (headless Chromium, scripts/report_layout.py):
at 1400 and 800 px nothing reaches past the window, no table row is taller than the script's
``MAX_ROW``, each comparison is one line, and the comparisons are folded under the forest plot,
before the model tables. The report is built from the fabricated results of test_report.py (every
table and figure of the suite)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_report import ALL_FIGURES, ALL_TABLES, build, make_results

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "report_layout.py"
_spec = importlib.util.spec_from_file_location("report_layout", SCRIPT)
layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layout)

CHROMIUM = layout.browser()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed: `apt-get install chromium` "
                                "(.ci/run installs it) or set CHROMIUM to a Chromium binary")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    return build(make_results(root), root / "reports", ALL_TABLES, ALL_FIGURES)


@pytest.mark.parametrize("width", [1400, 800])
def test_the_report_fits_the_window_and_folds_the_comparisons(page, width):
    measured = layout.measure(page, width, CHROMIUM)
    assert measured["view_width"] == width
    assert layout.problems(measured) == []
    folded, unfolded, sections = measured["folded"], measured["unfolded"], measured["sections"]
    assert 0 < unfolded["tallest_compact_row"] <= layout.ONE_LINE  # the comparisons exist, one line each
    # under the forest plot, closed, before the model tables: unfolding them makes the page longer
    assert sections["table-claims"] < sections["figure-verdicts"] < sections["table-comparisons"] < sections["tables"]
    assert sections["tables"] < sections["table-loss"] and unfolded["page_height"] > folded["page_height"]


def test_a_table_wider_than_the_window_fails(page, tmp_path):
    """The measurement could fail: the same page with a table forced to 2000 px does, at 1400 px."""
    wide = page.with_name("wide.html")
    wide.write_text(page.read_text().replace("</style>", "table.compact { width: 2000px; }</style>"))
    try:
        found = layout.problems(layout.measure(wide, 1400, CHROMIUM))
    finally:
        wide.unlink()
    assert any("past the window's 1400 px" in problem for problem in found), found


def test_the_screenshot_shows_the_first_three_screens(page, tmp_path):
    shot = layout.screenshot(page, tmp_path / "first.png", CHROMIUM, width=1400, screens=3, screen_height=900)
    with Image.open(shot) as image:
        assert image.size == (1400, 2700)
        assert np.unique(np.asarray(image.convert("L"))).size > 10  # a page, not a blank picture
