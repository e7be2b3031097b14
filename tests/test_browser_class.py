"""A class in real browsers: one teacher page and three phone-sized student pages (390 × 844) on one served app.
The students join by the link, follow the teacher to a question, answer; the teacher sees "3 joined" and 3 answered,
reveals, and every student sees the class's answers. Screenshots go to screenshots/browser/."""
import re
from pathlib import Path

import pytest

from bench.live import CHROMIUM, app_and_browser, wait_idle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots" / "browser"
PHONE = {"width": 390, "height": 844}


def metric_value(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def test_a_teacher_and_three_phones(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_EXPLORER_CLASS_DB", str(tmp_path / "class.db"))  # the served app inherits it
    with app_and_browser(SHOTS) as (url, browser):
        teacher = browser.new_page(viewport={"width": 1400, "height": 1200})
        teacher.goto(f"{url}/lessons?lesson=1&step=1")
        teacher.get_by_role("button", name="Start a class").click()
        teacher.get_by_text("Class code", exact=False).first.wait_for(timeout=120_000)
        shown = re.search(r"Class code: ([0-9A-Z]{4}-[0-9A-Z]{4})", teacher.locator("body").inner_text()).group(1)
        link = f"{url}/lessons?class={shown.replace('-', '')}"
        teacher.get_by_text(link, exact=True).wait_for(timeout=30_000)  # the join link, as text
        assert teacher.locator("[data-testid=stImage] img").count() >= 1  # and the QR code

        students = []
        for name in ("Ada", "Bea", "<b>Cy</b>"):
            phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            phone.goto(link)
            phone.get_by_label("Your name, as the class will see it").fill(name)
            phone.get_by_role("button", name="Join").click()
            phone.get_by_text(f"You are in as {name}.", exact=True).wait_for(timeout=120_000)
            students.append(phone)
        teacher.bring_to_front()
        teacher.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMetric]')].some("
                                  "m => m.innerText.includes('joined') && m.innerText.includes('3'))", timeout=60_000)
        assert metric_value(teacher, "joined") == "3"

        teacher.get_by_role("button", name="Next ▶").click()  # step 2 asks a question
        teacher.get_by_role("button", name="Reveal to the class").wait_for(timeout=120_000)
        for i, phone in enumerate(students):  # each follows without reloading: its fragment sees the new step
            phone.bring_to_front()  # each phone is its own screen (a background tab's timers are throttled)
            try:
                phone.get_by_text("Predict.", exact=False).first.wait_for(timeout=60_000)
            finally:
                phone.screenshot(path=str(SHOTS / f"class_phone_{i}.png"))
            wait_idle(phone, 120_000)
            phone.screenshot(path=str(SHOTS / "class_phone_question.png"), full_page=True)
            radio = phone.locator("[data-testid=stRadio] [role=radiogroup] label").first
            figure = phone.locator(".js-plotly-plot, [data-testid=stImage] img").first
            send = phone.get_by_role("button", name="Send my answer")
            for element in (radio, send, figure):  # nothing wider than the phone
                box = element.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
            assert send.bounding_box()["y"] + send.bounding_box()["height"] <= PHONE["height"]  # the first screen
            assert not phone.locator("[data-testid=stSidebar][aria-expanded=true]").count()  # folded away
            radio.click()
            phone.get_by_role("button", name="Send my answer").click()
            phone.get_by_text("Sent:", exact=False).first.wait_for(timeout=60_000)
        students[0].screenshot(path=str(SHOTS / "class_phone_answered.png"), full_page=True)

        teacher.bring_to_front()
        teacher.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMetric]')].some("
                                  "m => m.innerText.includes('answered this step') && m.innerText.includes('3'))",
                                  timeout=60_000)
        teacher.get_by_role("button", name="Reveal to the class").click()
        teacher.get_by_text("3 answers:", exact=False).first.wait_for(timeout=60_000)
        teacher.screenshot(path=str(SHOTS / "class_teacher_revealed.png"), full_page=True)
        for phone in students:
            phone.bring_to_front()
            phone.get_by_text("3 answers:", exact=False).first.wait_for(timeout=60_000)
            assert phone.get_by_text("you answered", exact=False).count() >= 1
        students[2].screenshot(path=str(SHOTS / "class_phone_revealed.png"), full_page=True)
        for page in (teacher, *students):
            assert page.locator("[data-testid=stException]").count() == 0
