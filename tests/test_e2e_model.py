"""End to end with the real default model: the bundled sample report, searched in Japanese and English."""

import json

import pytest
from conftest import DEV_QA

from answer.evidence import contains_evidence, first_hit_rank

pytestmark = pytest.mark.slow


def _dev_questions():
    rows = [json.loads(line) for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("answerable", True)]


def test_expected_passage_ranks_first(sample_runtime):
    hits = sample_runtime.searcher.search("京都議定書目標達成計画が改定・閣議決定されたのはいつですか？", k=5)
    assert contains_evidence(hits[0].chunk.text, ["2008(平成20)年3月には、京都議定書目標達成計画(改定)"])
    assert hits[0].chunk.page_label == "9"
    assert hits[0].chunk.heading.endswith("(3)日本の動き")


def test_english_question_finds_the_japanese_passage(sample_runtime):
    hits = sample_runtime.searcher.search("What was the average global surface temperature rise over 100 years?", k=3)
    assert contains_evidence(hits[0].chunk.text, ["100 年間に 0.74℃上昇"])


@pytest.mark.skipif(not DEV_QA.exists(), reason="shared/eval/dev_qa.jsonl not present beside the checkout")
def test_dev_set_answerable_questions_all_in_top_5(sample_runtime):
    ranks = {}
    for row in _dev_questions():
        hits = sample_runtime.searcher.search(row["question"], k=5)
        ranks[row["id"]] = first_hit_rank([h.chunk.text for h in hits], row["evidence"])
    missed = {q: r for q, r in ranks.items() if r is None}
    assert len(ranks) == 14 and not missed, missed
