import re

from basics.jatext import sentence_spans
from ingest.chunk import chunk_pages
from ingest.headings import heading_level
from ingest.load import Page


def test_heading_levels():
    assert heading_level("添付資料4:国内におけるカーボン・オフセットの取り組みの進展") == 1
    assert heading_level("第2章 申請の手続") == 1
    assert heading_level("(3)2011(平成23)年度") == 3
    assert heading_level("●識者委員") == 4
    assert heading_level("(1)目的は次のとおりです。") is None
    assert heading_level("・箇条書き") is None
    # a numbered step written as a sentence, cut by the page's width, is body text (and joins its next line)
    assert heading_level("2.町は、申込みを受け付けた日から14日以内に、販売量及び金額を記載した販売") is None
    assert heading_level("●補助の区分、補助率及び上限額") == 4


def test_sentences_never_split_inside_quotes():
    text = "彼は「これで終わり。次へ。」と述べた。次の文です。"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["彼は「これで終わり。次へ。」と述べた。", "次の文です。"]


def _pages(texts):
    return [Page("d" * 64, i + 1, str(i + 1), t) for i, t in enumerate(texts)]


def test_chunks_carry_heading_path_across_pages_and_are_exact_slices():
    pages = _pages(
        ["添付資料1:概要\n(1)目的\nこの文書の目的を述べます。", "引き続き目的の説明です。\n(2)範囲\n範囲の説明です。"]
    )
    chunks = chunk_pages(pages)
    assert [(c.page, c.heading) for c in chunks] == [
        (1, "添付資料1:概要 > (1)目的"),
        (2, "添付資料1:概要 > (1)目的"),
        (2, "添付資料1:概要 > (2)範囲"),
    ]
    for c in chunks:
        assert pages[c.page - 1].text[c.start : c.end] == c.text


def test_chunk_size_and_overlap():
    sentence = "カーボン・オフセットの取組を区市町村が連携して進めることが重要です。"  # 34 chars
    page = _pages(["\n".join([sentence] * 40)])
    chunks = chunk_pages(page, max_chars=200, overlap_ratio=0.2)
    assert len(chunks) > 5
    assert all(len(c.text) <= 200 for c in chunks)
    # consecutive chunks share the last sentence(s) of the previous one
    assert all(a.end > b.start for a, b in zip(chunks, chunks[1:], strict=False))
    assert chunks[-1].end == len(page[0].text)


def test_overlong_sentence_is_cut_at_a_comma():
    long = "、".join(["温室効果ガスの排出削減に向けた取組"] * 30) + "。"
    chunks = chunk_pages(_pages([long]), max_chars=100)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(re.search(r"[、。]$", c.text) for c in chunks[:-1])
