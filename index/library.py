"""The document library: ingest files (new, unchanged or new version), list and remove documents.

Writes are serialised by an exclusive lock file in the data directory (one writer per store). A new
version is written completely before the switch-over and the old one is removed only after it, so a crash
at any point leaves the previous version searchable; leftovers are collected at the next write.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePath

import numpy as np

from basics.errors import BusyError, ErrorCode, IngestError, PolicyQAError
from index.embedder import Embedder
from index.keyword import SegmentCache
from index.store import DocumentRecord, Store
from ingest.document import doc_id_of, parse_document
from ingest.load import SUFFIXES

Progress = Callable[[int, int], None]
EMBED_BATCH = 16
MAX_NAME = 200


class IngestStatus(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"  # a new version of a source key ingested before
    UNCHANGED = "unchanged"  # the same bytes are already in the library
    FAILED = "failed"


@dataclass(frozen=True)
class FileResult:
    """What became of one file; `code` / `ja` / `en` say why when it failed (or why nothing was done)."""

    source: str
    status: IngestStatus
    doc_id: str = ""
    title: str = ""
    pages: int = 0
    chunks: int = 0
    skipped: tuple = ()
    code: str = ""
    ja: str = ""
    en: str = ""


def safe_source_name(name: str) -> str:
    """A file name fit to be a source key and a stored file name: no folders, no control characters."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if not base:
        return "document"
    if len(base) > MAX_NAME:
        suffix = PurePath(base).suffix[:10]
        base = base[: MAX_NAME - len(suffix)] + suffix
    return base


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given, and supported files found under folders (sorted, hidden files skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUFFIXES and not child.name.startswith("."):
                    yield child
        else:
            yield path


class Library:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        data_dir: Path,
        max_chars: int = 400,
        max_bytes: int | None = None,
        keyword_dir: Path | None = None,
    ):
        self.max_bytes = max_bytes
        self.keyword_cache = SegmentCache(keyword_dir)
        self.reused = 0  # vectors reused from the store instead of embedded (for benchmarks and tests)
        self.store = store
        self.embedder = embedder
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.max_chars = max_chars
        self._writing = False  # this object holds the writer lock (see writing())

    # --- writer lock -----------------------------------------------------------------------------
    @contextmanager
    def writing(self, wait_s: float = 0.0):
        """Hold the store's single-writer lock; wait up to `wait_s`, then refuse with BusyError."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.data_dir / ".write.lock", "a+")
        deadline = time.monotonic() + wait_s
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise BusyError(
                            "別の取り込み処理が実行中です。終わってからもう一度お試しください",
                            "another ingest is writing to this store; try again when it has finished",
                        ) from None
                    time.sleep(0.2)
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            self.store.collect_garbage()
            self._writing = True
            yield
        finally:
            self._writing = False
            fh.close()

    def _check_writing(self) -> None:
        if not self._writing:
            raise RuntimeError("Library writes need the writer lock: call them inside `with library.writing():`")

    # --- ingest ----------------------------------------------------------------------------------
    def ingest_bytes(
        self, name: str, data: bytes, password: str | None = None, progress: Progress | None = None
    ) -> FileResult:
        """Ingest one file's bytes under the source key `name`; never raises for a bad file."""
        self._check_writing()
        source = safe_source_name(name)
        try:
            return self._ingest(source, data, password, progress)
        except IngestError as err:
            return FileResult(source, IngestStatus.FAILED, code=err.code, ja=err.ja, en=err.en)

    def _ingest(self, source: str, data: bytes, password: str | None, progress: Progress | None) -> FileResult:
        if self.max_bytes is not None and len(data) > self.max_bytes:
            limit = self.max_bytes // (1024 * 1024)
            raise IngestError(
                f"ファイルが大きすぎます（上限 {limit} MB）",
                f"file too large ({len(data) // (1024 * 1024)} MB; the limit is {limit} MB, POLICYQA_UPLOAD_LIMIT_MB)",
                code=ErrorCode.TOO_LARGE,
            )
        records = {r.source: r for r in self.store.documents()}
        same = next((r for r in records.values() if r.doc_id == doc_id_of(data)), None)
        if same is not None:
            return FileResult(
                source,
                IngestStatus.UNCHANGED,
                same.doc_id,
                same.title,
                same.page_count,
                same.chunk_count,
                same.skipped,
                ja=f"同じ内容が取り込み済みです（{same.source}）",
                en=f"already ingested with the same content as {same.source}",
            )
        doc = parse_document(data, source, password, self.max_chars)
        if not doc.chunks:
            raise IngestError("索引にできる本文がありません", "no indexable text in this file", code=ErrorCode.NO_TEXT)
        old = records.get(source)
        file_name = f"{doc.doc_id}{PurePath(source).suffix.lower()}"
        try:
            self._write_chunks(doc.chunks, doc.title, progress)
            self.keyword_cache.write(doc.doc_id, doc.chunks)  # searchers load it instead of tokenising
            self.files_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.files_dir / f".{file_name}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.files_dir / file_name)
            record = DocumentRecord(
                source=source,
                doc_id=doc.doc_id,
                title=doc.title,
                page_count=doc.page_count,
                chunk_count=len(doc.chunks),
                skipped=tuple(doc.skipped),
                ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
                version=old.version + 1 if old else 1,
                file_name=file_name,
            )
            self.store.activate(record)
        except BaseException:
            self.store.delete_chunks(doc.doc_id)  # not active yet: removing them loses nothing
            raise
        if old:
            self._drop_version(old)
        return FileResult(
            source,
            IngestStatus.REPLACED if old else IngestStatus.ADDED,
            doc.doc_id,
            doc.title,
            doc.page_count,
            len(doc.chunks),
            tuple(doc.skipped),
        )

    def _write_chunks(self, chunks, title: str, progress: Progress | None) -> None:
        """Embed and store chunks in batches. A chunk whose exact embedded text (with title, under the same
        model) is already stored, typically from the version being replaced, reuses that vector: re-ingesting
        a revised guideline embeds only what changed. A text repeated within the document is embedded once
        and looked up in the store at most once (its vector is kept for the rest of this ingest)."""
        total = len(chunks)
        texts = [f"{c.heading}\n{c.text}" if c.heading else c.text for c in chunks]
        keys = [self._embed_key(title, t) for t in texts]
        repeated = {k for k, n in Counter(keys).items() if n > 1}
        kept: dict[str, np.ndarray] = {}  # vectors of the keys that recur in this document
        for i in range(0, total, EMBED_BATCH):
            part, part_keys = chunks[i : i + EMBED_BATCH], keys[i : i + EMBED_BATCH]
            text_of = dict(zip(part_keys, texts[i : i + EMBED_BATCH], strict=True))  # one entry per distinct key
            known = {k: kept[k] for k in text_of if k in kept}
            known |= self.store.embeddings_by_key([k for k in text_of if k not in known])
            todo = [k for k in text_of if k not in known]  # distinct keys, each embedded once
            if todo:
                fresh = self.embedder.embed_documents([text_of[k] for k in todo], title=title)
                known |= dict(zip(todo, fresh, strict=True))
            self.store.add_chunks(part, np.stack([known[k] for k in part_keys]), part_keys)
            kept |= {k: known[k] for k in text_of if k in repeated}
            self.reused += len(part) - len(todo)
            if progress:
                progress(min(i + EMBED_BATCH, total), total)

    def _embed_key(self, title: str, text: str) -> str:
        return hashlib.sha256(f"{self.embedder.model_id}\0{title}\0{text}".encode()).hexdigest()

    def _drop_version(self, record: DocumentRecord) -> None:
        self.store.delete_chunks(record.doc_id)
        self.keyword_cache.forget(record.doc_id)
        if record.file_name:
            (self.files_dir / record.file_name).unlink(missing_ok=True)

    # --- remove / look up ------------------------------------------------------------------------
    def find(self, ref: str) -> DocumentRecord:
        """A document by source name, title, or doc_id prefix (≥ 8 characters)."""
        records = self.store.documents()
        matches = [r for r in records if ref in (r.source, r.title)] or [
            r for r in records if len(ref) >= 8 and r.doc_id.startswith(ref)
        ]
        if len(matches) != 1:
            raise PolicyQAError(
                f"資料が見つかりません: {ref}" if not matches else f"複数の資料が該当します: {ref}",
                f"no document matches {ref!r}" if not matches else f"{len(matches)} documents match {ref!r}",
                code=ErrorCode.NOT_FOUND,
            )
        return matches[0]

    def remove(self, ref: str) -> DocumentRecord:
        self._check_writing()
        record = self.find(ref)
        self.store.deactivate(record.source)
        self._drop_version(record)
        return record

    def file_path(self, record: DocumentRecord) -> Path | None:
        path = self.files_dir / record.file_name
        return path if record.file_name and path.is_file() else None
