"""Versions and what changed, on guidelines generated at test time and a real Chroma store (hash embedder):
earlier versions are archived (searchable on request, never by default), removing takes one version or all,
and `policyqa diff` shows exactly the edits made, with pages in both versions, and nothing for a re-layout."""

from __future__ import annotations

import json
import time

from helpers import run

from policyqa.testing.pdfgen import PageSpec, make_pdf

TITLE = "区市町村カーボン・オフセット運用指針"

# A guideline as (heading path, sentences) sections; chapter headings are lines of their own.
V1 = [
    ("第1章 総則 > (1)目的", ["この指針は、区市町村が行うカーボン・オフセットの手続を定めるものです。",
                             "温室効果ガスの排出削減に向けた取組を促進することを目的とします。"]),
    ("第1章 総則 > (2)定義", ["この指針において「クレジット」とは、J-クレジット制度により認証された削減量をいいます。",
                             "「オフセット」とは、排出量の全部又は一部をクレジットで埋め合わせることをいいます。"]),
    ("第2章 申請 > (1)申請の方法", ["申請者は、所定の申請書に事業計画書を添えて環境政策課に提出します。",
                                 "申請は、毎年4月1日から10月31日までの間に行うものとします。",
                                 "電子申請による提出も受け付けます。"]),
    ("第2章 申請 > (2)審査", ["審査委員会は、申請書類の受付から60日以内に審査結果を通知するものとします。",
                             "審査の結果、不備がある場合は補正を求めることがあります。"]),
    ("第3章 報告 > (1)実績報告", ["事業者は、オフセットの実績を翌年度の6月末日までに報告しなければなりません。",
                                 "報告書には、使用したクレジットの識別番号を記載します。"]),
]  # fmt: skip

EDITED = "審査委員会は、申請書類の受付から30日以内に審査結果を通知するものとします。"
ADDED_SECTION = ("第3章 報告 > (2)監査", ["区は、報告の内容について必要に応じて監査を行うことができます。",
                                       "監査の結果は、区のホームページで公表します。"])  # fmt: skip


def _v2() -> list:
    """V1 with one sentence edited (審査), one section added (監査) and one removed (定義)."""
    sections = [s for s in V1 if s[0] != "第1章 総則 > (2)定義"]
    sections = [(h, [EDITED if "60日以内" in t else t for t in body]) for h, body in sections]
    return [*sections, ADDED_SECTION]


def _lines(sections) -> list[str]:
    lines, chapter = [], None
    for heading, body in sections:
        top, sub = heading.split(" > ")
        if top != chapter:
            lines.append(top)
            chapter = top
        lines += [sub, *body]
    return lines


def layout(sections, per_page: int, lead: int = 0, split_at: int | None = None) -> tuple[bytes, dict[str, int]]:
    """The guideline as a PDF of `per_page` lines a page after `lead` blank pages (pages shift: a cover, a
    page left blank on purpose), and the page each sentence is on. `split_at`: the sentence on that line is
    broken in the middle and its second half starts the next page, as a page break falls mid-sentence."""
    preface = [PageSpec() for _ in range(lead)]
    lines = _lines(sections)
    pages, page_of = [list(p.lines) for p in preface], {}
    current: list[str] = []
    for n, line in enumerate(lines):
        if n == split_at:
            half = len(line) // 2
            current.append(line[:half])
            pages.append(current)
            page_of[line] = len(pages)
            current = [line[half:]]
            continue
        current.append(line)
        page_of[line] = len(pages) + 1
        if len(current) == per_page:
            pages.append(current)
            current = []
    if current:
        pages.append(current)
    return make_pdf([PageSpec(lines=p) for p in pages], title=TITLE), page_of


def _ingest(rt, name, data):
    with rt.library.writing():
        return rt.library.ingest_bytes(name, data)


