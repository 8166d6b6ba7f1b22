"""Kept conversations and feedback in the app, driven by AppTest over real stores (hash embedder).

AppTest cannot carry a cookie from one page load to the next (Streamlit's test client has no cookies), so a test
"browser" is the cookie value its page loads send: `policyqa.guard.browser_cookie` is given that value, as a
browser would send it. What the app does with it is the real code; tests/test_browser.py runs the real cookie.
"""

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import run
from streamlit.testing.v1 import AppTest

from policyqa.conversations import FILE_NAME, Conversations
from policyqa.guard import owner_of
from policyqa.testing.pdfgen import sample_guideline

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FIRST = "審査結果は何日以内に通知されますか？"
SECOND = "申請の期限はいつですか？"


@pytest.fixture
def app_env(app_env):
    """conftest's app environment with a guideline ingested."""
    from policyqa.service import Service, Upload
    from policyqa.settings import Settings

    [result] = Service(Settings.from_env()).ingest([Upload("guide.pdf", data=sample_guideline())])
    assert result.status == "added"
    return app_env


@pytest.fixture
def browser(monkeypatch):
    """Which browser the next page load comes from: set browser[0] to its cookie value (None: a first visit)."""
    from policyqa import guard

    current = ["browser-one-0123456789abcdef"]
    monkeypatch.setattr(guard, "browser_cookie", lambda: current[0])
    return current


def _run(at, timeout=60):
    at.run(timeout=timeout)
    assert not at.exception, [e.value for e in at.exception]
    return at


def load(url_c=None, page=None):
    """A page load (a reload, or a URL typed in): a fresh session, with `?c=` when given."""
    at = AppTest.from_file(APP, default_timeout=60)
    if url_c:
        at.query_params["c"] = url_c
    _run(at)
    if page:
        at.switch_page(page)
        _run(at)
    return at


def ask(at, question):
    at.chat_input[0].set_value(question)
    return _run(at)


def click(at, label):
    [button] = [b for b in at.button if b.label == label]
    button.click()
    return _run(at)


def shown_questions(at) -> list[str]:
    return [t["question"] for t in at.session_state["turns"]]


def sidebar_titles(at) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]


def test_ask_reload_new_reopen_by_url_and_delete(app_env, browser):
    at = ask(load(), FIRST)
    first = at.query_params["c"]
    assert first and not at.session_state["turns"][0]["answer"].abstained

    at = load(url_c=first)  # reload: the URL still names the conversation
    assert shown_questions(at) == [FIRST]
    assert "60日以内" in at.session_state["turns"][0]["answer"].text  # the answer itself came back
    assert any("\\[1\\]" in e.label for e in at.expander)  # with its source cards

    at = click(at, "新しい会話")
    assert shown_questions(at) == [] and "c" not in at.query_params
    at = ask(at, SECOND)
    second = at.query_params["c"]
    assert second != first
    assert len(sidebar_titles(at)) == 2 and sidebar_titles(at)[0].startswith("申請の期限")  # newest first

    at = load()  # a fresh load without ?c= starts empty, the sidebar still lists both
    assert shown_questions(at) == [] and len(sidebar_titles(at)) == 2
    at = load(url_c=first)  # reopen the first by its URL
    assert shown_questions(at) == [FIRST]
    ask(at, "それは誰が通知しますか？")  # a follow-up in the reopened conversation uses its first question
    assert at.session_state["turns"][1]["answer"].searched != "それは誰が通知しますか？"
    assert shown_questions(load(url_c=first)) == [FIRST, "それは誰が通知しますか？"]

    at = click(load(url_c=first), "この会話を削除")
    assert any("削除します" in w.value for w in at.warning)
    at = click(at, "削除する")
    assert shown_questions(at) == [] and "c" not in at.query_params
    assert len(sidebar_titles(at)) == 1
    at = load(url_c=first)
    assert any("この会話は見つかりません" in w.value for w in at.warning) and shown_questions(at) == []


def test_rename_shows_the_new_name_and_refuses_an_empty_one(app_env, browser):
    at = ask(load(), FIRST)
    at.text_input(key=f"name-{at.query_params['c']}").input("審査の期限の件")
    at = click(at, "名前を変更")
    assert any("審査の期限の件" in t for t in sidebar_titles(at))
    at.text_input(key=f"name-{at.query_params['c']}").input("   ")
    at = click(at, "名前を変更")
    assert any("会話の名前が空です" in e.value for e in at.error)
    assert any("審査の期限の件" in t for t in sidebar_titles(at))


def test_a_conversation_belongs_to_the_browser_that_started_it(app_env, browser):
    at = ask(load(), FIRST)
    first = at.query_params["c"]
    browser[0] = "another-browser-fedcba9876543210"
    at = load(url_c=first)
    assert shown_questions(at) == [] and sidebar_titles(at) == []
    assert any("別のブラウザー" in w.value for w in at.warning)
    kept = Conversations(app_env / "data" / FILE_NAME)
    assert kept.get(first, owner_of("browser-one-0123456789abcdef")) is not None  # not the raw id: its hash
    assert kept.get(first, "browser-one-0123456789abcdef") is None


