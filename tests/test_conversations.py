"""Kept conversations and feedback (policyqa.conversations) on a real SQLite file in a fresh data folder."""

import json
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import run, settings_for

from basics.errors import ErrorCode, PolicyQAError
from index.embedder import HashEmbedder
from policyqa.conversations import FILE_NAME, MIGRATIONS, Conversations, Feedback
from policyqa.service import Service, Upload
from policyqa.testing.pdfgen import sample_guideline


@pytest.fixture
def kept(tmp_path):
    return Conversations(tmp_path / "data" / FILE_NAME)


@pytest.fixture
def guide_service(tmp_path):
    """The service over a generated guideline (hash embedder), with its conversation store."""
    service = Service(settings_for(tmp_path / "data"), HashEmbedder())
    [result] = service.ingest([Upload("guide.pdf", data=sample_guideline())])
    assert result.status == "added"
    return service


def test_a_conversation_is_kept_per_owner_and_listed_newest_first(kept):
    first = kept.create("browser-a", "審査結果は何日以内に通知されますか？")
    kept.add_turn(first.id, "browser-a", "審査結果は何日以内に通知されますか？", {"text": "60日以内です。[1]"})
    time.sleep(1.01)  # stored times have whole seconds
    second = kept.create("browser-a", "申請期限は？")
    other = kept.create("browser-b", "手数料は？")
    assert [c.id for c in kept.list("browser-a")] == [second.id, first.id]
    assert [c.id for c in kept.list("browser-b")] == [other.id]
    assert kept.get(first.id, "browser-b") is None  # another browser cannot open it
    assert kept.turns(first.id, "browser-b") == []
    with pytest.raises(PolicyQAError) as err:
        kept.add_turn(first.id, "browser-b", "割り込み", {})
    assert err.value.code == ErrorCode.NOT_FOUND and "別のブラウザー" in err.value.ja
    assert [t.answer["text"] for t in kept.turns(first.id, "browser-a")] == ["60日以内です。[1]"]


def test_rename_and_delete_and_bad_names(kept):
    c = kept.create("me", "とても長い最初の質問" * 40)
    assert len(c.title) == 120 and c.title.endswith("…")  # a sidebar line, not the whole question
    assert kept.rename(c.id, "me", "  審査の期限  ").title == "審査の期限"
    with pytest.raises(PolicyQAError) as err:
        kept.rename(c.id, "me", "   ")
    assert err.value.code == ErrorCode.BAD_INPUT and err.value.ja and err.value.en
    assert kept.get(c.id, "me").title == "審査の期限"  # unchanged by the refused rename
    with pytest.raises(PolicyQAError):
        kept.delete(c.id, "someone else")
    kept.add_turn(c.id, "me", "q", {})
    kept.delete(c.id, "me")
    assert kept.get(c.id, "me") is None and kept.list("me") == []
    with sqlite3.connect(kept.path) as db:
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0


def test_schema_is_migrated_once_and_the_file_is_in_wal_mode(tmp_path):
    path = tmp_path / FILE_NAME
    kept = Conversations(path)
    kept.create("me", "q")
    again = Conversations(path)  # a second process opening the same file: nothing re-run, nothing lost
    assert again.schema_version == len(MIGRATIONS)
    assert len(again.list("me")) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unopenable_store_is_a_clear_error(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"not a database at all, just bytes" * 100)
    with pytest.raises(PolicyQAError) as err:
        Conversations(tmp_path / FILE_NAME)
    assert err.value.code == ErrorCode.STORE and "会話の保存先" in err.value.ja and err.value.en


def test_a_real_answer_is_kept_and_comes_back_equal(guide_service):
    answer = guide_service.ask("審査結果は何日以内に通知されますか？")
    assert not answer.abstained and answer.citations
    kept = guide_service.conversations
    c = kept.create("me", answer.question)
    kept.add_turn(c.id, "me", answer.question, guide_service.answer_record(answer))
    [turn] = Conversations(kept.path).turns(c.id, "me")  # read back by another opener
    again = guide_service.answer_from_record(turn.answer)
    assert again.citations == answer.citations and again.text == answer.text and again.searched == answer.searched
    unanswered = guide_service.ask("区役所の駐車場は何台ありますか？")
    assert unanswered.abstained
    n = kept.add_turn(c.id, "me", unanswered.question, guide_service.answer_record(unanswered))
    back = guide_service.answer_from_record(kept.turns(c.id, "me")[n].answer)
    assert back.related == unanswered.related and back.abstained


