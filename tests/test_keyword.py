"""The incremental keyword index: BM25 scores equal to bm25s's, the same index however it was reached (built at
once, or through additions and removals), a segment cache that is used and distrusted when it must be, and the
unfiltered dense query that keeps inactive versions out."""

from __future__ import annotations

import random

import numpy as np
import pytest

from index.keyword import MAX_RECENT, KeywordIndex, SegmentCache, tokenize
from index.query import glossary_groups
from index.store import Store, open_client
from ingest.chunk import Chunk

WORDS = [
    "カーボン・オフセット",
    "J-VER",
    "京都議定書",
    "排出量取引",
    "東京都",
    "審査",
    "森林吸収",
    "認証",
    "申請書",
    "クレジット",
    "2008年度",
    "削減目標",
    "第三者",
    "報告書",
    "environment",
]


def make_docs(n_docs: int, per_doc: int, seed: int = 0) -> dict[str, list[Chunk]]:
    rng = random.Random(seed)
    docs = {}
    for d in range(n_docs):
        doc_id = f"{d:02d}" + "a" * 62
        docs[doc_id] = [
            Chunk(
                f"{doc_id[:16]}-{i:05d}",
                doc_id,
                i + 1,
                str(i + 1),
                rng.choice(["第1章 概要", "第2章 手続", ""]),
                "。".join("".join(rng.sample(WORDS, 3)) for _ in range(rng.randint(1, 4))) + "。",
                0,
                10,
            )
            for i in range(per_doc)
        ]
    return docs


def build(docs, active, index=None, cache=None):
    return (index or KeywordIndex()).updated(
        {d: len(docs[d]) for d in active}, cache or SegmentCache(None), lambda d: docs[d]
    )


def reference(docs, active):
    """bm25s over the same tokens: the implementation this index replaced."""
    import bm25s

    chunks = [c for d in sorted(active) for c in docs[d]]
    bm = bm25s.BM25()
    bm.index([tokenize(f"{c.heading}\n{c.text}") or ["\u0000"] for c in chunks], show_progress=False)
    return bm, [c.id for c in chunks]


QUERIES = ["京都議定書の削減目標", "J-VERの審査と認証", "東京都 クレジット 申請書", "environment report", "森林"]


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_bm25s(query):
    docs = make_docs(4, 30)
    index = build(docs, docs)
    bm, ids = reference(docs, docs)
    tokens = [t for t in tokenize(query) if t in bm.vocab_dict]
    want = dict(zip(ids, bm.get_scores(tokens).tolist(), strict=True))
    got = index.search(query, k=len(ids))
    assert got, "every query shares terms with the corpus"
    for cid, score in got:
        assert score == pytest.approx(want[cid], rel=1e-5)
    assert {cid for cid, _ in got} == {cid for cid, s in want.items() if s > 0}
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


def test_updates_give_the_index_built_at_once():
    docs = make_docs(MAX_RECENT + 6, 12, seed=1)
    order = list(docs)
    index = KeywordIndex()
    active: list[str] = []
    for step, doc_id in enumerate(order):  # add one by one (merges happen on the way), remove some
        active.append(doc_id)
        if step % 4 == 3:
            active.remove(active[0])
        index = build(docs, active, index)
        assert len(index) == sum(len(docs[d]) for d in active)
    assert len(index.parts) <= MAX_RECENT + 1
    fresh = build(docs, active)
    for query in QUERIES:
        got, want = index.search(query, 20), fresh.search(query, 20)
        assert got and [c for c, _ in got] == [c for c, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want])
    removed = set(docs) - set(active)
    assert not {cid for q in QUERIES for cid, _ in index.search(q, 500) if cid[:16] in {r[:16] for r in removed}}


def test_document_filter_keeps_global_statistics():
    docs = make_docs(3, 20, seed=2)
    index = build(docs, docs)
    one = next(iter(docs))
    everything = dict(index.search("京都議定書の審査", 100))
    only = index.search("京都議定書の審査", 100, doc_ids={one})
    assert only and all(cid.startswith(one[:16]) for cid, _ in only)
    for cid, score in only:
        assert score == pytest.approx(everything[cid])