# --- what changed -------------------------------------------------------------------------------------
def test_diff_shows_exactly_the_edits_with_pages_in_both_versions(runtime, tmp_path):
    old_pdf, old_page = layout(V1, per_page=5)
    new_pdf, new_page = layout(_v2(), per_page=4, lead=1)  # pages shifted: a blank page first, shorter pages
    _ingest(runtime, "guide.pdf", old_pdf)
    _ingest(runtime, "guide.pdf", new_pdf)
    diff = runtime.diff("guide.pdf")
    assert (diff.before.number, diff.after.number) == (1, 2)
    by_kind = {(s.kind, s.heading): s for s in diff.sections}
    assert set(by_kind) == {
        ("changed", "第2章 申請 > (2)審査"),
        ("added", "第3章 報告 > (2)監査"),
        ("removed", "第1章 総則 > (2)定義"),
    }
    changed = by_kind["changed", "第2章 申請 > (2)審査"]
    old_sentence = next(t for t in V1[3][1] if "60日以内" in t)
    assert [(c.text, c.page_from, c.page_to) for c in changed.removed] == [
        (old_sentence, old_page[old_sentence], new_page[EDITED])
    ]
    assert [(c.text, c.page_from, c.page_to) for c in changed.added] == [
        (EDITED, old_page[old_sentence], new_page[EDITED])
    ]
    assert old_page[old_sentence] != new_page[EDITED]  # the pages did shift
    added = by_kind["added", "第3章 報告 > (2)監査"]
    assert added.pages_to == tuple(sorted({new_page[t] for t in ADDED_SECTION[1]}))
    removed = by_kind["removed", "第1章 総則 > (2)定義"]
    assert removed.pages_from == tuple(sorted({old_page[t] for t in V1[1][1]}))

    out = run(tmp_path, "diff", "guide.pdf", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["from"]["version"], got["to"]["version"]) == (1, 2)
    assert sorted((s["kind"], s["heading"]) for s in got["sections"]) == sorted(by_kind)
    text = run(tmp_path, "diff", "guide.pdf", "--from", "1", "--to", "2")
    assert f"+ {EDITED}" in text.stdout and f"- {old_sentence}" in text.stdout
    assert "追加 (added) 第3章 報告 > (2)監査" in text.stdout


def test_a_relayout_without_textual_change_shows_no_difference(runtime, tmp_path):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    # other page breaks, a blank page first, and a sentence broken across a page break
    relaid, _ = layout(V1, per_page=3, lead=1, split_at=_lines(V1).index(V1[2][1][1]))
    assert _ingest(runtime, "guide.pdf", relaid).status == "replaced"
    assert runtime.diff("guide.pdf").sections == ()
    out = run(tmp_path, "diff", "guide.pdf")
    assert out.returncode == 0 and "差分はありません" in out.stdout


def test_chapters_renumbered_after_an_inserted_one_are_changed_not_removed_and_added(runtime):
    inserted = ("第2章 登録 > (1)登録の方法", ["事業者は、あらかじめ区に登録しなければなりません。",
                                             "登録の有効期間は3年とします。"])  # fmt: skip
    renumbered = [(h.replace("第3章", "第4章").replace("第2章", "第3章"), body) for h, body in V1]
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    _ingest(runtime, "guide.pdf", layout([*renumbered[:2], inserted, *renumbered[2:]], per_page=5)[0])
    sections = runtime.diff("guide.pdf").sections
    assert [(s.kind, s.heading) for s in sections if s.kind != "changed"] == [("added", inserted[0])]
    renamed = {s.heading_from: s.heading for s in sections if s.kind == "changed"}
    assert renamed == {h: r for (h, _), (r, _) in zip(V1, renumbered, strict=True) if h != r}
    assert all(not s.added and not s.removed for s in sections if s.kind == "changed")


