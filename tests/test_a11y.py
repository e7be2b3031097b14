"""Accessibility: axe-core (bundled by axe-playwright-python, so no network) on every page in Chromium.

Every page of pages/index.json at its default settings, the Lessons page's Break-it gallery and each view of
the Images page, and three pages in the dark theme (presenter mode: tests/test_presenter.py, every page): once
the figures are drawn, axe finds no violation of impact "serious" or "critical". What it found and how each was
fixed: explorer/ui/a11y.py (caption and selected-option contrast) and the alt text of every st.image.
"""
import json
from pathlib import Path

import pytest

from axe_scan import blocking_violations, report, scan
from bench.live import CHROMIUM, FIGURE, app_and_browser, wait_idle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")]
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "screenshots" / "a11y"

# URL paths are the pages' file stems; the first page is "/"
_STEMS = [p["file"].removesuffix(".py") for p in json.loads((ROOT / "pages" / "index.json").read_text("utf-8"))]
PAGES = ["", *_STEMS[1:]]
IMAGE_VIEWS = ["reverse", "inpaint", "variations", "superres", "sketch", "picture"]  # "forward" is the default
# Presenter mode (?present=1) is scanned on every page by tests/test_presenter.py, on the page it loads anyway.
PATHS = [*PAGES, "lessons?mode=break", *(f"images?view={v}" for v in IMAGE_VIEWS)]
# (path, colour scheme): Streamlit follows the system's, so the dark theme is what a dark-mode laptop shows. The
# dark theme's fixes are page-wide CSS (explorer/ui/a11y.py): three pages that show every styled element (captions,
# slider values, the selected option of a segmented control) guard them.
DARK = ["", "reverse", "lessons?mode=break"]
CASES = [(path, "light") for path in PATHS] + [(path, "dark") for path in DARK]


@pytest.fixture(scope="module")
def live():
    with app_and_browser(SHOTS) as served:
        yield served


def test_report_lists_rule_impact_and_targets():
    """The failure message names the rule, its impact and the first targets; excluded nodes are dropped."""
    node = {"target": ["#a > p"], "html": "<p>x</p>", "failureSummary": "Fix any of the following:\n  too pale"}
    katex = {"target": [".katex-display"], "html": '<span class="katex-display">', "failureSummary": "x"}
    result = {"violations": [
        {"id": "color-contrast", "impact": "serious", "help": "Contrast", "nodes": [node] * 5},
        {"id": "heading-order", "impact": "moderate", "help": "Headings", "nodes": [node]},
        {"id": "scrollable-region-focusable", "impact": "serious", "help": "Scroll", "nodes": [katex]}]}
    found = blocking_violations(result)
    assert [v["id"] for v in found] == ["color-contrast"]
    text = report(found)
    assert "color-contrast [serious]" in text and "#a > p" in text and "(+2 more)" in text and "too pale" in text


@pytest.mark.parametrize("path, scheme", CASES, ids=[f"{p or '/'}-{c}" for p, c in CASES])
def test_no_serious_or_critical_violations(live, path, scheme):
    url, browser = live
    page = browser.new_page(viewport={"width": 1400, "height": 1800}, color_scheme=scheme)
    try:
        page.goto(f"{url}/{path}")
        page.wait_for_selector(FIGURE, timeout=180_000)
        wait_idle(page, 180_000)
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                               ".every(i => i.complete) && [...document.querySelectorAll('.js-plotly-plot')]"
                               ".every(p => p.querySelector('.main-svg'))", timeout=60_000)
        assert page.locator("[data-testid=stException]").count() == 0, f"{path}: the page shows an exception"
        found = scan(page)
        if found:
            shot = f"{(path or 'overview').replace('?', '_').replace('&', '_')}_{scheme}.png"
            page.screenshot(path=str(SHOTS / shot), full_page=True)
            pytest.fail(f"/{path} ({scheme} theme): axe-core found\n{report(found)}", pytrace=False)
    finally:
        page.close()
