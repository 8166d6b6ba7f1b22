"""The evaluation harness: metrics on fixed ranks, the CLI, and a quick regression run with the real model."""

import json

import pytest
from helpers import DEV_QA, ROOT, SAMPLE_PDF

from policyqa.evaluate import (
    ModeResult,
    Report,
    contains_evidence,
    evaluate,
    format_report,
    jsquad_corpus,
    load_questions,
    retrieval_scores,
)
from policyqa.testing.corpus import build_eval_store

QUESTIONS = ROOT / "eval" / "questions.jsonl"


def test_retrieval_scores():
    recall, mrr = retrieval_scores([1, 2, None, 7])
    assert recall == {1: 0.25, 3: 0.5, 5: 0.5, 10: 0.75}
    assert mrr == pytest.approx((1 + 0.5 + 1 / 7) / 4)


def test_a_report_shows_its_misses_only_when_asked():
    hybrid = ModeResult("hybrid", {1: 1.0, 3: 1.0, 5: 1.0, 10: 1.0}, 1.0)  # no retrieval miss
    report = Report(
        2,
        2,
        {"hybrid": hybrid},
        0.5,
        {"precision": 1.0, "recall": 1.0, "unanswerable_abstained": 0, "unanswerable": 0, "answerable_abstained": 0},
    )
    report.answer_misses.append({"id": "h9", "question": "秘密の質問", "answer": "…", "why": "answer keys missing"})
    assert "秘密の質問" in format_report(report)
    hidden = format_report(report, misses=False)
    assert "秘密の質問" not in hidden and "answer accuracy: 0.500" in hidden


def test_table_evidence_is_found_in_the_record_of_its_row():
    record = "(2)2010(平成22)年度[会議名称/日程/主な内容]第3回 自治体委員会\t2010 (平成22)年7月14日\t・報告について"
    printed = "第３回 自治体委員会 ７月 14 日"  # copied across the printed row's cells
    assert contains_evidence(record, [printed])
    assert contains_evidence("前の行\n" + record, [printed])
    # the pieces must stay on one line, in order and near each other
    assert not contains_evidence("第3回 自治体委員会\n2010年7月14日", [printed])
    assert not contains_evidence("7月14日 第3回 自治体委員会", [printed])
    far = "第3回 自治体委員会" + "、報告" * 20 + "7月14日"
    assert not contains_evidence(far, [printed])
    assert contains_evidence("増田章司 国分寺市", ["増田 章司  国分寺市"])  # a plain span, whitespace aside
    assert contains_evidence("[部門/削減率]家庭部門\t56%", ["家庭部門 ｜ ５６％"])  # a text table's bars


def test_jsquad_evidence_is_the_text_around_the_answer_within_its_sentence(tmp_path):
    body = "北海道には梅雨がないとされている。1925年に建築士法案が議会に提出されたが、成立を見なかった。"
    qas = [
        {"id": "q1", "question": "建築士法案の提出は何年か", "answers": [{"text": "1925年", "answer_start": 0}]},
        {"id": "q2", "question": "提出先は", "answers": [{"text": "議会", "answer_start": 0}]},
    ]
    for qa in qas:
        qa["answers"][0]["answer_start"] = len("梅雨 [SEP] ") + body.index(qa["answers"][0]["text"])
    data = {"data": [{"title": "梅雨", "paragraphs": [{"context": "梅雨 [SEP] " + body, "qas": qas}]}]}
    path = tmp_path / "jsquad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    documents, questions = jsquad_corpus(path)
    assert documents == [("jsquad-01.md", f"# 梅雨\n\n{body}\n")]
    # not 「されている。」 from the sentence before: a chunk cut there still holds the answer in its sentence
    assert questions[0].evidence == "1925年に建築士法案が議会に提出"
    assert questions[1].evidence == "1925年に建築士法案が議会に提出されたが、成立を見"  # 12 either side


def test_eval_cli_reports_modes_and_misses(tmp_path):
    from helpers import run

    from policyqa.testing.pdfgen import sample_guideline

    (tmp_path / "g.pdf").write_bytes(sample_guideline())
    run(tmp_path, "ingest", str(tmp_path / "g.pdf"))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {
                    "id": "a",
                    "question": "審査結果は何日以内に通知されますか？",
                    "evidence": ["60日以内"],
                    "answer_keys": ["60日"],
                },
                {
                    "id": "b",
                    "question": "申請期限はいつですか？",
                    "evidence": ["毎年10月31日"],
                    "answer_keys": ["10月31日"],
                },
                {"id": "u", "question": "区役所の駐車場は何台ありますか？", "evidence": [], "answerable": False},
            ]
        ),
        encoding="utf-8",
    )
    out = run(tmp_path, "eval", str(qa), "--json", "--plot", str(tmp_path / "r.png"))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report["modes"]) == {"dense", "keyword", "hybrid", "baseline"}
    assert report["modes"]["hybrid"]["recall"]["5"] == 1.0
    assert report["abstention"]["unanswerable_abstained"] == 1
    assert (tmp_path / "r.png").stat().st_size > 5000


@pytest.mark.slow
def test_quality_does_not_regress(real_embedder, tmp_path):
    """Quick version of `make eval` (no baseline): thresholds of issue 4 guard against regressions."""
    rt = build_eval_store(tmp_path / "data", real_embedder, ROOT / "eval" / "corpus", SAMPLE_PDF)  # as make eval
    report = evaluate(rt, load_questions(QUESTIONS), modes=("dense", "keyword", "hybrid"))
    hybrid = report.modes["hybrid"]
    assert hybrid.recall[5] >= 0.95 and hybrid.mrr10 >= 0.85, hybrid
    for single in ("dense", "keyword"):
        assert hybrid.recall[5] >= report.modes[single].recall[5]
        assert hybrid.mrr10 > report.modes[single].mrr10
    assert report.answer_accuracy >= 0.85, report.answer_misses
    assert report.abstention["unanswerable_abstained"] >= 7 and report.abstention["answerable_abstained"] <= 1
    if DEV_QA.exists():
        dev = evaluate(rt, load_questions(DEV_QA), modes=("hybrid",))
        assert dev.modes["hybrid"].recall[5] == 1.0
        assert dev.answer_accuracy >= 12 / 14 and dev.abstention["unanswerable_abstained"] == 1
