"""White-box benchmark measurements (bench/run.py, bench/matryoshka.py): ingest stage by stage, re-ingest cost,
the tutorial baseline, synthetic stores of any size and search/ask latency over them, Matryoshka truncation.

These time the rooms (ingest, index, answer) directly, below the service, so they live on the service floor;
the scripts in bench/ keep argument parsing, orchestration and the reports. Figures, not tests.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from answer.pipeline import ask
from index.keyword import SegmentCache
from index.search import Searcher
from index.store import DocumentRecord, Store, open_client
from ingest.chunk import Chunk
from ingest.document import parse_document
from ingest.isolated import read_guarded
from ingest.load import read_file
from policyqa.service import Service
from policyqa.settings import Settings
from policyqa.testing.pdfgen import PageSpec, make_pdf

DOC_CHUNKS = 500  # chunks per synthetic document: 100k chunks = 200 documents, like a large guideline library


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t, result


def pct(values, q):
    return float(np.percentile(values, q)) * 1000


def empty_store(path: Path, embedder) -> Store:
    return Store(open_client(path), embedder.model_id, embedder.dim)


def ingest_stages(name: str, data: bytes, embedder, store: Store | None = None) -> dict:
    """One document through extract, clean+chunk, embed and store, each timed (into a fresh store by default)."""
    store = store if store is not None else empty_store(Path(tempfile.mkdtemp()), embedder)
    parse_document(data, name)  # warm up imports and caches: the stages below are then comparable
    t_extract, raw = timed(read_file, data, name)
    t_guarded, _ = timed(read_guarded, data, name)  # a PDF in its child process (ingest.isolated)
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
        "isolate_s": t_guarded - t_extract,  # starting the child that reads a PDF within the budget
        "clean_chunk_s": t_all - t_guarded,
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
        service = Service(Settings.from_env({"POLICYQA_DATA_DIR": tempfile.mkdtemp()}), embedder)
        library = service.library
        with library.writing():
            firsts.append(timed(library.ingest_bytes, "rules.pdf", make_pdf(pages(), title="規程集"))[0])
            data = make_pdf(pages(changed=range(1, 101, 10)), title="規程集")
            revised.append(timed(library.ingest_bytes, "rules.pdf", data)[0])
    first, again = statistics.median(firsts), statistics.median(revised)
    return {"first_s": first, "revised_s": again, "ratio": again / first, "reused": library.reused}


def load_fp32_model(settings: Settings):
    """The cached EmbeddingGemma as a plain fp32 SentenceTransformer (what the tutorial pipeline uses)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(Path(settings.cache_dir) / "models" / "embeddinggemma-300m"), device="cpu")


def baseline_ingest(data: bytes, name: str, fp32_model) -> dict:
    """The tutorial pipeline: raw text, 1,000-character windows with 200 overlap, one fp32 encode call."""
    t0 = time.perf_counter()
    text = "\n".join(read_file(data, name).texts)
    windows = [text[i : i + 1000] for i in range(0, max(1, len(text) - 200), 800)]
    fp32_model.encode(windows, normalize_embeddings=True)
    return {"windows": len(windows), "total_s": time.perf_counter() - t0}


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
    store = empty_store(path, embedder)
    sentences = [s for c in base for s in c.text.split("。") if len(s) > 10]
    for start in range(0, size, 2000):
        store.add_chunks(*synthetic_chunks(base, sentences, rng, base_vecs, start, min(2000, size - start)))
    activate_all(store, 0, size)
    return store, sentences


def latency_by_size(embedder, sizes, questions, sample: Path) -> list[dict]:
    """Search and ask latency, and keyword index build/restart/update, over synthetic stores of each size
    (chunks mixed from `sample`'s real chunks). Answers abstain below the embedder's own threshold, as the
    service's do by default."""
    doc = parse_document(sample.read_bytes(), sample.name)
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
            answer.append(timed(ask, searcher, q, min_similarity=embedder.min_similarity)[0])
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


def truncation_speed(embedder, sample: Path, questions: list[str], size: int, dims=(768, 256)) -> dict:
    """A synthetic store of `size` chunks built once per dimension from the same vectors (cut to the first
    `dim` and renormalised, as Matryoshka truncation does): insert time, Chroma query p50/p95 over the
    questions, and the store's size on disk."""
    doc = parse_document(sample.read_bytes(), sample.name)
    base = embedder.embed_documents([c.text for c in doc.chunks], title=doc.title)
    sentences = [s for c in doc.chunks for s in c.text.split("。") if len(s) > 10]
    rng = np.random.default_rng(0)
    parts = [synthetic_chunks(doc.chunks, sentences, rng, base, i, min(2000, size - i)) for i in range(0, size, 2000)]
    queries = embedder.embed_queries(questions)
    out = {}
    for dim in dims:
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


# --- hostile sizes (bench/hostile.py): the ingest's text path must stay linear ------------------------------
SENTENCE = "区市町村が実施するカーボン・オフセットの手続を定めるものであり、排出削減の取組を促進します。"


def hostile_text(kind: str, megabytes: int) -> bytes:
    """`megabytes` of UTF-8 Japanese text as one line without a break ("one_line"), or as short lines of a
    dozen characters each ("short_lines"): the two shapes that were quadratic (issue 14)."""
    size = megabytes * 1024 * 1024
    if kind == "one_line":
        unit = SENTENCE.encode()
    else:
        unit = "".join(f"{SENTENCE[i : i + 12]}\n" for i in range(0, len(SENTENCE), 12)).encode()
    return (unit * (size // len(unit) + 1))[:size].decode(errors="ignore").encode()


def parse_seconds(kind: str, megabytes: int) -> dict:
    """Read, clean and chunk one hostile .txt (no embedding: that is linear by construction), with this
    process's peak memory afterwards."""
    import resource

    data = hostile_text(kind, megabytes)
    seconds, doc = timed(parse_document, data, f"{kind}-{megabytes}mb.txt")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "mb": megabytes, "seconds": seconds, "chunks": len(doc.chunks), "peak_mb": peak_mb}


def repeated_ingest_seconds(chunks: int, repeated: bool) -> float:
    """Ingest one .txt of `chunks` paragraphs, all the same text or all different, through the service with the
    model-free embedder: the embedding reuse must fetch one row per distinct text, not one per copy."""
    from index.embedder import HashEmbedder
    from policyqa.service import Upload

    paragraphs = [SENTENCE * 5 if repeated else f"{SENTENCE * 5}第{i}項。" for i in range(chunks)]
    data = "\n\n".join(paragraphs).encode()
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Settings.from_env({"POLICYQA_DATA_DIR": tmp}), HashEmbedder())
        seconds, results = timed(lambda: list(service.ingest([Upload("repeated.txt", data)])))
    assert results[0].status == "added", results
    return seconds
