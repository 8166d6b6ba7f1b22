"""Shared fixtures: real Chroma on a fresh tmp_path per test, the project's deterministic embedder for fast
tests, and the real default model (provisioned by `make test`) for end-to-end ones. Plain helpers: helpers.py."""

from __future__ import annotations

import os

import pytest
from helpers import SAMPLE_PDF, settings_for

from index.embedder import HashEmbedder, set_offline_env
from policyqa.service import Service, load_embedder
from policyqa.settings import Settings

set_offline_env()


@pytest.fixture
def runtime(tmp_path):
    """The service on a fresh Chroma store with the deterministic hash embedder."""
    return Service(settings_for(tmp_path / "data"), HashEmbedder())


@pytest.fixture(scope="session")
def real_embedder():
    """The real default embedding model, loaded once per test session."""
    return load_embedder(Settings.from_env({k: v for k, v in os.environ.items() if k != "POLICYQA_EMBED_MODEL"}))


@pytest.fixture(scope="session")
def sample_runtime(real_embedder, tmp_path_factory):
    """The bundled sample report ingested once with the real model (shared by read-only tests)."""
    rt = Service(settings_for(tmp_path_factory.mktemp("sample") / "data"), real_embedder)
    with rt.library.writing():
        result = rt.library.ingest_bytes(SAMPLE_PDF.name, SAMPLE_PDF.read_bytes())
    assert result.status == "added", result
    return rt
