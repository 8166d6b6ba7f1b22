"""Keyword tokenisation, hybrid fusion and document filters over a real Chroma store."""

import pytest

from basics.jatext import tokenize
from policyqa.testing.pdfgen import sample_guideline


def test_tokenize_folds_spelling_variants():
    assert tokenize("カーボン・オフセット") == tokenize("カーボンオフセット")
    assert tokenize("ＪＶＥＲ") == tokenize("J-VER") == ["jver"]
    assert tokenize("東京都") == ["東京", "京都"]


def _ingest(rt, name, data):
    with rt.library.writing():
        return rt.library.ingest_bytes(name, data)


def test_hybrid_fuses_both_modes_and_filters_by_document(runtime):
    guide = _ingest(runtime, "guide.pdf", sample_guideline())
    memo = _ingest(runtime, "memo.txt", "第1章 連絡\n審査結果の通知は郵送で行います。".encode())
    hits = runtime.searcher.search("審査結果の通知", k=5)
    assert {h.chunk.doc_id for h in hits} == {guide.doc_id, memo.doc_id}
    top = hits[0]
    assert set(top.ranks) == {"dense", "keyword"} and top.similarity is not None
    assert top.score == max(h.score for h in hits) and 0 < top.score <= 1
    only_memo = runtime.searcher.search("審査結果の通知", k=5, doc_ids=[memo.doc_id])
    assert only_memo and {h.chunk.doc_id for h in only_memo} == {memo.doc_id}
    kw = runtime.searcher.search("カーボンオフセット 手続", k=5, mode="keyword")
    assert kw and "カーボン・オフセットの手続" in kw[0].chunk.text


def test_fusion_is_a_convex_combination_of_scaled_scores():
    from index.search import DENSE_WEIGHT, fuse

    scores = fuse({"a": 0.8, "b": 0.5, "c": 0.2}, {"a": 12.0, "d": 6.0})
    assert scores["a"] == pytest.approx(1.0)  # best in both
    assert scores["b"] == pytest.approx(DENSE_WEIGHT * 0.5)  # dense only, halfway between its min and max
    assert scores["c"] == 0.0
    assert scores["d"] == pytest.approx((1 - DENSE_WEIGHT) * 0.5)  # keyword only, half the best BM25
    assert fuse({}, {}) == {}


def test_empty_store_and_empty_query_give_no_hits(runtime):
    assert runtime.searcher.search("審査", k=5) == []
    _ingest(runtime, "guide.pdf", sample_guideline())
    assert runtime.searcher.search("   ", k=5) == []


def test_keyword_segments_are_cached_per_document_version(runtime, tmp_path):
    """Ingest writes the document's keyword segment; another process's searcher loads it instead of
    tokenising; replacing it keeps the file of the old (archived) version, removing it removes both."""
    from index.search import Searcher
    from index.store import Store, open_client

    first = _ingest(runtime, "memo.txt", "第1章 連絡\n審査結果の通知は郵送で行います。".encode())
    folder = tmp_path / "data" / "keyword"
    assert [p.name.split("-")[0] for p in folder.glob("*.npz")] == [first.doc_id]
    store = Store(open_client(tmp_path / "data"), runtime.embedder.model_id, runtime.embedder.dim)
    store.document_chunks = None  # a load from Chroma would now fail: the file must be used
    other = Searcher(store, runtime.embedder, keyword_dir=folder)
    assert other.search("審査結果の通知", k=1, mode="keyword")[0].chunk.doc_id == first.doc_id
    second = _ingest(runtime, "memo.txt", "第1章 連絡\n審査結果の通知は電子メールで行います。".encode())
    # the first version is archived, searchable on request: its segment stays (a searcher may drop it, as a
    # cache: it is rebuilt from the archive when that version is asked for)
    assert sorted(p.name.split("-")[0] for p in folder.glob("*.npz")) == sorted([first.doc_id, second.doc_id])
    with runtime.library.writing():
        runtime.library.remove("memo.txt")
    assert list(folder.glob("*.npz")) == []