def test_feedback_keeps_the_answer_its_citations_and_settings(guide_service):
    answer = guide_service.ask("審査結果は何日以内に通知されますか？")
    kept = guide_service.conversations
    c = kept.create("me", answer.question)
    n = kept.add_turn(c.id, "me", answer.question, guide_service.answer_record(answer))
    entry = guide_service.feedback_for(
        answer,
        "down",
        reasons=("wrong_answer", "not_found"),
        comment="60日ではなく30日のはず",
        conversation_id=c.id,
        turn=n,
    )
    fid = kept.give_feedback(entry)
    [got] = kept.feedback()
    assert got.id == fid and got.rating == "down" and got.reasons == ("wrong_answer", "not_found")
    assert got.question == answer.question and got.answer == answer.text and got.searched == answer.searched
    cited = got.citations[0]
    assert (
        cited["source"] == "guide.pdf" and cited["version"] == 1 and cited["chunk_id"] == answer.citations[0].chunk_id
    )
    assert cited["page"] == answer.citations[0].page and cited["doc_id"] == answer.citations[0].doc_id
    assert got.settings["embed_model"] == "policyqa-hash" and got.settings["llm"] is False
    assert got.settings["min_similarity"] == guide_service.min_similarity
    # the 👎 given again without reasons keeps the reasons given with it
    kept.give_feedback(guide_service.feedback_for(answer, "down", conversation_id=c.id, turn=n))
    [again] = kept.feedback()
    assert again.reasons == ("wrong_answer", "not_found") and again.comment == "60日ではなく30日のはず"
    # a change of mind replaces the entry for that turn rather than adding one
    kept.give_feedback(guide_service.feedback_for(answer, "up", conversation_id=c.id, turn=n))
    [changed] = kept.feedback()
    assert changed.id == fid and changed.rating == "up" and changed.reasons == ()
    # the feedback stays when the conversation goes (a copy for whoever keeps the documents)
    kept.delete(c.id, "me")
    [left] = kept.feedback()
    assert left.id == fid and left.conversation_id is None and left.question == answer.question


def test_filters_counts_and_marking(kept):
    def give(rating, reasons=(), source="a.pdf", question="q"):
        cite = {"doc_id": source * 4, "title": f"資料{source}", "source": source, "version": 1}
        return kept.give_feedback(
            Feedback(rating, question, question, "answer", False, citations=(cite,), reasons=reasons)
        )

    up = give("up")
    wrong = give("down", ("wrong_answer",), "b.pdf", "審査の期限は？")
    missing = give("down", ("not_found", "other"))
    assert kept.counts() == {
        "up": 1,
        "down": 2,
        "marked": 0,
        "wrong_answer": 1,
        "wrong_source": 0,
        "not_found": 1,
        "other": 1,
    }
    assert [f.id for f in kept.feedback(reason="not_found")] == [missing]
    assert {f.id for f in kept.feedback(document="b.pdf")} == {wrong}
    assert {f.id for f in kept.feedback(document="資料a.pdf")} == {up, missing}
    assert {f.id for f in kept.feedback(rating="down")} == {wrong, missing}
    assert kept.feedback(since="2999-01-01") == [] and len(kept.feedback(since="2000-01-01")) == 3
    with pytest.raises(PolicyQAError) as err:
        kept.feedback(since="last week")
    assert err.value.code == ErrorCode.BAD_INPUT
    with pytest.raises(PolicyQAError):
        kept.mark(wrong, evidence=["  "])  # an answerable question needs its passage
    marked = kept.mark(wrong, evidence=["審査結果は60日以内に通知"], answer_keys=["60日"])
    assert marked.marked and marked.evidence == ("審査結果は60日以内に通知",) and marked.answerable
    assert kept.mark(missing, answerable=False).answerable is False
    assert [f.id for f in kept.feedback(marked=True)] == [missing, wrong]
    with pytest.raises(PolicyQAError) as err:
        kept.give_feedback(Feedback("down", "q", "q", "a", False, reasons=("because",)))
    assert err.value.code == ErrorCode.BAD_INPUT
    assert len(kept.feedback()) == 3  # the refused entry left nothing


