"""Rough edges only a real browser shows (Debian's Chromium through Playwright, as tests/test_browser.py):
labels cut short with an ellipsis at 1400 px, and the Train page's link to Reverse sampling with the network
it trained."""
from pathlib import Path

import pytest

from bench.live import CHROMIUM, FIGURE, app_and_browser, wait_idle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")]

# [text, cut?] for each element matching the selector: cut when the element or one inside it clips its text
# (its content is wider than its box and its overflow is not visible: Streamlit's ellipsis)
CUT_JS = """(sel) => [...document.querySelectorAll(sel)].map(el => {
    const cut = [el, ...el.querySelectorAll('*')].some(
        e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible');
    return [el.innerText.trim(), cut]; })"""


@pytest.fixture(scope="module")
def live():
    with app_and_browser() as served:
        yield served


@pytest.fixture
def page_1400(live):
    url, browser = live
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    yield url, page
    page.close()


def shown(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0


@pytest.mark.parametrize("path, selector, at_least", [
    ("lessons?mode=break", "[data-testid=stButton] button", 8),  # the Break-it presets, four to a row
    ("forward", "[data-testid=stMetricLabel]", 10),  # the metrics beside the inspected step
])
def test_no_label_is_cut_at_1400_px(page_1400, path, selector, at_least):
    url, page = page_1400
    shown(page, url, path)
    labels = page.evaluate(CUT_JS, selector)
    assert len(labels) >= at_least, labels
    assert [text for text, cut in labels if cut] == [], labels


def test_the_trained_networks_link_opens_reverse_with_it_selected(page_1400):
    """Train on a typed word, follow 'Reverse sampling with your network': the reverse page shows that word's data
    with 'your network' selected (the same browser tab, so the same session and the same network)."""
    url, page = page_1400
    page.goto(f"{url}/train?tr_word=HI&tr_steps=200")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Your network is ready", exact=False).wait_for(timeout=180_000)
    wait_idle(page, 120_000)
    assert page.get_by_text("lives in this browser tab only", exact=False).count() >= 1
    page.get_by_text("Reverse sampling with your network").click()
    page.wait_for_url("**/reverse?**", timeout=60_000)
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page, 120_000)
    assert "data=word" in page.url and "word=HI" in page.url and "score=session" in page.url, page.url
    assert page.locator("[data-testid=stException]").count() == 0
    score = page.locator("[data-testid=stRadio]").filter(has_text="Score").first
    assert score.locator("input[type=radio]:checked + div, label:has(input:checked)").first.inner_text().strip() \
        .startswith("your network")
    assert page.locator("[data-testid=stTextInput] input").first.input_value() == "HI"


def test_a_wrong_type_or_too_large_upload_is_a_message_on_the_page(page_1400, tmp_path):
    """The browser lets any file through to the page (no type filter, the server's cap above the app's limits),
    and the page says what is wrong: a GIF where a PNG or JPEG is expected, a 9 MB file over the 8 MB limit."""
    from PIL import Image
    url, page = page_1400
    gif, big = tmp_path / "drawing.gif", tmp_path / "big.png"
    Image.new("L", (16, 16), 255).save(gif)
    big.write_bytes(b"\x89PNG" + b"\0" * 9_000_000)
    page.goto(f"{url}/images?view=picture&T=100")
    page.wait_for_selector("[data-testid=stFileUploader]", timeout=120_000)
    for path, words in ((gif, "This is a GIF image; please upload a PNG or JPEG"), (big, "at most 8 MB is accepted")):
        page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(path))
        page.locator("[data-testid=stAlertContentError]").filter(has_text=words).first.wait_for(timeout=120_000)
        wait_idle(page, 120_000)
        assert page.locator("[data-testid=stException]").count() == 0
