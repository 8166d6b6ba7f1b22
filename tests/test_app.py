"""The Streamlit app driven by AppTest over real stores (hash embedder; the real model where marked)."""

from pathlib import Path

import pytest
from helpers import SAMPLE_PDF, finish_ingest
from streamlit.testing.v1 import AppTest

from answer.types import NOT_FOUND
from policyqa.evaluate import contains_evidence
from policyqa.testing.pdfgen import sample_guideline

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app(page=None, timeout=60):
    at = _run(AppTest.from_file(APP, default_timeout=timeout))
    if page:
        at.switch_page(page)
        _run(at)
    return at


def _upload(at, name, data, mime="application/pdf"):
    at.file_uploader[0].upload(name, data, mime)
    _run(at)
    [b for b in at.button if b.label == "取り込む"][0].click()
    return finish_ingest(_run(at))


def test_empty_store_shows_a_clear_message(app_env):
    at = _app()
    assert any("資料がまだ登録されていません" in i.value for i in at.info)


def test_upload_makes_a_document_searchable_and_a_corrupt_one_adds_nothing(app_env):
    at = _app("views/library.py")
    _upload(at, "guide.pdf", sample_guideline())
    assert any("guide.pdf: 取り込みました" in s.value.replace("\\", "") for s in at.success)

    at = _app("views/library.py")
    _upload(at, "broken.pdf", b"%PDF-1.7\nnot really")
    assert any("取り込めませんでした" in e.value for e in at.error)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 1  # still only guide.pdf

    at = _app()
    at.chat_input[0].set_value("審査結果は何日以内に通知されますか？").run()
    assert not at.exception
    answer = at.session_state["turns"][-1]["answer"]
    assert not answer.abstained
    assert any("60日以内" in c.quote for c in answer.citations)
    assert answer.citations[0].doc_title == "区市町村カーボン・オフセット手続指針"


def test_remove_needs_confirmation(app_env):
    at = _app("views/library.py")
    _upload(at, "guide.pdf", sample_guideline())
    at = _app("views/library.py")
    [b for b in at.button if b.label == "削除"][0].click()
    _run(at)
    assert any("削除します。よろしいですか" in w.value for w in at.warning)
    [b for b in at.button if b.label == "削除する"][0].click()
    _run(at)
    at = _app()
    assert any("資料がまだ登録されていません" in i.value for i in at.info)


def test_read_only_hides_the_library_page(app_env, monkeypatch):
    monkeypatch.setenv("POLICYQA_READ_ONLY", "1")
    at = _app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/library.py")  # the page is not registered at all


@pytest.fixture
def clock(monkeypatch):
    """The admin-login throttle on a clock of the test's own (a list holding now), emptied before and after."""
    from policyqa import guard

    now = [1000.0]
    guard.ADMIN_LOGINS.clear()
    monkeypatch.setattr(guard.ADMIN_LOGINS, "_clock", lambda: now[0])
    yield now
    guard.ADMIN_LOGINS.clear()


def _log_in(at, password):
    at.text_input[0].input(password)
    at.button[0].click()
    return _run(at)


def test_admin_password_guards_the_library(app_env, monkeypatch, clock):
    monkeypatch.setenv("POLICYQA_ADMIN_PASSWORD", "s3cret")
    at = _app("views/library.py")
    assert not at.file_uploader
    _log_in(at, "wrong")
    assert any("パスワードが違います" in e.value for e in at.error) and not at.file_uploader
    clock[0] += 1.0  # the wait after one failure
    _log_in(at, "s3cret")
    assert at.file_uploader


def test_failed_admin_logins_wait_longer_each_time_and_are_logged(app_env, monkeypatch, clock, caplog):
    import logging

    monkeypatch.setenv("POLICYQA_ADMIN_PASSWORD", "s3cret")
    at = _app("views/library.py")
    with caplog.at_level(logging.WARNING, logger="policyqa.admin"):
        _log_in(at, "guess-1")
        assert any("次は 1 秒後から" in e.value for e in at.error)
        _log_in(at, "s3cret")  # the right password, but too soon: refused without being compared
        assert any("あと 1 秒待って" in w.value for w in at.warning) and not at.file_uploader
        clock[0] += 1.0
        _log_in(at, "guess-2")
        assert any("次は 2 秒後から" in e.value for e in at.error)
        clock[0] += 1.5
        _log_in(at, "s3cret")
        assert not at.file_uploader  # 2 s had not passed
        clock[0] += 0.5
        _log_in(at, "s3cret")
        assert at.file_uploader
    failures = [r.getMessage() for r in caplog.records if r.name == "policyqa.admin"]
    assert len(failures) == 2 and "failed attempt 2 in a row" in failures[1]
    assert not any("guess" in m or "s3cret" in m for m in failures)  # never what was typed


def test_a_new_session_from_the_same_client_still_waits(app_env, monkeypatch, clock):
    from policyqa import guard

    monkeypatch.setenv("POLICYQA_ADMIN_PASSWORD", "s3cret")
    monkeypatch.setattr(guard, "client_address", lambda: "203.0.113.7")
    first = _app("views/library.py")
    for attempt in range(3):
        _log_in(first, f"guess-{attempt}")
        clock[0] += guard.wait_after(attempt + 1)
    _log_in(first, "guess-3")  # 4 failures in a row: the next try waits 8 s
    fresh = _app("views/library.py")  # a new browser session: its own session key, the same address
    _log_in(fresh, "s3cret")
    assert any("あと 8 秒待って" in w.value for w in fresh.warning) and not fresh.file_uploader
    monkeypatch.setattr(guard, "client_address", lambda: "198.51.100.2")
    other = _app("views/library.py")  # another client is not held up
    _log_in(other, "s3cret")
    assert other.file_uploader