def test_segment_cache_is_used_and_distrusted(tmp_path):
    docs = make_docs(3, 10, seed=3)
    cache = SegmentCache(tmp_path / "kw")
    first = build(docs, docs, cache=cache)
    assert len(list((tmp_path / "kw").glob("*.npz"))) == 3

    def no_chroma(doc_id):
        raise AssertionError(f"{doc_id} should have come from the cache")

    again = KeywordIndex().updated({d: len(c) for d, c in docs.items()}, cache, no_chroma)
    assert again.search("京都議定書", 10) == first.search("京都議定書", 10)

    # A file with the wrong chunk count (a store rebuilt with other chunk settings) or unreadable bytes is
    # rebuilt from the chunks, and the rebuilt segment replaces it.
    a, b = list(docs)[:2]
    (tmp_path / "kw" / f"{b}-t1.npz").write_bytes(b"not a numpy file")
    loaded = []

    def from_store(doc_id):
        loaded.append(doc_id)
        return docs[doc_id]

    active = {d: len(c) for d, c in docs.items()} | {a: len(docs[a]) + 1}
    KeywordIndex().updated(active, cache, from_store)
    assert sorted(loaded) == sorted([a, b])
    # Removing a document forgets its file.
    index = KeywordIndex().updated({d: len(c) for d, c in docs.items()}, cache, from_store)
    index.updated({b: len(docs[b])}, cache, from_store)
    assert sorted(p.name[:2] for p in (tmp_path / "kw").glob("*.npz")) == [b[:2]]


def test_unknown_terms_follow_removals():
    docs = make_docs(2, 5, seed=4)
    extra = "ff" + "f" * 62
    docs[extra] = [Chunk("ff-1", extra, 1, "1", "", "大阪府の制度について。", 0, 5)]
    both = build(docs, docs)
    assert both.unknown_terms("大阪府の審査は？") == []
    without = build(docs, [d for d in docs if d != extra], both)
    assert without.unknown_terms("大阪府の審査は？") == ["大阪府"]
    assert KeywordIndex().unknown_terms("大阪府") == [] and KeywordIndex().search("京都", 5) == []


def test_a_date_with_its_part_of_the_period_is_no_unknown_word():
    docs = make_docs(1, 3, seed=5)
    d = next(iter(docs))
    docs[d].append(Chunk("d-x", d, 1, "1", "", "取組事例は2011年12月末現在で累積1,000件を上回る。", 0, 5))
    index = build(docs, docs)
    assert index.unknown_terms("取組事例は2011年12月末時点で何件ですか") == []  # 末 is part of the date
    assert index.unknown_terms("取組事例は2011年12月末時点で何件か、大阪府では") == ["大阪府"]


def test_unfiltered_dense_query_drops_inactive_versions(tmp_path):
    """The fast path queries Chroma without a filter; chunks of versions not active must still not appear, and
    when they crowd the candidates the exact filtered query answers."""
    store = Store(open_client(tmp_path), "test", 4)
    rng = np.random.default_rng(0)

    def add(doc_id, n, center):
        chunks = [Chunk(f"{doc_id}-{i}", doc_id, 1, "1", "", f"text {i}", 0, 1) for i in range(n)]
        vecs = center + 0.01 * rng.standard_normal((n, 4))
        store.add_chunks(chunks, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))

    add("active", 30, np.array([1.0, 0, 0, 0]))
    add("stale", 30, np.array([0, 1.0, 0, 0]))  # an old version, nearer to the query
    query = np.array([0.1, 1.0, 0, 0])
    hits = store.query(query, 5, ["active"], every_active=True)
    assert len(hits) == 5 and {c.doc_id for c, _ in hits} == {"active"}
    assert [c.id for c, _ in hits] == [c.id for c, _ in store.query(query, 5, ["active"])]


def test_an_english_word_is_unknown_only_when_none_of_its_renderings_is_there():
    docs = make_docs(2, 5, seed=5)
    extra = "ee" + "e" * 62
    docs[extra] = [Chunk("ee-1", extra, 1, "1", "", "東京都は2010年度から排出量取引制度を開始しました。", 0, 5)]
    index = build(docs, docs)
    question = "When did Tokyo's cap-and-trade program start?"
    # キャップ&トレード is not in the documents, its other rendering 排出量取引 is
    assert ["キャップ&トレード", "排出量取引"] in glossary_groups(question)
    assert index.unknown_terms("キャップ&トレード") == ["キャップ", "トレード"]
    assert index.unknown_terms_translated(question, glossary_groups(question)) == []
    # a word none of whose renderings is there is still unknown, and so is a Japanese word of the question
    groups = glossary_groups("Who is the mayor of 大阪府?")
    assert ["区長", "市長", "町長", "村長"] in groups
    assert index.unknown_terms_translated("Who is the mayor of 大阪府?", groups) == ["大阪府", "区長"]
