"""Regenerate the quality figures: build a store from the evaluation corpus (rendered to PDF now) plus
the bundled sample report, evaluate eval/questions.jsonl and the shared dev set, and write
eval/results.md, eval/recall.png and the README's quality section.

Usage: make eval   (or .venv/bin/python eval/run.py [--quick])
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from policyqa.evaluate import evaluate, format_report, load_questions, plot
from policyqa.service import Service, Upload, load_embedder
from policyqa.settings import Settings
from policyqa.testing.corpus import ingest_all, text_corpus_uploads

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "eval" / "corpus"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"


def build_store(data_dir: Path, embedder) -> Service:
    service = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(data_dir)}), embedder)
    ingest_all(service, [*text_corpus_uploads(CORPUS), Upload(SAMPLE.name, path=SAMPLE)])
    return service


def main() -> None:
    settings = Settings.from_env()
    embedder = load_embedder(settings)
    dev_path = settings.dev_qa_path
    with tempfile.TemporaryDirectory() as tmp:
        service = build_store(Path(tmp), embedder)
        report = evaluate(service, load_questions(QUESTIONS))
        dev = evaluate(service, load_questions(dev_path), modes=("hybrid",)) if dev_path.exists() else None
    text = format_report(report)
    print(text)
    out = ["## Project evaluation set (eval/questions.jsonl)", "", text]
    if dev:
        print(format_report(dev))
        out += ["", "## Shared dev set (shared/eval/dev_qa.jsonl), same store", "", format_report(dev)]
    (ROOT / "eval" / "results.md").write_text("\n".join(out) + "\n", encoding="utf-8")
    plot(report, ROOT / "eval" / "recall.png")
    update_readme(report, dev)


def update_readme(report, dev) -> None:
    rows = ["| mode | recall@1 | recall@3 | recall@5 | recall@10 | MRR@10 |", "|---|---|---|---|---|---|"]
    for m in report.modes.values():
        r = m.recall
        rows.append(f"| {m.mode} | {r[1]:.3f} | {r[3]:.3f} | {r[5]:.3f} | {r[10]:.3f} | {m.mrr10:.3f} |")
    a = report.abstention
    lines = [
        "<!-- quality:start (written by `make eval`) -->",
        f"Project evaluation set: {report.questions} questions ({report.answerable} answerable) over 8 generated",
        "guideline/minutes/FAQ PDFs plus the sample report (`eval/`), EmbeddingGemma, retrieval top 10:",
        "",
        *rows,
        "",
        f"Answer accuracy (answer contains every answer key and cites an evidence passage): "
        f"**{report.answer_accuracy:.3f}**. Abstention: {a['unanswerable_abstained']}/{a['unanswerable']} "
        f"unanswerable questions abstained, {a['answerable_abstained']} answerable question(s) abstained "
        f"(precision {a['precision']:.2f}, recall {a['recall']:.2f}).",
    ]
    if dev:
        d = dev.modes["hybrid"]
        lines += [
            "",
            f"Shared dev set (`shared/eval/dev_qa.jsonl`, {dev.answerable} answerable): hybrid recall@5 "
            f"{d.recall[5]:.3f}, MRR@10 {d.mrr10:.3f}, answer accuracy {dev.answer_accuracy:.3f}, "
            f"{dev.abstention['unanswerable_abstained']}/{dev.abstention['unanswerable']} unanswerable abstained.",
        ]
    lines += ["", "![recall@k per mode](eval/recall.png)", "<!-- quality:end -->"]
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = "\n".join(lines)
    text = re.sub(r"<!-- quality:start.*?<!-- quality:end -->", block, text, flags=re.S)
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
