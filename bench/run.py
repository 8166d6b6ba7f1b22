"""Benchmarks (not timed tests): ingest stages, search/ask latency by store size, cold start, and the tutorial
baseline side by side. Writes bench/results/results.md and PNG plots. Medians of repeated runs; compare
ratios within one run (these machines are shared and noisy).

Usage: make bench   or   .venv/bin/python bench/run.py [--pages 1000] [--sizes 1000,10000,100000] [--repeat 3]
       .venv/bin/python bench/run.py --report-only   (results.md and the plot again from results.json)
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench" / "results"
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"

from policyqa.runtime import load_embedder, open_runtime  # noqa: E402

from answer.pipeline import ask  # noqa: E402
from index.keyword import SegmentCache  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.store import DocumentRecord, Store, open_client  # noqa: E402
from ingest.chunk import Chunk  # noqa: E402
from ingest.document import parse_document  # noqa: E402
from ingest.load import read_file  # noqa: E402
from policyqa.evaluate import load_questions  # noqa: E402
from policyqa.settings import Settings  # noqa: E402
from policyqa.testing.pdfgen import PageSpec, long_pdf, make_pdf  # noqa: E402


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t, result


def pct(values, q):
    return float(np.percentile(values, q)) * 1000


def ingest_stages(name: str, data: bytes, embedder, store: Store) -> dict:
    parse_document(data, name)  # warm up imports and caches: the stages below are then comparable
    t_extract, raw = timed(read_file, data, name)
    t_all, doc = timed(parse_document, data, name)
    texts = [f"{c.heading}\n{c.text}" if c.heading else c.text for c in doc.chunks]
    t_embed, vecs = timed(embedder.embed_documents, texts, title=doc.title)
    t_store, _ = timed(store.add_chunks, doc.chunks, vecs)
    total = t_all + t_embed + t_store
    return {
        "doc": name,
        "pages": doc.page_count,
        "chunks": len(doc.chunks),
        "extract_s": t_extract,
        "clean_chunk_s": t_all - t_extract,
        "embed_s": t_embed,
        "store_s": t_store,
        "total_s": total,
        "pages_per_s": doc.page_count / total,
        "chunks_per_s": len(doc.chunks) / total,
    }


def reingest_cost(embedder) -> dict:
    """A 100-page document ingested, then a revision with 10 changed pages (only their chunks re-embedded)."""

    def pages(changed=()):
        return [
            PageSpec(lines=[f"第{i}章 規定{i}", f"第{i}条の本文{'（改正）' if i in changed else ''}です。" * 5])
            for i in range(1, 101)
        ]

    firsts, revised = [], []
    for _ in range(3):
        rt = open_runtime(Settings.from_env({"POLICYQA_DATA_DIR": tempfile.mkdtemp()}), embedder)
        with rt.library.writing():
            firsts.append(timed(rt.library.ingest_bytes, "rules.pdf", make_pdf(pages(), title="規程集"))[0])
            data = make_pdf(pages(changed=range(1, 101, 10)), title="規程集")
            revised.append(timed(rt.library.ingest_bytes, "rules.pdf", data)[0])
    first, again = statistics.median(firsts), statistics.median(revised)
    return {"first_s": first, "revised_s": again, "ratio": again / first, "reused": rt.library.reused}


def baseline_ingest(data: bytes, name: str, fp32_model) -> dict:
    """The tutorial pipeline: raw text, 1,000-character windows with 200 overlap, one fp32 encode call."""
    t0 = time.perf_counter()
    text = "\n".join(read_file(data, name).texts)
    windows = [text[i : i + 1000] for i in range(0, max(1, len(text) - 200), 800)]
    fp32_model.encode(windows, normalize_embeddings=True)
    return {"windows": len(windows), "total_s": time.perf_counter() - t0}


DOC_CHUNKS = 500  # chunks per synthetic document: 100k chunks = 200 documents, like a large guideline library


def synthetic_chunks(base, sentences, rng, base_vecs, first: int, n: int):
    """Chunks numbered first..first+n: texts recombined from real sentences, vectors mixed from real chunk
    vectors (two real vectors plus a little noise, normalised) so their geometry resembles real documents."""
    i, j = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
    vecs = base_vecs[i] + 0.6 * base_vecs[j] + 0.05 * rng.standard_normal((n, base_vecs.shape[1]))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    chunks = [
        Chunk(
            f"syn{first + k:07d}",
            f"{(first + k) // DOC_CHUNKS:064d}",
            1,
            "1",
            "合成",
            "。".join(random.Random(first + k).sample(sentences, 3)) + "。",
            0,
            10,
        )
        for k in range(n)
    ]
    return chunks, vecs


def activate_all(store: Store, first: int, size: int) -> None:
    for d in range(first // DOC_CHUNKS, (first + size) // DOC_CHUNKS):
        doc_id = f"{d:064d}"
        store.activate(DocumentRecord(doc_id, doc_id, f"合成資料{d}", 1, DOC_CHUNKS, (), "", 1, ""))


def synthetic_store(path: Path, embedder, base: list[Chunk], base_vecs: np.ndarray, size: int):
    rng = np.random.default_rng(size)
    store = Store(open_client(path), embedder.model_id, embedder.dim)
    sentences = [s for c in base for s in c.text.split("。") if len(s) > 10]
    for start in range(0, size, 2000):
        store.add_chunks(*synthetic_chunks(base, sentences, rng, base_vecs, start, min(2000, size - start)))
    activate_all(store, 0, size)
    return store, sentences


def latency_by_size(embedder, sizes, questions) -> list[dict]:
    doc = parse_document(SAMPLE.read_bytes(), SAMPLE.name)
    base_vecs = embedder.embed_documents([c.text for c in doc.chunks], title=doc.title)
    rows = []
    for size in sizes:
        tmp = Path(tempfile.mkdtemp())
        t_fill, (store, sentences) = timed(synthetic_store, tmp, embedder, doc.chunks, base_vecs, size)
        searcher = Searcher(store, embedder, keyword_dir=tmp / "keyword")
        t_kw, _ = timed(searcher.refresh)  # first start on a store without keyword segments: tokenises all
        t_kw_cached, _ = timed(Searcher(store, embedder, keyword_dir=tmp / "keyword").refresh)  # a restart
        search, answer, one_doc = [], [], []
        for q in questions:
            search.append(timed(searcher.search, q, k=10)[0])
        for q in questions:
            answer.append(timed(ask, searcher, q)[0])
        first_doc = [next(iter(searcher.records))]
        for q in questions:
            one_doc.append(timed(searcher.search, q, k=10, doc_ids=first_doc)[0])
        # one more document ingested (by another process: its segment file is written at ingest)
        chunks, vecs = synthetic_chunks(doc.chunks, sentences, np.random.default_rng(1), base_vecs, size, DOC_CHUNKS)
        store.add_chunks(chunks, vecs)
        SegmentCache(tmp / "keyword").write(chunks[0].doc_id, chunks)
        activate_all(store, size, DOC_CHUNKS)
        t_update, _ = timed(searcher.refresh)
        t_first, _ = timed(searcher.search, questions[0], k=10)
        rows.append(
            {
                "chunks": size,
                "fill_s": t_fill,
                "keyword_build_s": t_kw,
                "keyword_restart_s": t_kw_cached,
                "keyword_update_s": t_update,
                "first_search_after_change_ms": t_first * 1000,
                "search_p50_ms": pct(search, 50),
                "search_p95_ms": pct(search, 95),
                "search_one_doc_p50_ms": pct(one_doc, 50),
                "ask_p50_ms": pct(answer, 50),
                "ask_p95_ms": pct(answer, 95),
            }
        )
        print(rows[-1], flush=True)
    return rows


def cold_start_cli(data_dir: Path) -> float:
    env = {**__import__("os").environ, "POLICYQA_DATA_DIR": str(data_dir)}
    t = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "policyqa"), "ask", "京都議定書の削減目標は？"],
        env=env,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - t


def cold_start_app(data_dir: Path) -> float:
    code = (
        "import os,time;t=time.perf_counter();from streamlit.testing.v1 import AppTest;"
        f"at=AppTest.from_file({str(ROOT / 'app.py')!r},default_timeout=300);at.run();"
        "at.chat_input[0].set_value('京都議定書の削減目標は？').run();"
        "assert not at.exception;print(time.perf_counter()-t)"
    )
    env = {**__import__("os").environ, "POLICYQA_DATA_DIR": str(data_dir)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    if sys.argv[1:] == ["--report-only"]:  # re-render results.md and the plot from results.json
        write_report(json.loads((OUT / "results.json").read_text()))
        return
    if sys.argv[1:] == ["--reingest-only"]:  # measure the revised-document ingest into results.json
        results = json.loads((OUT / "results.json").read_text())
        results["reingest"] = reingest_cost(load_embedder(Settings.from_env()))
        (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
        write_report(results)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": {"cores": __import__("os").cpu_count()}}
    settings = Settings.from_env()
    t_load, embedder = timed(load_embedder, settings)
    results["model_load_s"] = t_load
    questions = [q.question for q in load_questions(ROOT / "eval" / "questions.jsonl")]

    # ingest: sample (median of repeats) and a generated long corpus, stage by stage
    runs = []
    for _ in range(args.repeat):
        store = Store(open_client(Path(tempfile.mkdtemp())), embedder.model_id, embedder.dim)
        runs.append(ingest_stages(SAMPLE.name, SAMPLE.read_bytes(), embedder, store))
    results["ingest_sample"] = {
        k: statistics.median(r[k] for r in runs) if isinstance(v, float) else v for k, v in runs[0].items()
    }
    long = long_pdf(args.pages)
    store = Store(open_client(Path(tempfile.mkdtemp())), embedder.model_id, embedder.dim)
    results["ingest_long"] = ingest_stages(f"generated-{args.pages}p.pdf", long, embedder, store)
    results["reingest"] = reingest_cost(embedder)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(results, ensure_ascii=False, indent=1), flush=True)

    # the tutorial baseline on the same sample, with the plain fp32 model.encode
    from sentence_transformers import SentenceTransformer

    fp32 = SentenceTransformer(str(Path(settings.cache_dir) / "models" / "embeddinggemma-300m"), device="cpu")
    base = [baseline_ingest(SAMPLE.read_bytes(), SAMPLE.name, fp32) for _ in range(args.repeat)]
    results["baseline_sample"] = {
        "windows": base[0]["windows"],
        "total_s": statistics.median(b["total_s"] for b in base),
    }
    del fp32

    results["questions"] = len(questions)
    results["latency"] = latency_by_size(embedder, [int(s) for s in args.sizes.split(",")], questions)

    data = Path(tempfile.mkdtemp())
    rt = open_runtime(Settings.from_env({"POLICYQA_DATA_DIR": str(data)}), embedder)
    with rt.library.writing():
        rt.library.ingest_bytes(SAMPLE.name, SAMPLE.read_bytes())
    results["cold_start_cli_s"] = statistics.median(cold_start_cli(data) for _ in range(args.repeat))
    results["cold_start_app_s"] = cold_start_app(data)
    (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    write_report(results)


def write_report(r: dict) -> None:
    s, lg, b = r["ingest_sample"], r["ingest_long"], r["baseline_sample"]
    # Extraction is timed alone and again inside the whole parse; cleaning and chunking take so little that
    # their difference is within timer noise (once negative), so the table shows the parse as a whole.
    lines = [
        "# Benchmarks",
        "",
        f"2 cores, model load {r['model_load_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB. Medians of repeats.",
        "",
        "## Ingest",
        "",
        "| document | pages | chunks | extract s | extract+clean+chunk s | embed s | store s | pages/s | chunks/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in (s, lg):
        lines.append(
            f"| {d['doc']} | {d['pages']} | {d['chunks']} | {d['extract_s']:.2f} | "
            f"{d['extract_s'] + d['clean_chunk_s']:.2f} | "
            f"{d['embed_s']:.2f} | {d['store_s']:.2f} | {d['pages_per_s']:.2f} | {d['chunks_per_s']:.2f} |"
        )
    lines += [
        "",
        f"Tutorial baseline on the sample (1,000-char windows, one fp32 `model.encode`): {b['windows']} "
        f"windows in {b['total_s']:.1f} s; policyqa {s['total_s']:.1f} s "
        f"(ratio baseline/policyqa {b['total_s'] / s['total_s']:.2f}).",
        "",
        *(
            [
                f"Re-ingesting a 100-page document with 10 changed pages: {r['reingest']['revised_s']:.1f} s against "
                f"{r['reingest']['first_s']:.1f} s for its first ingest (**{100 * r['reingest']['ratio']:.0f} %**; "
                "unchanged chunks reuse their stored vectors).",
                "",
            ]
            if "reingest" in r
            else []
        ),
        "## Search and ask latency by store size",
        "",
        f"Synthetic stores of {DOC_CHUNKS}-chunk documents; "
        f"{r.get('questions', 56)} questions (eval/questions.jsonl), query vectors from the real model.",
        "",
        "| chunks | search p50 ms | search p95 ms | one-document filter p50 ms | ask p50 ms | ask p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["latency"]:
        lines.append(
            f"| {row['chunks']:,} | {row['search_p50_ms']:.0f} | {row['search_p95_ms']:.0f} | "
            f"{row['search_one_doc_p50_ms']:.0f} | {row['ask_p50_ms']:.0f} | {row['ask_p95_ms']:.0f} |"
        )
    lines += [
        "",
        "Keyword index (per-document segments, see index/keyword.py):",
        "",
        "| chunks | first build, tokenising every chunk s | restart from segment files s | "
        f"update after one more {DOC_CHUNKS}-chunk document s | first search after that change ms |",
        "|---|---|---|---|---|",
    ]
    for row in r["latency"]:
        lines.append(
            f"| {row['chunks']:,} | {row['keyword_build_s']:.1f} | {row['keyword_restart_s']:.2f} | "
            f"{row['keyword_update_s']:.2f} | {row['first_search_after_change_ms']:.0f} |"
        )
    first, last = r["latency"][0], r["latency"][-1]
    lines += [
        "",
        f"Search p50 at {last['chunks']:,} chunks / at {first['chunks']:,}: "
        f"{last['search_p50_ms'] / first['search_p50_ms']:.2f}×.",
        "",
        f"Cold start to first answer: CLI {r['cold_start_cli_s']:.1f} s, app {r['cold_start_app_s']:.1f} s.",
        "",
        "![latency](latency.png)",
    ]
    (OUT / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    sizes = [row["chunks"] for row in r["latency"]]
    for key, label in (
        ("search_p50_ms", "search p50"),
        ("search_p95_ms", "search p95"),
        ("ask_p50_ms", "ask p50"),
        ("ask_p95_ms", "ask p95"),
    ):
        ax.plot(sizes, [row[key] for row in r["latency"]], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("chunks in store")
    ax.set_ylabel("ms")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "latency.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
