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


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """The environment `streamlit run app.py` (or AppTest) reads: a fresh data folder, the hash embedder, no
    read-only mode and no admin password unless a test sets them."""
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    for key in ("POLICYQA_READ_ONLY", "POLICYQA_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


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
