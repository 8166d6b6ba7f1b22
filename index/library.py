"""The document library: ingest files (new, unchanged or new version), list and remove documents.

Writes are serialised by an exclusive lock file in the data directory (one writer per store). A new
version is written completely before the switch-over and the old one is moved to the archive (kept, not
searched by default: index.versions) around it, so a crash at any point leaves the previous version
searchable; leftovers are collected at the next write.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import stat
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
from index import space
from index.embedder import Embedder
from index.keyword import SegmentCache
from index.space import free_bytes, is_disk_full
from index.store import DocumentRecord, Store
from index.versions import Archive, Version, VersionDiff, no_such_version
from ingest.budget import Budget
from ingest.document import doc_id_of, parse_document
from ingest.isolated import Cancel, check_cancel
from ingest.load import SUFFIXES

Progress = Callable[[int, int], None]
EMBED_BATCH = 16
MAX_NAME = 200


class IngestStatus(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"  # a new version of a source key ingested before (the earlier one is archived)
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


def _clean_name_part(part: str) -> str:
    return "".join(ch for ch in part if unicodedata.category(ch)[0] != "C").strip().lstrip(".")


def safe_source_name(name: str, keep_folders: bool = False) -> str:
    """A name fit to be a source key: no control characters, no leading dots, at most MAX_NAME characters.

    A name given directly keeps only its last part (an uploaded "../../etc/passwd" is "passwd"). With
    `keep_folders` (a file found in an ingested folder, named by its path inside that folder) the sub-folders
    stay, "a/guide.pdf" and "b/guide.pdf", so two files of the same name are two documents; empty, "." and
    ".." parts are dropped. Never a path on disk: stored copies are named <sha256>.<ext>."""
    parts = [_clean_name_part(p) for p in re.split(r"[\\/]", unicodedata.normalize("NFC", name))]
    base = "/".join(p for p in (parts if keep_folders else parts[-1:]) if p)
    if not base:
        return "document"
    if len(base) > MAX_NAME:
        suffix = PurePath(base).suffix[:10]
        base = base[: MAX_NAME - len(suffix)] + suffix
    return base


@dataclass(frozen=True)
class FoundFile:
    """A file to ingest found from the paths given: `name` is its file name, or its path inside the folder
    given ("a/guide.pdf"); `refused` says why it is reported without being read (a link leaving the folder)."""

    path: Path
    name: str
    in_folder: bool = False
    refused: IngestError | None = None


def find_files(paths: list[Path]) -> Iterator[FoundFile]:
    """Files as given, and the supported files under folders (sorted by their path inside the folder; hidden
    files skipped). A symbolic link inside a folder whose target leaves that folder is not followed: it is
    reported (refused) instead. Nothing is opened here; `read_regular_file` checks each file before reading it."""
    for path in paths:
        if path.is_dir():
            yield from _folder_files(path)
        else:
            yield FoundFile(path, path.name)


def _folder_files(folder: Path) -> list[FoundFile]:
    root = folder.resolve()
    found = []
    for here, dirs, files in os.walk(folder):  # never descends into linked folders
        for name in sorted(dirs) + sorted(files):
            child = Path(here) / name
            rel = child.relative_to(folder).as_posix()
            is_file = name in files
            if name.startswith(".") or (is_file and child.suffix.lower() not in SUFFIXES):
                continue
            if child.is_symlink():
                target = child.resolve()
                if not target.is_relative_to(root):
                    found.append(FoundFile(child, rel, True, _link_outside(target)))
                    continue
                if not is_file:
                    continue  # a link to a folder inside: its files are found there
            if is_file:
                found.append(FoundFile(child, rel, True))
    return sorted(found, key=lambda f: f.name)


def _link_outside(target: Path) -> IngestError:
    return IngestError(
        "取り込むフォルダの外を指すリンクのため、読み込みませんでした",
        f"a symbolic link to {target}, outside the folder being ingested: not followed",
        code=ErrorCode.LINK_OUTSIDE,
    )


_FILE_KINDS = (
    (stat.S_ISFIFO, "名前付きパイプ", "a FIFO"),
    (stat.S_ISCHR, "デバイス", "a character device"),
    (stat.S_ISBLK, "デバイス", "a block device"),
    (stat.S_ISSOCK, "ソケット", "a socket"),
    (stat.S_ISDIR, "フォルダ", "a folder"),
)


def _not_regular(mode: int) -> IngestError:
    ja, en = next(((ja, en) for test, ja, en in _FILE_KINDS if test(mode)), ("特殊なファイル", "a special file"))
    return IngestError(
        f"通常のファイルではないため読み込みませんでした（{ja}）",
        f"not a regular file ({en}): not read",
        code=ErrorCode.NOT_REGULAR,
    )


def too_large(size: int, max_bytes: int) -> IngestError:
    limit = max_bytes // (1024 * 1024)
    return IngestError(
        f"ファイルが大きすぎます（上限 {limit} MB）",
        f"file too large ({size // (1024 * 1024)} MB; the limit is {limit} MB, POLICYQA_UPLOAD_LIMIT_MB)",
        code=ErrorCode.TOO_LARGE,
    )


def read_regular_file(path: Path, max_bytes: int | None = None) -> bytes:
    """A file's bytes, checked before a byte is read: a regular file only (a FIFO would block forever, a device
    never end), its size from `stat` within `max_bytes` (an 8 GB sparse file is refused unread). Then opened
    without blocking and checked again on the open file, and read no further than the limit. Raises
    IngestError with the reason."""
    try:
        before = os.stat(path)
    except OSError as err:
        raise IngestError("読み込めません", f"unreadable: {err.strerror}", code=ErrorCode.UNREADABLE) from err
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(before.st_mode)
    if max_bytes is not None and before.st_size > max_bytes:
        raise too_large(before.st_size, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise IngestError("読み込めません", f"unreadable: {err.strerror}", code=ErrorCode.UNREADABLE) from err
    with open(fd, "rb") as fh:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(now.st_mode):
            raise IngestError(
                "読み込み中にファイルが置き換えられました",
                "the file was replaced while being read",
                code=ErrorCode.UNREADABLE,
            )
        try:
            data = fh.read(-1 if max_bytes is None else max_bytes + 1)
        except OSError as err:
            raise IngestError("読み込めません", f"unreadable: {err.strerror}", code=ErrorCode.UNREADABLE) from err
    if max_bytes is not None and len(data) > max_bytes:  # it grew after the check
        raise too_large(len(data), max_bytes)
    return data


class Library:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        data_dir: Path,
        max_chars: int = 400,
        max_bytes: int | None = None,
        keyword_dir: Path | None = None,
        budget: Budget | None = None,
        disk_margin: int = 0,
        ocr: bool = True,
    ):
        """`disk_margin`: bytes left free beyond what a file is estimated to need (POLICYQA_DISK_MARGIN_MB)."""
        self.max_bytes = max_bytes
        self.budget = budget or Budget()  # how much reading one file may take (ingest.budget)
        self.disk_margin = disk_margin
        self.ocr = ocr  # read pages without a text layer by OCR (ingest.ocr)
        self.keyword_cache = SegmentCache(keyword_dir)
        self.reused = 0  # vectors reused from the store instead of embedded (for benchmarks and tests)
        self.store = store
        self.archive = Archive(store)
        self.embedder = embedder
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.max_chars = max_chars
        self._writing = False  # this object holds the writer lock (see writing())
        self.reserve = space.Reserve(self.data_dir)

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
            self._collect_garbage()
            self.archive.collect_garbage(self.store.documents())
            self.reserve.ensure(self.disk_margin)
            self._writing = True
            yield
        finally:
            self._writing = False
            fh.close()

    def _collect_garbage(self) -> None:
        """Delete the chunks of inactive versions, where there is room to (see `_delete_if_room`)."""
        for doc_id in self.store.orphans():
            if not self._delete_if_room(doc_id):
                return

    def _delete_if_room(self, doc_id: str) -> bool:
        """Delete a version's chunks batch by batch while the disk has room for the next batch's delete; True when
        none is left. A delete Chroma cannot finish for lack of space would stay in its log and stop every search
        (see index.space), so on a full disk orphans wait, invisible to search, for a write with room."""
        try:
            while ids := self.store.chunk_ids(doc_id, space.DELETE_BATCH):
                if free_bytes(self.data_dir) < space.delete_bytes(len(ids)):
                    return False
                self.store.delete_ids(ids)
        except Exception as err:  # noqa: BLE001 — Chroma's errors carry no type for a full disk
            if not is_disk_full(err, free_bytes(self.data_dir)):
                raise
            self._give_back_reserve()
            return False
        return True

    def _give_back_reserve(self) -> None:
        """After a write failed for lack of space: free the reserve so Chroma can apply the batch it was writing
        (a read does it) and searches keep working."""
        self.reserve.release()
        try:
            self.store.settle()
        except Exception:  # noqa: BLE001 — still no room: searches fail until space is freed, said in the reason
            pass

    def _check_room(self, chunks: list, data: bytes, archived_chunks: int = 0) -> None:
        """Refuse a file, before anything is written, when the data folder lacks room for it plus the margin: the
        store's growth (index.space.store_bytes, measured per chunk), the stored copy and its keyword segment
        (at most the text's bytes); 15-17 % above the growth measured for 200 and 800-page PDFs. No write starts
        without the reserve held: the part of it not held yet counts as needed."""
        self.reserve.ensure(self.disk_margin)
        text = sum(len(c.text.encode()) + len(c.heading.encode()) for c in chunks)
        need = space.store_bytes(len(chunks), self.embedder.dim, text) + len(data) + text
        if archived_chunks and chunks:  # the replaced version is copied to the archive before its chunks go
            need += space.store_bytes(archived_chunks, self.embedder.dim, text * archived_chunks // len(chunks))
        need += space.RESERVE_BYTES - self.reserve.held
        free = free_bytes(self.data_dir)
        if free < need + self.disk_margin:
            raise space.not_enough_room(need, free, self.disk_margin)

    def _check_writing(self) -> None:
        if not self._writing:
            raise RuntimeError("Library writes need the writer lock: call them inside `with library.writing():`")

    # --- ingest ----------------------------------------------------------------------------------
    def ingest_bytes(
        self,
        name: str,
        data: bytes,
        password: str | None = None,
        progress: Progress | None = None,
        keep_folders: bool = False,
        cancel: Cancel | None = None,
    ) -> FileResult:
        """Ingest one file's bytes under the source key `name` (see safe_source_name for `keep_folders`);
        never raises for a bad file. A file over the reading budget, or cancelled (`cancel` is looked at while
        the file is read and before each batch of chunks is stored), is a FAILED result and leaves the store
        as it was."""
        self._check_writing()
        source = safe_source_name(name, keep_folders)
        try:
            return self._ingest(source, data, password, progress, cancel)
        except IngestError as err:
            return FileResult(source, IngestStatus.FAILED, code=err.code, ja=err.ja, en=err.en)

    def _ingest(
        self, source: str, data: bytes, password: str | None, progress: Progress | None, cancel: Cancel | None
    ) -> FileResult:
        if self.max_bytes is not None and len(data) > self.max_bytes:
            raise too_large(len(data), self.max_bytes)
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
        doc = parse_document(data, source, password, self.max_chars, self.budget, cancel, ocr=self.ocr)
        if not doc.chunks:
            raise IngestError("索引にできる本文がありません", "no indexable text in this file", code=ErrorCode.NO_TEXT)
        old = records.get(source)
        self._check_room(doc.chunks, data, old.chunk_count if old else 0)
        file_name = f"{doc.doc_id}{PurePath(source).suffix.lower()}"
        tmp = self.files_dir / f".{file_name}.tmp"
        try:
            self._write_chunks(doc.chunks, doc.title, progress, cancel)
            self.keyword_cache.write(doc.doc_id, doc.chunks)  # searchers load it instead of tokenising
            self.files_dir.mkdir(parents=True, exist_ok=True)
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
                version=self._next_version(source),
                file_name=file_name,
            )
            if old:
                self.archive.keep(old)  # before the switch-over: a crash leaves it active, never lost
            self.store.activate(record)
        except BaseException as err:
            tmp.unlink(missing_ok=True)
            self.keyword_cache.forget(doc.doc_id)
            if is_disk_full(err, free_bytes(self.data_dir)):
                raise self._failed_for_space(doc.doc_id) from err
            self.store.delete_chunks(doc.doc_id)  # not active yet: removing them loses nothing
            raise
        if old:
            self._delete_if_room(old.doc_id)  # archived now: out of the searched collection (index.space)
        return FileResult(
            source,
            IngestStatus.REPLACED if old else IngestStatus.ADDED,
            doc.doc_id,
            doc.title,
            doc.page_count,
            len(doc.chunks),
            tuple(doc.skipped),
        )

    def _write_chunks(self, chunks, title: str, progress: Progress | None, cancel: Cancel | None = None) -> None:
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
            check_cancel(cancel)  # the caller deletes what was stored: nothing of this version is active yet
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

    def _next_version(self, source: str) -> int:
        numbers = [v.number for v in self.archive.history(source)]
        return max(numbers, default=0) + 1

    def _failed_for_space(self, doc_id: str) -> IngestError:
        """The disk filled up while this version was written (it was never activated: the previous one answers).
        The reserve is given back so searches work; the version's chunks are deleted at once where there is room
        for it, else at the next write with room."""
        self._give_back_reserve()
        try:
            deleted = self._delete_if_room(doc_id)
        except Exception:  # noqa: BLE001 — whatever the store says now, the reason stays a full disk
            deleted = False
        return space.disk_full(orphans_left=not deleted)

    def _drop_version(self, record: DocumentRecord) -> None:
        """The active version's chunks (now or, on a full disk, at the next write with room), keyword segment and
        stored file (unless another version has them)."""
        self._delete_if_room(record.doc_id)
        self._drop_files(record)

    def _drop_files(self, record: DocumentRecord) -> None:
        kept = [r for r in self.store.documents() + self.archive.records() if r.doc_id == record.doc_id]
        if kept:  # the same bytes are another version (a revision taken back): its segment and file stay
            return
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
        """Remove a document: every version of it (the active one first, so it is out of search at once)."""
        self._check_writing()
        record = self.find(ref)
        try:
            self.store.deactivate(record.source)
        except Exception as err:  # noqa: BLE001 — Chroma's errors carry no type for a full disk
            if not is_disk_full(err, free_bytes(self.data_dir)):
                raise
            self._give_back_reserve()  # room for the one registry delete; the chunks follow where there is room
            self.store.deactivate(record.source)
        self._drop_version(record)
        for old in self.archive.records(record.source):
            self.archive.forget(old)
            self._drop_files(old)
        return record

    def remove_version(self, ref: str, number: int) -> DocumentRecord:
        """Remove one version. Removing the active one makes the newest archived version active again (a
        wrong file ingested as a new version is taken back); the only version left is the document itself."""
        self._check_writing()
        versions = self.versions(ref)
        target = next((v for v in versions if v.number == number), None)
        if target is None:
            raise no_such_version(versions[0].record.source, number)
        if len(versions) == 1:
            return self.remove(ref)
        if not target.active:
            self.archive.forget(target.record)
            self._drop_files(target.record)
            return target.record
        previous = max((v for v in versions if not v.active), key=lambda v: v.number).record
        self.archive.restore(previous)  # written first, switched after, as for a new version
        self.store.activate(previous)
        self.archive.forget(previous)
        if previous.doc_id != target.record.doc_id:
            self._drop_version(target.record)
        return target.record

    # --- versions --------------------------------------------------------------------------------
    def versions(self, ref: str) -> list[Version]:
        """Every version of a document (by source name, title or id prefix of its active version), oldest first."""
        return self.archive.history(self.find(ref).source)

    def diff(self, ref: str, old: int | None = None, new: int | None = None) -> VersionDiff:
        """What changed from version `old` to `new` of a document (see index.versions.Archive.diff)."""
        return self.archive.diff(self.versions(ref), old, new)

    def file_path(self, record: DocumentRecord) -> Path | None:
        path = self.files_dir / record.file_name
        return path if record.file_name and path.is_file() else None
