"""Helpers shared by test files (imported as `helpers`: pytest puts tests/ on the path, see pyproject.toml).

Fixtures live in conftest.py; plain functions and constants live here, so test files never import each other.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from index.search import Hit
from ingest.chunk import Chunk
from policyqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PDF = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"
DEV_QA = Settings.from_env({}).dev_qa_path
POLICYQA = str(Path(sys.executable).with_name("policyqa"))


def settings_for(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"POLICYQA_DATA_DIR": str(data_dir), **env})


POLICYQA = str(Path(sys.executable).with_name("policyqa"))


def run(tmp_path, *args, **env):
    full = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path / "data"), "POLICYQA_EMBED_MODEL": "policyqa-hash", **env}
    return subprocess.run([POLICYQA, *args], capture_output=True, text=True, env=full, timeout=120)


def assert_intact(rt, sample=40):
    """Every active document has all its chunks, no other chunks exist, and stored vectors find themselves."""
    records = {r.doc_id: r for r in rt.store.documents()}
    counts = rt.store.chunk_doc_ids()
    assert {d: counts.get(d) for d in records} == {d: r.chunk_count for d, r in records.items()}
    got = rt.store.chunks.get(include=["embeddings", "metadatas"])
    picks = random.Random(0).sample(range(len(got["ids"])), min(sample, len(got["ids"])))
    for i in picks:
        if got["metadatas"][i]["doc_id"] in records:
            # identical texts (the same page in two documents) have identical vectors: any of them may come first
            near = rt.store.chunks.query(query_embeddings=[got["embeddings"][i]], n_results=5)
            best = near["distances"][0][0]
            tied = [cid for cid, d in zip(near["ids"][0], near["distances"][0], strict=True) if d <= best + 1e-6]
            assert got["ids"][i] in tied
    return counts


def _hit(cid, text, similarity, heading="第1章 概要", title="指針", page=1):
    chunk = Chunk(cid, "d" * 64, page, str(page), heading, text, 0, len(text))
    return Hit(chunk, title, 0.03, {"dense": 1}, similarity)


HITS = [
    _hit("c1", "審査委員会は、受付から60日以内に審査結果を通知します。申請は郵送で受け付けます。", 0.62, page=4),
    _hit("c2", "報告は翌年度の6月末日までに行います。審査結果に不服がある場合は30日以内に申し立てます。", 0.55, page=5),
]


HITS = [
    _hit("c1", "審査委員会は、受付から60日以内に審査結果を通知します。申請は郵送で受け付けます。", 0.62, page=4),
    _hit("c2", "報告は翌年度の6月末日までに行います。審査結果に不服がある場合は30日以内に申し立てます。", 0.55, page=5),
]
