"""Matryoshka truncation of EmbeddingGemma (768 → 256 dimensions): quality, store size and search speed.

Usage: .venv/bin/python bench/matryoshka.py [--size 100000]
Quality: the evaluation set (eval/) at both sizes (POLICYQA_EMBED_DIM). Size and speed: a synthetic store of
`--size` chunks built twice from the same vectors (real chunk vectors mixed, as in bench/run.py), full and
truncated; Chroma query p50/p95 over 60 queries and the store's size on disk. Writes
bench/results/matryoshka.md. Figures, not a test.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from policyqa.evaluate import evaluate, load_questions
from policyqa.service import load_embedder
from policyqa.settings import Settings
from policyqa.testing.bench import truncation_speed
from policyqa.testing.corpus import build_eval_store

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "eval"
OUT = ROOT / "bench" / "results"
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"


def quality(dim: int | None) -> dict:
    embedder = load_embedder(Settings.from_env({"POLICYQA_EMBED_DIM": str(dim)} if dim else {}))
    with tempfile.TemporaryDirectory() as tmp:
        service = build_eval_store(Path(tmp), embedder, EVAL / "corpus", SAMPLE)
        report = evaluate(service, load_questions(EVAL / "questions.jsonl"))
    hybrid = report.modes["hybrid"]
    return {"r1": hybrid.recall[1], "r5": hybrid.recall[5], "mrr": hybrid.mrr10, "accuracy": report.answer_accuracy}


def speed(size: int) -> dict:
    embedder = load_embedder(Settings.from_env())
    questions = [q.question for q in load_questions(EVAL / "questions.jsonl")][:60]
    return truncation_speed(embedder, SAMPLE, questions, size, dims=(768, 256))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    args = ap.parse_args()
    full, small = quality(None), quality(256)
    s = speed(args.size)
    lines = [
        "# Matryoshka truncation (768 → 256 dimensions)",
        "",
        "| dimensions | hybrid R@1 | hybrid R@5 | MRR@10 | answer accuracy | "
        f"insert {args.size:,} s | query p50 ms | query p95 ms | store MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dim, q in ((768, full), (256, small)):
        lines.append(
            f"| {dim} | {q['r1']:.3f} | {q['r5']:.3f} | {q['mrr']:.3f} | {q['accuracy']:.3f} | "
            f"{s[dim]['insert_s']:.0f} | {s[dim]['p50_ms']:.1f} | {s[dim]['p95_ms']:.1f} | {s[dim]['disk_mb']} |"
        )
    (OUT / "matryoshka.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