WRITER = textwrap.dedent(
    """
    import sys, time
    from policyqa.service import Service
    from policyqa.settings import Settings
    from policyqa.conversations import Feedback

    owner, start, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    kept = Service(Settings.from_env()).conversations  # as an app process opens it
    while time.time() < start:
        time.sleep(0.005)
    for i in range(count):
        c = kept.create(owner, f"{owner} 質問 {i}")
        for n in range(3):
            kept.add_turn(c.id, owner, f"{owner} {i} 質問 {n}", {"text": f"回答 {n}"})
        kept.give_feedback(Feedback("down", f"{owner} {i}", "s", "a", False, conversation_id=c.id, turn=2,
                                    reasons=("wrong_answer",)))
    print("done", owner)
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    env_data = {"POLICYQA_DATA_DIR": str(tmp_path / "data"), "POLICYQA_EMBED_MODEL": "policyqa-hash"}
    import os

    env = {**os.environ, **env_data}
    start, count = time.time() + 3.0, 60  # both import first, then write from the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, owner, str(start), str(count)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for owner in ("browser-a", "browser-b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    kept = Conversations(tmp_path / "data" / FILE_NAME)
    for owner in ("browser-a", "browser-b"):
        conversations = kept.list(owner, limit=1000)
        assert len(conversations) == count
        assert all([t.n for t in kept.turns(c.id, owner)] == [0, 1, 2] for c in conversations)
    assert len(kept.feedback()) == 2 * count and kept.counts()["wrong_answer"] == 2 * count


def test_feedback_cli_lists_and_writes_csv(tmp_path):
    kept = Conversations(tmp_path / "data" / FILE_NAME)
    cite = {"doc_id": "d" * 64, "title": "指針", "source": "guide.pdf", "version": 2, "page": 4, "chunk_id": "c1"}
    kept.give_feedback(
        Feedback(
            "down",
            "審査は何日？",
            "審査は何日？",
            "60日以内。[1]",
            False,
            citations=(cite,),
            reasons=("wrong_answer",),
            comment='違う,\n"30日"',
        )
    )
    kept.give_feedback(Feedback("up", "期限は？", "期限は？", "10月31日。[1]", False))
    out = run(tmp_path, "feedback")
    assert out.returncode == 0, out.stderr
    assert "👎" in out.stdout and "回答が誤り" in out.stdout and "guide.pdf v2 p.4" in out.stdout
    out = run(tmp_path, "feedback", "--csv")
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["rating"] for r in rows] == ["up", "down"] or [r["rating"] for r in rows] == ["down", "up"]
    down = next(r for r in rows if r["rating"] == "down")
    assert down["comment"] == '違う,\n"30日"' and down["reasons"] == "wrong_answer"
    assert json.loads(down["citations"])[0]["chunk_id"] == "c1"
    assert run(tmp_path, "feedback", "--since", "2999-01-01").stdout.strip() == "no feedback"
    bad = run(tmp_path, "feedback", "--since", "yesterday")
    assert bad.returncode == 1 and "日付の形式" in bad.stderr and "not a date" in bad.stderr


def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text(kept):
    """Questions and comments are typed by anyone; the CSV is opened in Excel by whoever keeps the documents."""
    import csv
    import io

    from policyqa.present import feedback_csv

    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3", "@SUM(A1)"]
    for text in formulas:
        kept.give_feedback(Feedback("down", text, text, "a", False, comment=text))
    rows = list(csv.DictReader(io.StringIO(feedback_csv(kept.feedback()))))
    assert sorted(r["question"] for r in rows) == sorted("'" + t for t in formulas)
    assert all(r["comment"] == r["question"] for r in rows)
    assert kept.feedback()[0].question in formulas  # stored as typed; only the export guards the spreadsheet
