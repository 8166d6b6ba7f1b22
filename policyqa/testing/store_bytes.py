"""Stores for storage benchmarks: bytes of Chroma store per chunk, by vector size and text length (the figures
behind index.space's estimate, bench/store_bytes.py), and stores of a given size with 768-dimension vectors
(bench/read_only.py). White-box: chunks are written into a Store directly, as an ingest does."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from index.embedder import HashEmbedder
from index.store import Store, open_client
from ingest.chunk import Chunk
from ingest.document import parse_document
from policyqa.testing.bench import synthetic_store

WIDE_EMBEDDER = HashEmbedder(768)  # the real model's width, without its load time in every figure

TEXT = "カーボン・オフセットの認証基準は、排出削減量の算定方法と第三者検証の手続を定めたものである。"


def folder_bytes(path: Path) -> int:
    """Bytes of disk the files under `path` occupy (blocks, not apparent sizes)."""
    return sum(f.stat().st_blocks * 512 for f in Path(path).rglob("*") if f.is_file())


def _grow(store: Store, start: int, count: int, dim: int, chars: int, rng) -> None:
    text = (TEXT * (chars // len(TEXT) + 1))[:chars]
    for i in range(start, start + count, 16):  # batches of 16, as index.library writes them
        part = [Chunk(f"c{j:07d}", "d" * 64, j, str(j), "第1章", f"{j}{text}", 0, chars) for j in range(i, i + 16)]
        vecs = rng.standard_normal((len(part), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.add_chunks(part, vecs, [f"k{c.id}" for c in part])


def bytes_per_chunk(dim: int, chars: int, n1: int = 400, n2: int = 2000) -> float:
    """The store's growth per chunk between `n1` and `n2` chunks (the fixed cost of an empty store left out)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(open_client(Path(tmp)), "bench", dim)
        rng = np.random.default_rng(0)
        _grow(store, 0, n1, dim, chars, rng)
        store.settle()  # Chroma's log applied before measuring
        before = folder_bytes(Path(tmp))
        _grow(store, n1, n2 - n1, dim, chars, rng)
        store.settle()
        return (folder_bytes(Path(tmp)) - before) / (n2 - n1)


def text_bytes(chars: int) -> int:
    return len((TEXT * (chars // len(TEXT) + 1))[:chars].encode())


def build_store(data: Path, size: int, sample: Path) -> None:
    """A store of `size` chunks mixed from `sample`'s (as bench/run.py's) with WIDE_EMBEDDER's vectors."""
    doc = parse_document(sample.read_bytes(), sample.name)
    vecs = WIDE_EMBEDDER.embed_documents([c.text for c in doc.chunks])
    synthetic_store(data, WIDE_EMBEDDER, doc.chunks, vecs, size)
