"""Wire the rooms together from Settings: embedder, store, searcher and library, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.embedder import Embedder, HashEmbedder, SentenceTransformerEmbedder
from index.library import Library
from index.search import Searcher
from index.store import Store, open_client
from policyqa.settings import DEFAULT_MODEL, Settings


def model_location(settings: Settings) -> str:
    """The folder of the default model in the cache (checked), or the name/folder the user configured."""
    if settings.embed_model != DEFAULT_MODEL:
        return settings.embed_model
    from index.model_files import model_dir, verify

    folder = model_dir(settings.cache_dir)
    verify(folder)
    return str(folder)


# A deterministic, model-free embedder for tests and demos of the plumbing; it does not understand meaning.
HASH_MODEL = "policyqa-hash"


def load_embedder(settings: Settings) -> Embedder:
    embedder = HashEmbedder() if settings.embed_model == HASH_MODEL else None
    embedder = embedder or SentenceTransformerEmbedder(
        model_location(settings), device=settings.device, precision=settings.precision, dim=settings.embed_dim
    )
    if settings.min_similarity is not None:
        embedder.min_similarity = settings.min_similarity
    return embedder


@dataclass
class Runtime:
    settings: Settings
    embedder: Embedder
    store: Store
    searcher: Searcher
    library: Library

    @property
    def llm(self):
        """The optional generated-answer endpoint (POLICYQA_LLM_URL), or None for extractive answers only."""
        if not self.settings.llm_url:
            return None
        from answer.llm import LLMConfig

        s = self.settings
        return LLMConfig(s.llm_url, s.llm_model, s.llm_api_key, s.llm_timeout_s)


def open_runtime(settings: Settings, embedder: Embedder | None = None) -> Runtime:
    embedder = embedder or load_embedder(settings)
    client = open_client(Path(settings.data_dir), settings.chroma_url)
    store = Store(client, embedder.model_id, embedder.dim)
    keyword_dir = Path(settings.data_dir) / "keyword"
    library = Library(
        store,
        embedder,
        Path(settings.data_dir),
        max_chars=settings.chunk_chars,
        max_bytes=settings.upload_limit_mb * 1024 * 1024,
        keyword_dir=keyword_dir,
    )
    return Runtime(settings, embedder, store, Searcher(store, embedder, keyword_dir=keyword_dir), library)
