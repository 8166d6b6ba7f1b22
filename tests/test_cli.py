"""The `policyqa` command run as a real process (deterministic embedder, real Chroma on tmp_path)."""

import json
import os
import subprocess
import sys

from helpers import run

from policyqa.testing.pdfgen import sample_guideline


def test_ingest_sources_search_remove(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.pdf").write_bytes(sample_guideline())
    (docs / "broken.pdf").write_bytes(b"<html><body>not a pdf</body></html>")
    (docs / "memo.txt").write_text("第1章 連絡\n審査結果の通知は郵送で行います。", encoding="cp932")

    out = run(tmp_path, "ingest", str(docs))
    assert out.returncode == 2, out.stderr  # one file failed: non-zero, but the batch went on
    assert "✗ broken.pdf" in out.stdout and "[html:" in out.stdout
    assert "✓ guide.pdf: added" in out.stdout and "✓ memo.txt: added" in out.stdout
    assert "summary: added 2, failed 1" in out.stdout
    assert "Traceback" not in out.stderr

    again = run(tmp_path, "ingest", str(docs / "guide.pdf"))
    assert again.returncode == 0 and "nothing to do" in again.stdout

    listed = json.loads(run(tmp_path, "sources", "--json").stdout)
    assert sorted(r["source"] for r in listed) == ["guide.pdf", "memo.txt"]
    assert {r["source"]: r["chunk_count"] for r in listed}["guide.pdf"] == 5

    hits = json.loads(run(tmp_path, "search", "審査結果の通知は何日以内", "--k", "3", "--json").stdout)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert any(
        h["page"] == "4" and h["title"] == "区市町村カーボン・オフセット手続指針" and "60日以内" in h["text"]
        for h in hits
    )
    assert set(hits[0]) == {"rank", "chunk_id", "doc_id", "title", "page", "heading", "text", "score"}

    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "question": "申請期限"}\n{"id": "b", "question": "報告の期限"}\n')
    lines = [json.loads(x) for x in run(tmp_path, "search", "--queries", str(queries), "--k", "2").stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"] and all(len(x["hits"]) == 2 for x in lines)

    gone = run(tmp_path, "remove", "guide.pdf")
    assert gone.returncode == 0 and "removed" in gone.stdout
    assert [r["source"] for r in json.loads(run(tmp_path, "sources", "--json").stdout)] == ["memo.txt"]


def test_read_only_refuses_writes(tmp_path):
    (tmp_path / "g.pdf").write_bytes(sample_guideline())
    out = run(tmp_path, "ingest", str(tmp_path / "g.pdf"), POLICYQA_READ_ONLY="1")
    assert out.returncode == 1 and "read-only" in out.stderr and "Traceback" not in out.stderr


def test_missing_default_model_is_a_clear_error(tmp_path):
    env = {"POLICYQA_EMBED_MODEL": "", "POLICYQA_CACHE_DIR": str(tmp_path / "empty-cache")}
    out = run(tmp_path, "search", "京都議定書", **env)
    assert out.returncode == 1
    assert "policyqa model fetch" in out.stderr and "Traceback" not in out.stderr


def test_unknown_model_name_is_a_clear_error(tmp_path):
    out = run(tmp_path, "search", "京都議定書", POLICYQA_EMBED_MODEL=str(tmp_path / "no-such-model"))
    assert out.returncode == 1
    assert "cannot load embedding model" in out.stderr and "Traceback" not in out.stderr


def test_ask_prints_cited_answers_and_json(tmp_path):
    (tmp_path / "g.pdf").write_bytes(sample_guideline())
    assert run(tmp_path, "ingest", str(tmp_path / "g.pdf")).returncode == 0
    text = run(tmp_path, "ask", "審査結果は何日以内に通知されますか？")
    assert "60日以内" in text.stdout and "[1] 区市町村カーボン・オフセット手続指針 · p.4" in text.stdout
    data = json.loads(run(tmp_path, "ask", "審査結果は何日以内に通知されますか？", "--json").stdout)
    assert data["abstained"] is False
    assert set(data["citations"][0]) == {"n", "doc_id", "title", "page", "heading", "quote", "chunk_id"}
    assert f"[{data['citations'][0]['n']}]" in data["answer"]
    qs = tmp_path / "q.jsonl"
    rows = [
        {"id": "x", "question": "報告はいつまでに？"},
        {"id": "y", "question": ""},
        {"id": "z", "question": "その期限は？", "history": ["森林吸収の申請について"]},  # a follow-up, as the app asks
        # a relative year dated by the answer to the previous question, which named none
        {"id": "w", "question": "その翌年は？", "history": ["指針はいつ改定？"], "previous_answer": "2012年4月 [1]"},
    ]
    qs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    lines = [json.loads(x) for x in run(tmp_path, "ask", "--questions", str(qs)).stdout.splitlines()]
    assert lines[0]["id"] == "x" and "6月末日" in lines[0]["answer"]
    assert lines[1] == {"id": "y", "error": "the question is empty", "code": "empty_question"}
    assert lines[2]["searched"] == "森林吸収の申請について その期限は？"
    assert lines[3]["searched"] == "指針 その2013年は？"


# Runs one command in-process and reports which heavy modules it imported (the last line of stdout).
_LIGHT = """
import json, sys
from policyqa.cli import main
try:
    main(sys.argv[1:], prog_name="policyqa")
    code = 0
except SystemExit as done:
    code = done.code or 0
heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
print("\\n" + json.dumps({"code": code, "heavy": heavy}))
"""


def _light(tmp_path, *args):
    """`policyqa ARGS` with the default embedding model configured but absent from an empty cache: a command
    that loaded the model would fail, and one that imported torch or sentence-transformers would show it."""
    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_EMBED_MODEL"}
    env |= {"POLICYQA_DATA_DIR": str(tmp_path / "data"), "POLICYQA_CACHE_DIR": str(tmp_path / "empty-cache")}
    out = subprocess.run(
        [sys.executable, "-c", _LIGHT, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    *printed, last = out.stdout.rstrip("\n").split("\n")
    return json.loads(last), "\n".join(printed), out.stderr


def test_listing_and_removing_load_no_model_and_no_torch(tmp_path):
    (tmp_path / "g.pdf").write_bytes(sample_guideline())
    assert run(tmp_path, "ingest", str(tmp_path / "g.pdf")).returncode == 0  # the hash model, in its own process

    status, printed, err = _light(tmp_path, "--help")
    assert status == {"code": 0, "heavy": []}, err
    assert "sources" in printed and "remove" in printed

    status, printed, err = _light(tmp_path, "sources", "--json")
    assert status == {"code": 0, "heavy": []}, err
    assert [r["source"] for r in json.loads(printed)] == ["g.pdf"]

    status, printed, err = _light(tmp_path, "sources")
    assert status == {"code": 0, "heavy": []}, err
    assert "区市町村カーボン・オフセット手続指針" in printed

    status, printed, err = _light(tmp_path, "remove", "g.pdf")
    assert status == {"code": 0, "heavy": []}, err
    assert "removed" in printed
    status, printed, _ = _light(tmp_path, "sources", "--json")
    assert json.loads(printed) == [] and status["heavy"] == []


def test_terminal_output_carries_no_escape_sequences_from_documents(tmp_path):
    """A PDF title (or heading, or passage) holding ESC sequences could clear, recolour or retitle the terminal of
    whoever lists or searches the library: the CLI prints document text without control characters."""
    from policyqa.testing.pdfgen import PageSpec, make_pdf

    hostile = "\x1b[2J\x1b]0;pwned\x07\x1b[31m危険な題名\x1b[0m\u202e"
    page = PageSpec(lines=["第1章 審査", "審査結果は受付から60日以内に通知します。"])
    (tmp_path / "evil.pdf").write_bytes(make_pdf([page], header="", title=hostile))
    outputs = [
        run(tmp_path, "ingest", str(tmp_path / "evil.pdf")),
        run(tmp_path, "sources"),
        run(tmp_path, "search", "審査結果の通知", "--k", "1"),
        run(tmp_path, "ask", "審査結果は何日以内に通知されますか？"),
        run(tmp_path, "remove", "evil.pdf"),
    ]
    for out in outputs:
        assert out.returncode == 0, out.stdout + out.stderr
        assert not any(ch in out.stdout + out.stderr for ch in "\x1b\x07\x9b\u202e"), repr(out.stdout)
    assert "危険な題名" in outputs[1].stdout and "pwned" not in outputs[1].stdout  # the title text stays readable
    assert "60日以内" in outputs[3].stdout
