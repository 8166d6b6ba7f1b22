"""Shared fixtures: real Chroma on a fresh tmp_path per test, the project's deterministic embedder for fast
tests, and the real default model (provisioned by `make test`) for end-to-end ones."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from index.embedder import HashEmbedder, set_offline_env  # noqa: E402
from policyqa.runtime import open_runtime  # noqa: E402
from policyqa.settings import Settings  # noqa: E402

set_offline_env()
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PDF = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"
DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"


def settings_for(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"POLICYQA_DATA_DIR": str(data_dir), **env})


@pytest.fixture
def runtime(tmp_path):
    """A runtime on a fresh Chroma store with the deterministic hash embedder."""
    return open_runtime(settings_for(tmp_path / "data"), HashEmbedder())


@pytest.fixture(scope="session")
def real_embedder():
    """The real default embedding model, loaded once per test session."""
    from policyqa.runtime import load_embedder

    return load_embedder(Settings.from_env({k: v for k, v in os.environ.items() if k != "POLICYQA_EMBED_MODEL"}))


@pytest.fixture(scope="session")
def sample_runtime(real_embedder, tmp_path_factory):
    """The bundled sample report ingested once with the real model (shared by read-only tests)."""
    rt = open_runtime(settings_for(tmp_path_factory.mktemp("sample") / "data"), real_embedder)
    with rt.library.writing():
        result = rt.library.ingest_bytes(SAMPLE_PDF.name, SAMPLE_PDF.read_bytes())
    assert result.status == "added", result
    return rt