def test_a_first_visit_gets_a_browser_id_cookie_that_its_session_keeps(app_env, browser):
    browser[0] = None  # no cookie yet
    at = load()
    scripts = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert len(scripts) == 1 and "policyqa_browser=" in scripts[0] and "SameSite=Strict" in scripts[0]
    token = scripts[0].split("policyqa_browser=")[1].split(";")[0]
    assert len(token) >= 22
    at = ask(at, FIRST)  # the same session keeps its id until the cookie comes back
    browser[0] = token  # the next page load sends the cookie the script set
    at = load()
    assert len(sidebar_titles(at)) == 1
    assert not [h for h in at.get("html") if "document.cookie" in h.proto.body]  # nothing to set any more


def test_feedback_is_kept_shown_to_the_admin_exported_and_evaluated(app_env, browser, monkeypatch):
    at = ask(load(), FIRST)
    conversation = at.query_params["c"]
    at = ask(at, "区役所の駐車場は何台ありますか？")  # abstains
    at.feedback[1].set_value(0)  # 👎 on the second answer
    _run(at)
    kept = Conversations(app_env / "data" / FILE_NAME)
    [entry] = kept.feedback()
    assert entry.rating == "down" and entry.turn == 1 and entry.abstained and entry.history == (FIRST,)
    at.checkbox(key=f"why-{conversation}-1-not_found").check()
    at.text_area(key=f"why-{conversation}-1-comment").input("駐車場の台数は施設案内にあるはず")
    at = click(at, "送信")
    [entry] = kept.feedback()
    assert entry.reasons == ("not_found",) and entry.comment == "駐車場の台数は施設案内にあるはず"
    at.feedback[0].set_value(1)  # 👍 on the first
    _run(at)
    assert {f.turn: f.rating for f in kept.feedback()} == {0: "up", 1: "down"}
    first = next(f for f in kept.feedback() if f.turn == 0)
    assert first.citations[0]["source"] == "guide.pdf" and first.settings["embed_model"] == "policyqa-hash"
    at = load(url_c=conversation)  # reopened: the thumbs show what was given, the form is not asked again
    assert [f.value for f in at.feedback] == [1, 0] and not at.checkbox
    at.feedback[0].set_value(None)  # cleared: taken back
    _run(at)
    assert [f.turn for f in kept.feedback()] == [1]
    at.feedback[0].set_value(1)
    _run(at)
    at = ask(click(at, "新しい会話"), SECOND)  # a new conversation starts with no feedback shown or asked
    assert [f.value for f in at.feedback] == [None] and not at.checkbox

    monkeypatch.setenv("POLICYQA_ADMIN_PASSWORD", "s3cret")
    admin = load(page="views/feedback.py")
    assert not admin.dataframe  # behind the password
    admin.text_input[0].input("s3cret")
    admin = click(admin, "ログイン")
    table = admin.dataframe[0].value
    assert len(table) == 2 and "駐車場の台数は施設案内にあるはず" in set(table["ご意見"])
    assert [m.value for m in admin.metric] == ["1", "1", "0"]
    admin.selectbox(key="fb-reason").select("not_found")
    _run(admin)
    assert list(admin.dataframe[0].value["番号"]) == [entry.id]
    rows = list(csv.DictReader(io.StringIO(run(app_env, "feedback", "--csv").stdout)))
    assert sorted((r["rating"], r["reasons"]) for r in rows) == [("down", "not_found"), ("up", "")]

    # the admin marks the 👎 as unanswerable (the right answer is to abstain): an evaluation question
    admin.checkbox[0].check()
    admin = click(admin, "評価用の質問にする")
    assert any("評価用の質問にしました" in s.value for s in admin.success)
    out = run(app_env, "eval", "--from-feedback", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["questions"] == 1 and report["abstention"]["unanswerable_abstained"] == 1


def test_eval_from_feedback_scores_a_marked_answerable_question(app_env, browser):
    at = ask(load(), FIRST)
    at.feedback[0].set_value(0)
    _run(at)
    kept = Conversations(app_env / "data" / FILE_NAME)
    [entry] = kept.feedback()
    assert run(app_env, "eval", "--from-feedback").returncode == 1  # nothing marked yet: a clear refusal
    kept.mark(entry.id, evidence=["受付から60日以内"], answer_keys=["60日"])
    report = json.loads(run(app_env, "eval", "--from-feedback", "--json").stdout)
    assert report["answerable"] == 1 and report["answer_accuracy"] == 1.0
    assert report["modes"]["hybrid"]["recall"]["1"] == 1.0 and set(report["modes"]) == {"hybrid"}
    kept.mark(entry.id, evidence=["この文は資料のどこにもない"], answer_keys=["60日"])  # a failure is reported
    report = json.loads(run(app_env, "eval", "--from-feedback", "--json").stdout)
    assert report["answer_accuracy"] == 0.0 and report["answer_misses"][0]["id"] == f"feedback-{entry.id}"


def test_an_unusable_conversation_store_leaves_the_chat_working(app_env, browser):
    (app_env / "data" / FILE_NAME).write_bytes(b"this is not a database" * 50)
    at = ask(load(), FIRST)
    assert not at.session_state["turns"][0]["answer"].abstained
    assert any("会話は保存されません" in c.value for c in at.sidebar.caption)
    assert not at.feedback and "c" not in at.query_params
