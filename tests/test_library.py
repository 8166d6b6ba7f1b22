"""Ingest, versions and removal against a real Chroma store (deterministic embedder)."""

import pytest

from basics.errors import BusyError
from index.embedder import HashEmbedder
from index.library import Library, safe_source_name
from policyqa.testing.pdfgen import PageSpec, make_pdf, sample_guideline


def _ingest(rt, name, data):
    with rt.library.writing():
        return rt.library.ingest_bytes(name, data)


def _chunk_counts(rt):
    return rt.store.chunk_doc_ids()


def test_ingest_is_searchable_and_same_bytes_add_nothing(runtime):
    first = _ingest(runtime, "guide.pdf", sample_guideline())
    assert (first.status, first.pages, first.chunks) == ("added", 5, 5)
    hits = runtime.searcher.search("審査結果の通知は何日以内", k=3)
    assert "60日以内" in hits[0].chunk.text
    assert hits[0].title == "区市町村カーボン・オフセット手続指針"
    before = _chunk_counts(runtime)
    again = _ingest(runtime, "renamed-copy.pdf", sample_guideline())
    assert again.status == "unchanged"
    assert _chunk_counts(runtime) == before
    assert len(runtime.store.documents()) == 1


def test_new_version_replaces_the_old_one_which_is_archived(runtime):
    _ingest(runtime, "guide.pdf", sample_guideline())
    revised = make_pdf(
        [PageSpec(lines=["第1章 改訂", "審査委員会は、受付から30日以内に審査結果を通知します。"])], header=""
    )
    result = _ingest(runtime, "guide.pdf", revised)
    assert result.status == "replaced"
    (record,) = runtime.store.documents()
    assert (record.version, record.doc_id) == (2, result.doc_id)
    assert _chunk_counts(runtime) == {result.doc_id: 1}
    texts = [h.chunk.text for h in runtime.searcher.search("審査結果 通知 日以内", k=5)]
    assert any("30日以内" in t for t in texts) and not any("60日以内" in t for t in texts)
    (old,) = runtime.library.archive.records()  # kept, not searched (tests/test_versions.py)
    assert sorted(p.name for p in (runtime.library.files_dir).iterdir()) == sorted([record.file_name, old.file_name])


class _FailingEmbedder(HashEmbedder):
    """Fault injection: the embedding step dies after `ok_batches` batches, as a crash would."""

    def __init__(self, ok_batches):
        super().__init__()
        self.ok_batches = ok_batches

    def embed_documents(self, texts, title=None):
        if self.ok_batches == 0:
            raise RuntimeError("simulated crash while embedding")
        self.ok_batches -= 1
        return super().embed_documents(texts, title)


def test_failure_part_way_leaves_previous_version_searchable(runtime):
    _ingest(runtime, "guide.pdf", sample_guideline())
    before = _chunk_counts(runtime)
    big = make_pdf([PageSpec(lines=[f"第{i}章 改訂", "改訂版の本文です。" * 20]) for i in range(1, 40)])
    broken = Library(runtime.store, _FailingEmbedder(ok_batches=1), runtime.library.data_dir)
    with broken.writing(), pytest.raises(RuntimeError):
        broken.ingest_bytes("guide.pdf", big)
    assert _chunk_counts(runtime) == before
    (record,) = runtime.store.documents()
    assert record.version == 1
    assert "60日以内" in runtime.searcher.search("審査結果の通知", k=1)[0].chunk.text


def test_orphans_from_a_crash_are_collected_on_next_write(runtime):
    _ingest(runtime, "guide.pdf", sample_guideline())
    doc = runtime.store.documents()[0]
    # a crash after writing chunks but before the switch-over leaves chunks of an inactive version
    from ingest.document import parse_document

    other = parse_document(make_pdf([PageSpec(lines=["第1章 途中", "書きかけの版です。"])]), "guide.pdf")
    runtime.store.add_chunks(other.chunks, HashEmbedder().embed_documents([c.text for c in other.chunks]))
    assert other.doc_id in _chunk_counts(runtime)
    assert all(h.chunk.doc_id == doc.doc_id for h in runtime.searcher.search("書きかけの版", k=5))
    with runtime.library.writing():
        pass
    assert _chunk_counts(runtime) == {doc.doc_id: doc.chunk_count}


def test_remove_leaves_nothing_in_either_index(runtime):
    _ingest(runtime, "guide.pdf", sample_guideline())
    _ingest(runtime, "other.txt", "第1章 森林\n森林整備による吸収量の認証制度について。".encode())
    with runtime.library.writing():
        removed = runtime.library.remove("guide.pdf")
    assert [r.source for r in runtime.store.documents()] == ["other.txt"]
    assert removed.doc_id not in _chunk_counts(runtime)
    assert all(
        h.chunk.doc_id != removed.doc_id for h in runtime.searcher.search("審査結果の通知", k=10, mode="keyword")
    )
    assert all(h.chunk.doc_id != removed.doc_id for h in runtime.searcher.search("審査結果の通知", k=10, mode="dense"))


