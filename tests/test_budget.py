"""The per-file reading budget, cancelling an ingest, and decompression bombs: real Chroma on tmp_path, the hash
embedder, hostile PDFs generated here (policyqa.testing.pdfgen; nothing large is committed)."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SAMPLE_PDF,
    ask_in_browser,
    assert_intact,
    finish_ingest,
    run,
    settings_for,
    streamlit_server,
)
from streamlit.testing.v1 import AppTest

from index.embedder import HashEmbedder
from ingest.budget import Budget, check_work
from ingest.isolated import GRACE_S
from ingest.load import _open_pdf, read_file
from policyqa.service import Service, Upload, ingest_budget
from policyqa.settings import Settings
from policyqa.testing.pdfgen import bomb_pdf, long_pdf, sample_guideline, shared_stream_pdf


def _service(tmp_path, **env):
    return Service(settings_for(tmp_path / "data", **env), HashEmbedder())


def _with_guide(rt):
    with rt.library.writing():
        assert rt.library.ingest_bytes("guide.pdf", sample_guideline()).status == "added"
    return assert_intact(rt)


def _lock_is_free(rt):
    with rt.library.writing(wait_s=0):  # BusyError if the lock were still held
        return True


def test_a_pdf_whose_pages_share_one_heavy_stream_is_refused_by_the_default_budget(tmp_path):
    hostile = shared_stream_pdf(1000, 2048)  # 1,000 pages × 2 MB of text operators: about 20 s a page before
    assert len(hostile) < 200_000
    rt = _service(tmp_path)
    before = _with_guide(rt)
    started = time.monotonic()
    results = list(rt.ingest([Upload("hostile.pdf", data=hostile), Upload("next.pdf", data=long_pdf(3))]))
    assert time.monotonic() - started < 60
    assert [(r.source, r.status, r.code) for r in results] == [
        ("hostile.pdf", "failed", "over_budget"),
        ("next.pdf", "added", ""),
    ]
    assert "描画内容が多すぎる" in results[0].ja and "POLICYQA_INGEST_MAX_WORK_MB" in results[0].en
    after = assert_intact(rt)
    assert {d: n for d, n in after.items() if d in before} == before and len(after) == 2
    assert _lock_is_free(rt)


def test_the_time_budget_stops_reading_between_pages_and_the_batch_goes_on(tmp_path):
    # 5 s: a 2-page file reads well within it even on 2 busy cores (the child's own imports count)
    rt = _service(tmp_path, POLICYQA_INGEST_MAX_SECONDS="5", POLICYQA_INGEST_MAX_WORK_MB="0")
    before = _with_guide(rt)
    slow = shared_stream_pdf(30, 300)  # 30 pages of 2-3 s each: the work is allowed, the time is not
    started = time.monotonic()
    results = list(rt.ingest([Upload("slow.pdf", data=slow), Upload("next.pdf", data=long_pdf(2))]))
    assert time.monotonic() - started < 60
    assert (results[0].status, results[0].code) == ("failed", "over_budget")
    assert "時間がかかりすぎる" in results[0].ja and "at page" in results[0].en
    assert results[1].status == "added"
    assert {d: n for d, n in assert_intact(rt).items() if d in before} == before
    assert _lock_is_free(rt)


def test_one_page_that_runs_away_is_stopped_at_the_deadline(tmp_path):
    """No check between pages can stop a page that takes minutes on its own: the child reading it is killed."""
    one_page = shared_stream_pdf(1, 6 * 1024)  # one page: about a minute of interpretation
    rt = _service(tmp_path, POLICYQA_INGEST_MAX_SECONDS="3", POLICYQA_INGEST_MAX_WORK_MB="0")
    started = time.monotonic()
    (result,) = rt.ingest([Upload("one.pdf", data=one_page)])
    assert time.monotonic() - started < 3 + GRACE_S + 10
    assert (result.status, result.code) == ("failed", "over_budget") and "inside one page" in result.en
    assert rt.documents() == [] and _lock_is_free(rt)


def test_ordinary_documents_stay_far_inside_the_default_budget():
    """The defaults must never stop the sample report or a 300-page guideline: both draw under a tenth of the
    default work, and read in a small part of the default time."""
    budget = ingest_budget(Settings.from_env({}))
    assert budget == Budget(32 * 1024 * 1024, 300.0)
    for data in (SAMPLE_PDF.read_bytes(), long_pdf(300)):
        assert check_work(_open_pdf(data, None), budget) < budget.max_work_bytes / 10
        started = time.monotonic()
        assert read_file(data, "doc.pdf", budget=budget).page_count in (16, 300)
        assert time.monotonic() - started < budget.max_seconds / 10


@pytest.mark.parametrize("value, expected", [(None, 32.0), ("0", None), ("2.5", 2.5)])
def test_budget_settings_read_from_the_environment(value, expected):
    env = {"POLICYQA_INGEST_MAX_WORK_MB": value} if value is not None else {}
    assert Settings.from_env(env).ingest_max_work_mb == expected


def test_a_decompression_bomb_is_refused_as_a_bomb_not_as_text_less(tmp_path):
    bomb = bomb_pdf()  # a page of text, and a stream that expands to 80 MB (pypdf stops at 75 MB)
    assert len(bomb) < 100_000
    rt = _service(tmp_path)
    before = _with_guide(rt)
    (result,) = rt.ingest([Upload("bomb.pdf", data=bomb)])
    assert (result.status, result.code) == ("failed", "decompression_bomb")
    assert "解凍爆弾" in result.ja and "decompression bomb" in result.en
    assert assert_intact(rt) == before
    small = bomb_pdf(expanded_mb=2)  # the same file under the limit is read: the reason is the expansion
    assert "Carbon offset guideline" in read_file(small, "small.pdf").texts[0]


def test_cancel_stops_the_batch_stores_nothing_half_and_says_what_was_stored(tmp_path):
    rt = _service(tmp_path)
    cancel = threading.Event()

    def progress(name, done, total):
        if name == "b.pdf":  # after b.pdf's first batch of chunks is stored
            cancel.set()

    files = [Upload("a.pdf", data=long_pdf(3, "甲")), Upload("b.pdf", data=long_pdf(40, "乙"))]
    files.append(Upload("c.pdf", data=long_pdf(3, "丙")))
    results = list(rt.ingest(files, progress=progress, cancel=cancel))
    assert [(r.source, r.status, r.code) for r in results] == [
        ("a.pdf", "added", ""),
        ("b.pdf", "failed", "cancelled"),
        ("c.pdf", "failed", "cancelled"),
    ]
    assert "保存していません" in results[1].ja
    (record,) = rt.documents()
    assert record.source == "a.pdf"
    assert assert_intact(rt) == {record.doc_id: record.chunk_count}  # none of b.pdf's stored batch is left
    assert [p.name for p in rt.library.files_dir.iterdir()] == [record.file_name]
    assert _lock_is_free(rt)
    again = list(rt.ingest(files[1:]))
    assert [r.status for r in again] == ["added", "added"]


def test_cancel_while_a_pdf_is_being_read_stops_at_once(tmp_path):
    rt = _service(tmp_path, POLICYQA_INGEST_MAX_WORK_MB="0", POLICYQA_INGEST_MAX_SECONDS="0")  # no budget at all
    job = rt.start_ingest([Upload("slow.pdf", data=shared_stream_pdf(200, 300)), Upload("c.pdf", data=long_pdf(2))])
    time.sleep(1.5)
    assert job.running
    cancelled_at = time.monotonic()
    job.cancel()
    assert job.wait(10), "the child reading slow.pdf was not stopped"
    assert time.monotonic() - cancelled_at < 5
    assert [(r.source, r.code) for r in job.results] == [("slow.pdf", "cancelled"), ("c.pdf", "cancelled")]
    assert job.stored == [] and rt.documents() == [] and _lock_is_free(rt)


def test_the_library_page_cancels_a_running_ingest(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    monkeypatch.setenv("POLICYQA_INGEST_MAX_WORK_MB", "0")
    for key in ("POLICYQA_READ_ONLY", "POLICYQA_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/library.py").run()
    uploads = [("first.pdf", sample_guideline()), ("slow.pdf", shared_stream_pdf(200, 300))]
    uploads.append(("last.pdf", long_pdf(2)))
    for name, data in uploads:
        at.file_uploader[0].upload(name, data, "application/pdf")
    at.run()
    [b for b in at.button if b.label == "取り込む"][0].click().run()
    job = at.session_state["ingest_job"]
    deadline = time.monotonic() + 60
    while not job.results and time.monotonic() < deadline:  # first.pdf stored, slow.pdf being read
        time.sleep(0.2)
    at.run()
    assert not at.exception and job.running
    assert not at.file_uploader  # no second ingest while one runs
    [b for b in at.button if b.label == "取り込みを中止"][0].click().run()
    assert job.wait(10)
    finish_ingest(at)
    summary = [w.value for w in at.warning if "取り込みを中止しました" in w.value]
    assert summary and "保存した資料: first.pdf" in summary[0].replace("\\", "")
    assert "保存していない資料: slow.pdf、last.pdf" in summary[0].replace("\\", "")
    assert [r["ファイル"] for r in at.dataframe[0].value.to_dict("records")] == ["first.pdf"]
    assert at.file_uploader  # ready for the next upload


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test does)")
def test_cancel_in_a_real_browser(tmp_path):
    """AppTest does not run the progress fragment's timer: in Chromium, the results of a running ingest appear on
    their own, and the cancel button stops it."""
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path / "data"), "POLICYQA_EMBED_MODEL": "policyqa-hash"}
    env["POLICYQA_INGEST_MAX_WORK_MB"] = "0"
    files = {"first.pdf": sample_guideline(), "slow.pdf": shared_stream_pdf(200, 300), "last.pdf": long_pdf(2)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with streamlit_server(env) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(f"{url}/library", wait_until="domcontentloaded")
            drop = page.locator("[data-testid=stFileUploaderDropzoneInput]")
            drop.wait_for(state="attached", timeout=120_000)
            drop.set_input_files([str(tmp_path / name) for name in files])
            page.get_by_role("button", name="取り込む").click()
            page.get_by_role("button", name="取り込みを中止").wait_for(timeout=60_000)
            page.get_by_text("first.pdf: 取り込みました", exact=False).wait_for(timeout=60_000)  # the timer's rerun
            page.get_by_role("button", name="取り込みを中止").click()
            summary = page.get_by_text("取り込みを中止しました", exact=False)
            summary.wait_for(timeout=60_000)
            assert "保存していない資料: slow.pdf、last.pdf" in summary.inner_text()
            assert page.locator("[data-testid=stException]").count() == 0
            page.screenshot(path=str(tmp_path / "cancelled.png"), full_page=True)
            browser.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test does)")
def test_another_session_is_answered_while_an_upload_runs_and_cancel_leaves_the_store_as_it_was(tmp_path):
    """Two browsers on one server: while an admin's upload is being read in the background (it holds the one
    writer lock), an official in another session asks and gets the cited answer; the upload is still running
    then, and cancelling it leaves the library exactly as it was before the upload."""
    from playwright.sync_api import sync_playwright

    assert run(tmp_path, "ingest", _write(tmp_path, "guide.pdf", sample_guideline())).returncode == 0
    before = _library_state(tmp_path)
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path / "data"), "POLICYQA_EMBED_MODEL": "policyqa-hash"}
    env["POLICYQA_INGEST_MAX_WORK_MB"] = "0"  # no reading budget: slow.pdf is read for minutes unless cancelled
    uploads = [_write(tmp_path, "slow.pdf", shared_stream_pdf(200, 300)), _write(tmp_path, "last.pdf", long_pdf(2))]
    with streamlit_server(env) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        admin = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
        official = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()  # its own session
        admin.goto(f"{url}/library", wait_until="domcontentloaded")
        drop = admin.locator("[data-testid=stFileUploaderDropzoneInput]")
        drop.wait_for(state="attached", timeout=120_000)
        drop.set_input_files(uploads)
        admin.get_by_role("button", name="取り込む").click()
        cancel = admin.get_by_role("button", name="取り込みを中止")
        cancel.wait_for(timeout=60_000)

        official.goto(url, wait_until="domcontentloaded")
        answer = ask_in_browser(official, "審査結果は何日以内に通知されますか？")
        assert "60日以内" in answer.inner_text()
        assert official.locator("[data-testid=stException]").count() == 0
        assert cancel.is_visible()  # the upload has not finished: the answer did not wait for it

        cancel.click()
        summary = admin.get_by_text("取り込みを中止しました", exact=False)
        summary.wait_for(timeout=60_000)
        assert "保存していない資料: slow.pdf、last.pdf" in summary.inner_text()
        assert admin.locator("[data-testid=stException]").count() == 0
        browser.close()
    assert _library_state(tmp_path) == before


def _write(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return str(folder / name)


def _library_state(tmp_path) -> tuple:
    """The documents (source, content hash, version), every chunk of each, and the stored files."""
    rt = _service(tmp_path)
    docs = sorted((r.source, r.doc_id, r.version) for r in rt.documents())
    return docs, assert_intact(rt), sorted(p.name for p in rt.library.files_dir.iterdir())


def test_the_reading_child_ends_with_the_ingest_that_started_it(tmp_path):
    """A SIGKILLed ingest (see tests/test_crash.py) leaves no child reading on."""
    (tmp_path / "slow.pdf").write_bytes(shared_stream_pdf(200, 300))
    script = (
        "import sys; from ingest.isolated import read_guarded; from pathlib import Path; "
        "read_guarded(Path(sys.argv[1]).read_bytes(), 'slow.pdf')"
    )
    ingest = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "slow.pdf")])
    children = Path(f"/proc/{ingest.pid}/task/{ingest.pid}/children")
    deadline = time.monotonic() + 30
    while not children.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.1)
    (child,) = [int(pid) for pid in children.read_text().split()]
    time.sleep(1)  # reading by now
    ingest.kill()
    ingest.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    gone = not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
    assert gone, "the child reading slow.pdf outlived the ingest"