# --- archived versions: kept, searchable on request, never by default ----------------------------------
def test_archived_versions_are_searched_on_request_and_never_by_default(runtime, tmp_path):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    v1_id = runtime.documents()[0].doc_id
    time.sleep(1.1)  # ingest times have whole seconds: --as-of needs the two apart
    _ingest(runtime, "guide.pdf", layout(_v2(), per_page=5)[0])
    (active,) = runtime.documents()
    assert active.version == 2 and active.doc_id != v1_id
    for mode in ("hybrid", "dense", "keyword"):
        hits = runtime.search("審査結果を通知する期間", k=10, mode=mode)
        assert hits and all(h.chunk.doc_id == active.doc_id for h in hits), mode
    answer = runtime.ask("審査結果は何日以内に通知されますか")
    assert "30日以内" in answer.text and "60日以内" not in answer.text

    doc = runtime.doc_ids(["guide.pdf"])
    old = runtime.search("審査結果を通知する期間", k=3, doc_ids=doc, version=1)
    assert old and all(h.chunk.doc_id == v1_id for h in old)
    assert all(h.title == f"{TITLE}　第1版（アーカイブ）" for h in old)
    answer = runtime.ask("審査結果は何日以内に通知されますか", doc_ids=doc, version=1)
    assert "60日以内" in answer.text
    assert answer.citations and all("第1版（アーカイブ）" in c.doc_title for c in answer.citations)
    (v1,) = [v.record for v in runtime.versions("guide.pdf") if v.number == 1]
    as_of = runtime.search("審査結果を通知する期間", k=3, as_of=_moment(v1.ingested_at))
    assert as_of and all(h.chunk.doc_id == v1_id for h in as_of)
    assert runtime.search("審査結果を通知する期間", k=3, as_of=_moment("2001-01-01T00:00:00+00:00")) == []

    out = run(tmp_path, "ask", "審査結果は何日以内に通知されますか", "--doc", "guide.pdf", "--version", "1")
    assert out.returncode == 0, out.stderr
    assert "60日以内" in out.stdout and "第1版（アーカイブ）" in out.stdout
    out = run(tmp_path, "search", "審査結果", "--as-of", "yesterday")
    assert out.returncode == 1 and "--as-of の日付が読めません" in out.stderr and "is not a date" in out.stderr
    out = run(tmp_path, "search", "審査結果", "--version", "1")  # one document in the library: no --doc needed
    assert out.returncode == 0 and "第1版（アーカイブ）" in out.stdout


def _moment(iso: str):
    from datetime import datetime

    return datetime.fromisoformat(iso)


def test_versions_lists_every_version_and_the_store_keeps_only_the_active_one_searched(runtime, tmp_path):
    for n in range(3):
        sections = [(h, [t.replace("60日", f"{60 - 10 * n}日") for t in body]) for h, body in V1]
        _ingest(runtime, "guide.pdf", layout(sections, per_page=5)[0])
    versions = runtime.versions("guide.pdf")
    assert [(v.number, v.active) for v in versions] == [(1, False), (2, False), (3, True)]
    assert [v.label for v in versions] == ["第1版（アーカイブ）", "第2版（アーカイブ）", "第3版"]
    assert set(runtime.store.chunk_doc_ids()) == {versions[-1].record.doc_id}  # the searched collection
    out = run(tmp_path, "versions", "guide.pdf", "--json")
    assert [(v["version"], v["active"]) for v in json.loads(out.stdout)] == [(1, False), (2, False), (3, True)]


def test_an_answer_from_a_revised_passage_says_so_and_one_from_an_unchanged_passage_does_not(runtime, tmp_path):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    unchanged = runtime.ask("実績はいつまでに報告しなければなりませんか")
    assert "6月末日" in unchanged.text and "改訂" not in unchanged.note  # one version: nothing to say
    _ingest(runtime, "guide.pdf", layout(_v2(), per_page=4, lead=1)[0])
    revised = runtime.ask("審査結果は何日以内に通知されますか")
    assert "30日以内" in revised.text
    assert "この記述は第2版で改訂されています" in revised.note and "policyqa diff guide.pdf" in revised.note
    assert "改訂" not in runtime.ask("実績はいつまでに報告しなければなりませんか").note
    old = runtime.ask("審査結果は何日以内に通知されますか", doc_ids=runtime.doc_ids(["guide.pdf"]), version=1)
    assert "改訂" not in old.note  # an answer from the archived version itself
    out = run(tmp_path, "ask", "審査結果は何日以内に通知されますか")
    assert "この記述は第2版で改訂されています" in out.stdout


