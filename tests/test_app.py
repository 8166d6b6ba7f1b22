"""The Streamlit app driven by AppTest over real stores (hash embedder; the real model where marked)."""

from pathlib import Path

import pytest
from helpers import SAMPLE_PDF
from streamlit.testing.v1 import AppTest

from answer.types import NOT_FOUND
from policyqa.evaluate import contains_evidence
from policyqa.testing.pdfgen import sample_guideline

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    for key in ("POLICYQA_READ_ONLY", "POLICYQA_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


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
    return _run(at)


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


def test_admin_password_guards_the_library(app_env, monkeypatch):
    monkeypatch.setenv("POLICYQA_ADMIN_PASSWORD", "s3cret")
    at = _app("views/library.py")
    assert not at.file_uploader
    at.text_input[0].input("wrong")
    at.button[0].click()
    _run(at)
    assert any("パスワードが違います" in e.value for e in at.error) and not at.file_uploader
    at.text_input[0].input("s3cret")
    at.button[0].click()
    _run(at)
    assert at.file_uploader


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
    html = [e for e in at.get("html")]
    assert html and all("<script>" not in e.proto.body and "&lt;script&gt;" in e.proto.body for e in html)
