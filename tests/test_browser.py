"""A real browser: `streamlit run app.py` on 127.0.0.1 driven by Debian's Chromium through Playwright."""

import os
from pathlib import Path
from urllib.parse import urljoin

import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS, ask_in_browser, streamlit_server, yellow_pixels

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def served_app(sample_runtime):
    env = {**os.environ, "POLICYQA_DATA_DIR": str(sample_runtime.settings.data_dir)}
    env.pop("POLICYQA_EMBED_MODEL", None)
    with streamlit_server(env) as url:
        yield url


needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)"
)


@needs_chromium
def test_ask_in_the_browser_and_open_a_source_card(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(served_app, wait_until="domcontentloaded")
        answer = ask_in_browser(page, "京都議定書目標達成計画が改定・閣議決定されたのはいつですか？")
        assert "2008(平成20)年3月" in answer.inner_text()
        # source cards are titled "[n] 資料名・頁"
        card = answer.locator("[data-testid=stExpander]").filter(has_text="[1]").first
        card.locator("summary").click()
        card.get_by_text("日本の動き", exact=False).first.wait_for(timeout=30_000)
        quoted = card.locator("mark").first
        quoted.wait_for(timeout=30_000)
        assert "京都議定書目標達成計画(改定)" in quoted.inner_text()
        page.wait_for_timeout(800)  # let the expander finish opening before the screenshot
        assert page.locator("[data-testid=stException]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)
        card.get_by_text("この頁を表示").click()  # the cited page, drawn with the quote boxed
        image = card.locator("[data-testid=stImage] img").first
        image.wait_for(timeout=60_000)
        assert "黄色の枠が引用箇所です" in card.inner_text()
        image.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        assert page.locator("[data-testid=stException]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "chat-page-view.png"), full_page=True)
        # the highlight is drawn where the quoted text is: yellow-tinted pixels on the page image as served
        served = page.request.get(urljoin(served_app, image.get_attribute("src")))
        assert yellow_pixels(served.body()) > 500
        browser.close()
    assert (ARTIFACTS / "chat-answer.png").stat().st_size > 10_000


@needs_chromium
def test_a_three_turn_conversation_a_roster_row_a_standalone_question_and_a_follow_up(served_app):
    """The three questions an official asked in the browser: a roster row (a table record), a standalone
    question after an unrelated one, and a follow-up that refers back to it (the chronology table)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    turns = [
        ("2009年度の自治体委員会の座長は誰ですか？", ["今福 芳明", "港区"]),
        # a defining sentence: what J-VER credits are (domestic reductions/absorptions, certified)
        ("J-VERとは何ですか？", ["J-VER", "国内", "排出削減・吸収"]),
        ("それはいつ始まりましたか？", ["2008(平成20)年11月"]),
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2000})
        page.goto(served_app, wait_until="domcontentloaded")
        for n, (question, expected) in enumerate(turns):
            answer = ask_in_browser(page, question, turn=n)
            # the answer's lines end with their citation "[n]"; source cards below start with it
            lines = [line.strip() for line in answer.inner_text().splitlines()]
            first_line = next(line for line in lines if line.endswith("]") and not line.startswith("["))
            for text in expected:
                assert text in first_line, (question, first_line)
        searched = page.locator("[data-testid=stChatMessage]").nth(3).inner_text()
        assert "2009年度の自治体委員会の座長" not in searched  # the standalone question was not merged
        assert page.locator("[data-testid=stException]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "chat-three-turns.png"), full_page=True)
        browser.close()
