"""The extractive answerer on fixed hits, follow-up handling, and the ask pipeline over a real store."""

import pytest
from helpers import HITS, _hit

from answer.conversation import is_follow_up, key_terms, search_text
from answer.extractive import compose
from answer.types import NOT_FOUND
from basics.errors import PolicyQAError
from index.search import Hit
from policyqa.testing.pdfgen import sample_guideline


def test_citation_numbers_map_to_the_right_chunks_and_quotes_are_exact():
    answer = compose("審査結果は何日以内に通知されますか？", HITS)
    assert not answer.abstained
    first = answer.text.splitlines()[0]
    assert first == "審査委員会は、受付から60日以内に審査結果を通知します。 [1]"
    by_n = {c.n: c for c in answer.citations}
    assert by_n[1].chunk_id == "c1" and by_n[1].page_label == "4"
    for c in answer.citations:
        for start, end in c.spans:
            assert c.passage[start:end] in c.quote
        assert f"[{c.n}]" in answer.text
    assert "申請は郵送で受け付けます" not in answer.text  # short: the sentence that answers, not the passage


def test_duplicate_sentences_are_merged():
    dup = [HITS[0], _hit("c3", HITS[0].chunk.text, 0.61)]
    answer = compose("審査結果は何日以内に通知されますか？", dup)
    assert answer.text.count("60日以内") == 1


def test_abstains_below_the_threshold_and_answers_above():
    weak = [Hit(h.chunk, h.title, h.score, h.ranks, 0.30) for h in HITS]
    abstained = compose("審査結果は何日以内に通知されますか？", weak, min_similarity=0.6)  # far below
    assert abstained.abstained and abstained.text == NOT_FOUND and not abstained.citations
    assert [h.chunk.id for h in abstained.related] == ["c1", "c2"]
    # just below the threshold: answered only when most of the question's words are in a passage
    assert not compose("審査結果は何日以内に通知されますか？", weak, min_similarity=0.38).abstained
    assert compose("補助金の交付決定は何日以内に届きますか？", weak, min_similarity=0.38).abstained
    answered = compose("審査結果は何日以内に通知されますか？", weak, min_similarity=0.25)
    assert not answered.abstained and answered.citations


def test_follow_up_questions_borrow_the_previous_subject():
    assert key_terms("オフセット・クレジット(J-VER)制度とは何ですか？") == "オフセット・クレジット(J-VER)制度"
    assert is_follow_up("それはいつ始まりましたか？")
    assert not is_follow_up("京都議定書目標達成計画が改定されたのはいつですか？")
    assert search_text("それはいつ始まりましたか？", ["オフセット・クレジット(J-VER)制度とは何ですか？"]) == (
        "オフセット・クレジット(J-VER)制度 それはいつ始まりましたか？"
    )
    assert search_text("それはいつ始まりましたか？", []) == "それはいつ始まりましたか？"


def test_ask_over_a_store_with_history_empty_and_symbol_questions(runtime):
    with runtime.library.writing():
        runtime.library.ingest_bytes("guide.pdf", sample_guideline())
    first = runtime.ask("審査結果は何日以内に通知されますか？")
    assert any("60日以内" in c.quote for c in first.citations)
    follow = runtime.ask("その申請期限は？", history=["森林吸収の申請について"])
    assert follow.searched.startswith("森林吸収の申請")
    with pytest.raises(PolicyQAError) as info:
        runtime.ask("   ")
    assert info.value.ja == "質問を入力してください"
    assert runtime.ask("！？＃＄％＆").abstained
    long = runtime.ask("審査結果の通知" * 2000)
    assert long.searched == ("審査結果の通知" * 2000)[:1000]