@pytest.mark.slow
def test_sample_question_and_unanswerable_with_the_real_model(tmp_path, monkeypatch, real_embedder):
    from policyqa.service import Service
    from policyqa.settings import Settings

    data = tmp_path / "data"
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(data))
    monkeypatch.delenv("POLICYQA_EMBED_MODEL", raising=False)
    rt = Service(Settings.from_env(), real_embedder)
    with rt.library.writing():
        rt.library.ingest_bytes(SAMPLE_PDF.name, SAMPLE_PDF.read_bytes())
    at = _app(timeout=180)
    at.chat_input[0].set_value("京都議定書目標達成計画が改定・閣議決定されたのはいつですか？").run(timeout=180)
    assert not at.exception
    answer = at.session_state["turns"][-1]["answer"]
    assert any(
        contains_evidence(c.quote, ["2008(平成20)年3月には、京都議定書目標達成計画(改定)"]) for c in answer.citations
    )
    assert len(at.expander) >= 1
    at.chat_input[0].set_value("今年の東京マラソンの開催日はいつですか？").run(timeout=60)
    assert any(NOT_FOUND in w.value for w in at.warning)
    assert at.session_state["turns"][-1]["answer"].abstained


def test_document_text_with_markup_is_shown_as_text(app_env):
    from policyqa.testing.pdfgen import PageSpec, make_pdf

    evil = make_pdf(
        [
            PageSpec(
                lines=["第1章 注意", "審査の窓口は<script>alert(1)</script>と[公式サイト](http://evil.example)です。"]
            )
        ],
        header="",
    )
    at = _app("views/library.py")
    _upload(at, "evil.pdf", evil)
    at = _app()
    at.chat_input[0].set_value("審査の窓口はどこですか？").run()
    assert not at.exception
    answer = at.session_state["turns"][-1]["answer"]
    assert not answer.abstained and "<script>" in answer.citations[0].quote  # the quote stays exact
    shown = [m.value for m in at.markdown]
    assert any(
        r"\<script\>alert\(1\)\</script\>" in v and r"\[公式サイト\]\(http://evil\.example\)" in v for v in shown
    )
    assert not any("<script>" in v or "](http" in v for v in shown)
    html = [e for e in at.get("html") if "document.cookie" not in e.proto.body]  # not the app's own cookie script
    assert html and all("<script>" not in e.proto.body and "&lt;script&gt;" in e.proto.body for e in html)


def test_citation_cards_name_the_file_beside_the_title(app_env):
    """A PDF that gives itself another document's title is cited under that title: its file name shows beside it."""
    from policyqa.testing.pdfgen import PageSpec, make_pdf

    impostor = make_pdf(
        [PageSpec(lines=["第1章 審査", "審査結果は、受付から7日以内に通知します。"])],
        header="",
        title="区市町村カーボン・オフセット手続指針",
    )
    at = _app("views/library.py")
    _upload(at, "guide.pdf", sample_guideline())
    at = _app("views/library.py")
    _upload(at, "impostor:smile:.pdf", impostor)
    at = _app()
    at.chat_input[0].set_value("審査結果は何日以内に通知されますか？").run()
    assert not at.exception
    labels = [e.label for e in at.expander if e.label.startswith("\\[1\\]")]
    assert labels, [e.label for e in at.expander]
    answer = at.session_state["turns"][-1]["answer"]
    names = {c.doc_id: "impostor" if "7日" in c.passage else "guide" for c in answer.citations}
    for c in answer.citations:
        (label,) = [e.label for e in at.expander if e.label.startswith(f"\\[{c.n}\\]")]
        assert "区市町村カーボン・オフセット手続指針" in label
        expected = "（impostor:\u2060smile:\\.pdf）" if names[c.doc_id] == "impostor" else "（guide\\.pdf）"
        assert label.endswith(expected), label


def test_upload_endpoint_gets_the_apps_limit_and_none_in_read_only_mode(app_env, monkeypatch):
    """Streamlit's upload endpoint serves every session (even where no page shows an uploader) and keeps what it
    receives in memory: its cap follows POLICYQA_UPLOAD_LIMIT_MB, and is 0 in read-only mode."""
    from streamlit import config

    before = config.get_option("server.maxUploadSize")
    try:
        monkeypatch.setenv("POLICYQA_UPLOAD_LIMIT_MB", "7")
        at = _app("views/library.py")
        assert config.get_option("server.maxUploadSize") == 7
        assert at.file_uploader[0].proto.max_upload_size_mb == 7  # the browser refuses larger files up front
        monkeypatch.setenv("POLICYQA_READ_ONLY", "1")
        _app()
        assert config.get_option("server.maxUploadSize") == 0
    finally:
        config.set_option("server.maxUploadSize", before)
    toml = (Path(APP).parent / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert "maxUploadSize = 50" in toml