# --- removing one version or all -----------------------------------------------------------------------
def _three_versions(rt) -> list:
    for n in range(3):
        sections = [(h, [t.replace("60日", f"{60 - 10 * n}日") for t in body]) for h, body in V1]
        _ingest(rt, "guide.pdf", layout(sections, per_page=5)[0])
    return [v.record for v in rt.versions("guide.pdf")]


def test_removing_one_version_keeps_the_others_and_the_active_one_gives_way(runtime):
    v1, v2, v3 = _three_versions(runtime)
    files = runtime.library.files_dir
    runtime.remove("guide.pdf", version=1)
    assert [v.number for v in runtime.versions("guide.pdf")] == [2, 3]
    assert not (files / v1.file_name).exists() and (files / v2.file_name).exists()
    assert v1.doc_id not in _archived_doc_ids(runtime)

    runtime.remove("guide.pdf", version=3)  # the active one: version 2 answers again
    assert [(v.number, v.active) for v in runtime.versions("guide.pdf")] == [(2, True)]
    assert runtime.store.chunk_doc_ids() == {v2.doc_id: v2.chunk_count}
    assert "50日以内" in runtime.ask("審査結果は何日以内に通知されますか").text
    assert not (files / v3.file_name).exists() and _archived_doc_ids(runtime) == set()


def test_removing_a_document_removes_every_version(runtime, tmp_path):
    _three_versions(runtime)
    out = run(tmp_path, "remove", "guide.pdf")
    assert out.returncode == 0 and "every version" in out.stdout
    assert runtime.documents() == [] and runtime.store.chunk_doc_ids() == {}
    assert runtime.library.archive.records() == [] and _archived_doc_ids(runtime) == set()
    assert list(runtime.library.files_dir.iterdir()) == []


def test_an_unknown_version_gets_a_clear_message_and_changes_nothing(runtime, tmp_path):
    _three_versions(runtime)
    for args in (["remove", "guide.pdf", "--version", "7"], ["diff", "guide.pdf", "--from", "7"]):
        out = run(tmp_path, *args)
        assert out.returncode == 1 and "第7版はありません" in out.stderr and "has no version 7" in out.stderr
    assert [v.number for v in runtime.versions("guide.pdf")] == [1, 2, 3]


def test_taking_a_revision_back_is_a_new_version_and_shares_the_stored_file(runtime):
    first, _ = layout(V1, per_page=5)
    _ingest(runtime, "guide.pdf", first)
    _ingest(runtime, "guide.pdf", layout(_v2(), per_page=5)[0])
    assert _ingest(runtime, "guide.pdf", first).status == "replaced"  # the first version's bytes again
    v1, v2, v3 = [v.record for v in runtime.versions("guide.pdf")]
    assert v1.doc_id == v3.doc_id and runtime.diff("guide.pdf", 1, 3).sections == ()
    runtime.remove("guide.pdf", version=1)  # its bytes are still the active version's: file and chunks stay
    assert (runtime.library.files_dir / v3.file_name).exists()
    assert runtime.store.chunk_doc_ids() == {v3.doc_id: v3.chunk_count}
    assert "60日以内" in runtime.ask("審査結果は何日以内に通知されますか").text


def test_version_without_one_document_gets_a_clear_message(runtime, tmp_path):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    _ingest(runtime, "memo.txt", "第1章 連絡\n審査結果の通知は郵送で行います。".encode())
    out = run(tmp_path, "ask", "審査結果は何日以内に通知されますか", "--version", "1")
    assert out.returncode == 1 and "資料を一つ指定してください" in out.stderr and "exactly one document" in out.stderr
    out = run(tmp_path, "search", "審査", "--doc", "guide.pdf", "--version", "1", "--as-of", "2026-01-01")
    assert out.returncode == 1 and "どちらか一方" in out.stderr and "not both" in out.stderr
    out = run(tmp_path, "diff", "memo.txt")
    assert out.returncode == 1 and "比較できる前の版がありません" in out.stderr