def test_bad_file_does_not_stop_the_batch(runtime):
    with runtime.library.writing():
        results = [
            runtime.library.ingest_bytes("broken.pdf", b"%PDF-1.7\n garbage"),
            runtime.library.ingest_bytes("guide.pdf", sample_guideline()),
        ]
    assert [r.status for r in results] == ["failed", "added"]
    assert results[0].code in {"truncated", "corrupt"}
    assert [r.source for r in runtime.store.documents()] == ["guide.pdf"]


def test_second_writer_is_refused_with_a_clear_message(runtime):
    other = Library(runtime.store, runtime.embedder, runtime.library.data_dir)
    with runtime.library.writing():
        with pytest.raises(BusyError) as info, other.writing(wait_s=0.3):
            pass
    assert "取り込み" in info.value.ja


def test_unsafe_file_names_become_plain_names():
    assert safe_source_name("../../etc/passwd") == "passwd"
    assert safe_source_name("C:\\docs\\指針.pdf") == "指針.pdf"
    assert safe_source_name("a\x00b\x1f.pdf") == "ab.pdf"
    long = safe_source_name("あ" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")
    assert safe_source_name("..") == "document"


class _CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts, title=None):
        self.embedded += len(texts)
        return super().embed_documents(texts, title)


def test_revised_version_embeds_only_changed_chunks(tmp_path):
    from policyqa.service import Service
    from policyqa.settings import Settings

    embedder = _CountingEmbedder()
    rt = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(tmp_path / "data")}), embedder)

    def pages(changed=()):
        return [
            PageSpec(lines=[f"第{i}章 規定{i}", f"第{i}条の本文{'（改正）' if i in changed else ''}です。" * 5])
            for i in range(1, 101)
        ]

    with rt.library.writing():
        first = rt.library.ingest_bytes("rules.pdf", make_pdf(pages(), title="規程集"))
        assert embedder.embedded == first.chunks == 100
        embedder.embedded = 0
        revised = rt.library.ingest_bytes("rules.pdf", make_pdf(pages(changed=range(1, 101, 10)), title="規程集"))
    assert revised.status == "replaced" and revised.chunks == 100
    assert embedder.embedded == 10 and rt.library.reused == 90
    assert "(改正)" in rt.searcher.search("第31条の本文（改正）", k=1)[0].chunk.text  # NFKC-folded


def _repeated_text(copies: int, extra: tuple[str, ...] = ()) -> bytes:
    """A text file of `copies` identical one-sentence paragraphs (one identical chunk each) and some others."""
    para = "森林整備の協定に基づく吸収量の認証について、" * 15 + "説明します。"
    return "\n\n".join([para] * copies + [f"{e}について、" * 45 + "定めます。" for e in extra]).encode()


def test_repeated_text_is_fetched_and_embedded_once_not_once_per_copy(tmp_path):
    """2,500 identical chunks used to fetch 195,936 rows (every stored copy, batch after batch): a repeated
    text is now embedded once, and looked up at most once per ingest, one row per distinct key."""
    from policyqa.service import Service
    from policyqa.settings import Settings

    embedder = _CountingEmbedder()
    rt = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(tmp_path / "data")}), embedder)
    with rt.library.writing():
        first = rt.library.ingest_bytes("same.txt", _repeated_text(800, ("審査",)))
        assert first.status == "added" and first.chunks == 801
        assert embedder.embedded == 2  # the repeated paragraph and the other one, once each
        assert rt.store.rows_fetched == 0  # nothing to reuse in an empty store; copies come from this ingest
        embedder.embedded = rt.store.rows_fetched = 0
        revised = rt.library.ingest_bytes("same.txt", _repeated_text(800, ("審査", "報告")))
    assert revised.status == "replaced" and revised.chunks == 802
    assert embedder.embedded == 1  # only the new paragraph
    assert rt.store.rows_fetched <= 2  # one row for the repeated text, one for the unchanged paragraph
    assert rt.store.chunk_doc_ids() == {revised.doc_id: 802}
    assert "報告" in rt.searcher.search("報告について", k=1, mode="keyword")[0].chunk.text


def test_vector_lookup_returns_one_row_per_key_even_when_copies_crowd_the_query(runtime):
    from ingest.document import parse_document

    doc = parse_document(_repeated_text(40, ("審査", "報告")), "crowd.txt")
    store = runtime.store
    keys = ["copy"] * 40 + ["audit", "report"]
    store.add_chunks(doc.chunks, HashEmbedder().embed_documents([c.text for c in doc.chunks]), keys)
    found = store.embeddings_by_key(["copy", "audit", "report", "copy", "missing"])
    assert sorted(found) == ["audit", "copy", "report"]
    assert store.rows_fetched <= 2 * 4  # ≤ one row per distinct key, one more per key crowded out
