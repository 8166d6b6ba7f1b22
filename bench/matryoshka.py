"""Matryoshka truncation of EmbeddingGemma (768 → 256 dimensions): quality, store size and search speed.

Usage: .venv/bin/python bench/matryoshka.py [--size 100000]
Quality: the evaluation set (eval/) at both sizes (POLICYQA_EMBED_DIM). Size and speed: a synthetic store of
`--size` chunks built twice from the same vectors (real chunk vectors mixed, as in bench/run.py), full and
truncated; Chroma query p50/p95 over 60 queries and the store's size on disk. Writes
bench/results/matryoshka.md. Figures, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import run as bench  # noqa: E402  (bench/run.py)
from policyqa.runtime import load_embedder  # noqa: E402

from index.store import Store, open_client  # noqa: E402
from ingest.document import parse_document  # noqa: E402
from policyqa.evaluate import evaluate, load_questions  # noqa: E402
from policyqa.settings import Settings  # noqa: E402

EVAL = ROOT / "eval"


def quality(dim: int | None) -> dict:
    spec = importlib.util.spec_from_file_location("eval_run", EVAL / "run.py")
    evalrun = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evalrun)
    embedder = load_embedder(Settings.from_env({"POLICYQA_EMBED_DIM": str(dim)} if dim else {}))
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluate(evalrun.build_store(Path(tmp), embedder), load_questions(EVAL / "questions.jsonl"))
    hybrid = report.modes["hybrid"]
    return {"r1": hybrid.recall[1], "r5": hybrid.recall[5], "mrr": hybrid.mrr10, "accuracy": report.answer_accuracy}


def speed(size: int) -> dict:
    embedder = load_embedder(Settings.from_env())
    doc = parse_document(bench.SAMPLE.read_bytes(), bench.SAMPLE.name)
    base = embedder.embed_documents([c.text for c in doc.chunks], title=doc.title)
    sentences = [s for c in doc.chunks for s in c.text.split("。") if len(s) > 10]
    rng = np.random.default_rng(0)
    parts = [
        bench.synthetic_chunks(doc.chunks, sentences, rng, base, i, min(2000, size - i)) for i in range(0, size, 2000)
    ]
    queries = embedder.embed_queries([q.question for q in load_questions(EVAL / "questions.jsonl")][:60])
    out = {}
    for dim in (768, 256):
        path = Path(tempfile.mkdtemp())
        store = Store(open_client(path), f"bench@{dim}", dim)
        t = time.perf_counter()
        for chunks, vecs in parts:
            v = vecs[:, :dim] / np.linalg.norm(vecs[:, :dim], axis=1, keepdims=True)
            store.add_chunks(chunks, v)
        insert = time.perf_counter() - t
        q = queries[:, :dim] / np.linalg.norm(queries[:, :dim], axis=1, keepdims=True)
        store._query(q[0], 100, None)
        times = []
        for x in q:
            t = time.perf_counter()
            store._query(x, 100, None)
            times.append((time.perf_counter() - t) * 1000)
        mb = int(subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True).stdout.split()[0])
        out[dim] = {"insert_s": insert, "p50_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95))}
        out[dim]["disk_mb"] = mb
        shutil.rmtree(path, ignore_errors=True)
    return out


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
    (bench.OUT / "matryoshka.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
