"""A real browser: `streamlit run app.py` on 127.0.0.1 driven by Debian's Chromium through Playwright."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(sample_runtime):
    port = _free_port()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(sample_runtime.settings.data_dir)}
    env.pop("POLICYQA_EMBED_MODEL", None)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not answer /_stcore/health within 90 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)")
def test_ask_in_the_browser_and_open_a_source_card(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(served_app, wait_until="domcontentloaded")
        box = page.locator("[data-testid=stChatInputTextArea]")
        box.wait_for(timeout=120_000)
        box.fill("京都議定書目標達成計画が改定・閣議決定されたのはいつですか？")
        box.press("Enter")
        answer = page.locator("[data-testid=stChatMessage]").nth(1)
        answer.get_by_text("[1]", exact=False).first.wait_for(timeout=120_000)
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
        card.get_by_text("この頁を表示").click()  # the cited page, cut out of the stored PDF
        card.locator("[data-testid=stBidiComponentIsolated]").first.wait_for(timeout=60_000)
        page.wait_for_timeout(5000)  # the bundled PDF viewer renders the page offline
        assert page.locator("[data-testid=stException]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "chat-page-view.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "chat-answer.png").stat().st_size > 10_000