def test_a_switch_over_cut_short_leaves_the_old_version_active_and_no_duplicate(runtime):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    (record,) = runtime.documents()
    runtime.library.archive.keep(record)  # copied to the archive, then a crash before the new one is activated
    with runtime.library.writing():
        pass  # the next write collects what the crash left
    assert [(v.number, v.active) for v in runtime.versions("guide.pdf")] == [(1, True)]
    assert _archived_doc_ids(runtime) == set()
    assert runtime.search("審査結果", k=1)[0].chunk.doc_id == record.doc_id


def _archived_doc_ids(rt) -> set[str]:
    got = rt.library.archive.chunks.get(include=["metadatas"])
    return {m["doc_id"] for m in got["metadatas"]}


# --- the library page ----------------------------------------------------------------------------------
def _library_page(tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    for key in ("POLICYQA_READ_ONLY", "POLICYQA_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("views/library.py")
    return _ok(at)


def _ok(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _select(at, label, value):
    next(s for s in at.selectbox if s.label == label).set_value(value)
    return _ok(at)


def _shown(at) -> str:
    return "\n".join(m.value.replace("\\", "") for m in at.markdown)


def test_library_page_shows_the_history_and_what_changed_and_removes_one_version(runtime, tmp_path, monkeypatch):
    old_pdf, _ = layout(V1, per_page=5)
    _ingest(runtime, "guide.pdf", old_pdf)
    _ingest(runtime, "guide.pdf", layout(_v2(), per_page=4, lead=1)[0])
    at = _library_page(tmp_path, monkeypatch)
    history = at.table[0].value
    assert list(history["版"]) == ["第1版（アーカイブ）", "第2版"]
    shown = _shown(at)  # versions 1 → 2 by default
    old_sentence = next(t for t in V1[3][1] if "60日以内" in t)
    assert f"削除] {old_sentence}" in shown and f"追加] {EDITED}" in shown
    assert "追加**　第3章 報告 > (2)監査" in shown and "削除**　第1章 総則 > (2)定義" in shown
    assert "目的" not in shown  # an unchanged section is not listed

    _select(at, "比較先の版", 1)
    assert any("異なる二つの版" in i.value for i in at.info)

    _select(at, "削除する版", 2)
    next(b for b in at.button if b.label == "削除").click()
    _ok(at)
    assert any("第2版を削除します" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "削除する").click()
    _ok(at)
    assert [(v.number, v.active) for v in runtime.versions("guide.pdf")] == [(1, True)]
    assert "60日以内" in runtime.ask("審査結果は何日以内に通知されますか").text


def test_library_page_says_a_relayout_changed_nothing(runtime, tmp_path, monkeypatch):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    _ingest(runtime, "guide.pdf", layout(V1, per_page=3, lead=1)[0])
    at = _library_page(tmp_path, monkeypatch)
    assert any("本文に違いはありません" in s.value for s in at.success)


def test_the_chat_answers_from_a_chosen_earlier_version_and_its_card_says_so(runtime, tmp_path, monkeypatch):
    _ingest(runtime, "guide.pdf", layout(V1, per_page=5)[0])
    _ingest(runtime, "guide.pdf", layout(_v2(), per_page=4, lead=1)[0])
    at = _library_page(tmp_path, monkeypatch)
    at.switch_page("views/chat.py")
    _ok(at)
    at.sidebar.multiselect[0].set_value(runtime.doc_ids(["guide.pdf"]))
    _ok(at)
    _select(at, "版", 1)
    at.chat_input[0].set_value("審査結果は何日以内に通知されますか？")
    _ok(at)
    assert "60日以内" in _shown(at)
    labels = [e.label.replace("\\", "") for e in at.expander if e.label.startswith("\\[1\\]")]
    assert labels and all("第1版（アーカイブ）" in label for label in labels)
    assert all("（guide.pdf）" in label and "現在の資料にはありません" not in label for label in labels)
