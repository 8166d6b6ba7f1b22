"""Earlier versions of documents, kept as archived versions: listed, compared, searched on request, never by
default.

A document's source key has one active version (the registry in index.store) and any number of archived ones.
Archived versions live in collections of their own, chunks with their vectors and one record per version,
because the default search runs its dense query unfiltered over the chunks collection and drops inactive
chunks (4 ms against 279 ms for a `doc_id $in` filter at 100k chunks, index.store.Store.query): every
archived chunk left there would crowd that query, and enough of them would push every search onto the slow
filtered path. Kept apart, the default search is exactly what it was, whatever the history.

Crash safety follows the store's rule, write first and switch after: a version is copied into the archive
before the new one is activated, and removed from the searched collection only after. A crash in between
leaves it active *and* archived (the active record wins, the copy is collected at the next write), never
neither.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from basics.errors import ErrorCode, PolicyQAError
from basics.jatext import squash
from index.store import DocumentRecord, Store, chunk_from
from ingest.chunk import Chunk
from ingest.diff import NO_HEADING, SectionChange, compare

ARCHIVE_CHUNKS = "policyqa_archive"
ARCHIVE_RECORDS = "policyqa_versions"
_BATCH = 500


@dataclass(frozen=True)
class Version:
    """One version of a document: its record, and whether it is the active (searched) one."""

    record: DocumentRecord
    active: bool

    @property
    def number(self) -> int:
        return self.record.version

    @property
    def label(self) -> str:
        return f"第{self.number}版" + ("" if self.active else "（アーカイブ）")


@dataclass(frozen=True)
class VersionDiff:
    """What changed from one version of a document to another (ingest.diff.compare)."""

    before: Version
    after: Version
    sections: tuple[SectionChange, ...]


def archived_title(record: DocumentRecord) -> str:
    """The title a passage of an archived version is shown under, so every edge says where it comes from."""
    return f"{record.title}　第{record.version}版（アーカイブ）"


def _record_id(record: DocumentRecord) -> str:
    return f"v{record.version}:{record.source}"


def no_such_version(source: str, number: int) -> PolicyQAError:
    return PolicyQAError(
        f"{source} に第{number}版はありません（policyqa versions で版を確認できます）",
        f"{source} has no version {number} (see `policyqa versions`)",
        code=ErrorCode.NOT_FOUND,
    )


class Archive:
    """The archived versions of a store. Opens its collections from the store's current client (after
    `Store.reopen` too); on a registry-only store (no model) it reads what exists and creates nothing."""

    def __init__(self, store: Store):
        self.store = store
        self._client = None
        self.chunks = self.records_col = None

    def _open(self) -> bool:
        client = self.store.client
        if client is self._client:
            return self.chunks is not None
        if self.store.model_id is None:
            names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
            if ARCHIVE_CHUNKS not in names or ARCHIVE_RECORDS not in names:
                return False  # nothing archived yet; look again next time (an ingest may create them)
            self.chunks = client.get_collection(ARCHIVE_CHUNKS, embedding_function=None)
            self.records_col = client.get_collection(ARCHIVE_RECORDS, embedding_function=None)
        else:
            self.chunks = client.get_or_create_collection(
                ARCHIVE_CHUNKS,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"model": self.store.model_id, "dim": self.store.dim},
                embedding_function=None,
            )
            self.records_col = client.get_or_create_collection(ARCHIVE_RECORDS, embedding_function=None)
        self._client = client
        return True

    # --- records ---------------------------------------------------------------------------------
    def records(self, source: str | None = None) -> list[DocumentRecord]:
        """Archived versions (of one source key, or all), by source and version."""
        if not self._open():
            return []
        got = self.records_col.get(where={"source": source} if source else None, include=["metadatas"])
        records = [DocumentRecord.from_metadata(m) for m in got["metadatas"] or []]
        return sorted(records, key=lambda r: (r.source, r.version))

    def keep(self, record: DocumentRecord) -> None:
        """Copy an active version's chunks (with their vectors) into the archive, then record it as archived."""
        self._open()
        rows = self.store.chunk_rows(record.doc_id)
        _copy(rows, self.chunks)
        self.records_col.upsert(ids=[_record_id(record)], embeddings=[[1.0]], metadatas=[record.to_metadata()])

    def restore(self, record: DocumentRecord) -> None:
        """Copy an archived version's chunks back into the searched collection (the caller activates it)."""
        self._open()
        _copy(self._rows(record.doc_id), self.store.chunks)

    def forget(self, record: DocumentRecord) -> None:
        """Remove one archived version; its chunks go unless another archived version has the same bytes."""
        if not self._open():
            return
        self.records_col.delete(ids=[_record_id(record)])
        if not any(r.doc_id == record.doc_id for r in self.records()):
            self.chunks.delete(where={"doc_id": record.doc_id})

    def collect_garbage(self, active: list[DocumentRecord]) -> int:
        """After a crash: drop records of a version that is also active (a switch-over that was cut short),
        or of a source with no active version (a removal cut short), then chunks no record refers to."""
        if not self._open():
            return 0
        by_source = {r.source: r.version for r in active}
        stale = [r for r in self.records() if by_source.get(r.source, 0) <= r.version]
        if stale:
            self.records_col.delete(ids=[_record_id(r) for r in stale])
        kept = {r.doc_id for r in self.records()}
        got = self.chunks.get(include=["metadatas"])
        orphans = {m["doc_id"] for m in got["metadatas"] or []} - kept
        for doc_id in orphans:
            self.chunks.delete(where={"doc_id": doc_id})
        return len(stale) + len(orphans)

    # --- a document's history ----------------------------------------------------------------------
    def history(self, source: str) -> list[Version]:
        """Every version of a source key, oldest first: the active one and the archived ones before it."""
        active = next((r for r in self.store.documents() if r.source == source), None)
        found = [Version(active, True)] if active else []
        found += [Version(r, False) for r in self.records(source) if not active or r.version < active.version]
        return sorted(found, key=lambda v: v.number)

    def version_chunks(self, version: Version) -> list[Chunk]:
        if version.active:
            return self.store.document_chunks(version.record.doc_id)
        return self.document_chunks(version.record.doc_id)

    def diff(self, versions: list[Version], old: int | None = None, new: int | None = None) -> VersionDiff:
        """What changed from version `old` to version `new` of one document's `versions` (default: from the one
        before `new` to the active one). Needs no model: it compares the stored chunks' text."""
        by_number = {v.number: v for v in versions}
        source = versions[0].record.source
        new = versions[-1].number if new is None else new
        if old is None:
            old = max((n for n in by_number if n < new), default=None)
            if old is None:
                raise PolicyQAError(
                    f"{source} には比較できる前の版がありません",
                    f"{source} has no earlier version to compare with version {new}",
                    code=ErrorCode.NOT_FOUND,
                )
        for number in (old, new):
            if number not in by_number:
                raise no_such_version(source, number)
        before, after = by_number[old], by_number[new]
        return VersionDiff(before, after, tuple(compare(self.version_chunks(before), self.version_chunks(after))))

    # --- chunks ----------------------------------------------------------------------------------
    def _rows(self, doc_id: str) -> dict:
        out: dict[str, list] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
        offset = 0
        while True:
            got = self.chunks.get(where={"doc_id": doc_id}, include=list(out)[1:], limit=5000, offset=offset)
            for key in out:
                out[key].extend(got[key] if got[key] is not None else [])
            if len(got["ids"]) < 5000:
                return out
            offset += 5000

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one archived version, in document order."""
        if not self._open():
            return []
        got = self.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [chunk_from(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(chunks, key=lambda c: c.id)

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        if not ids or not self._open():
            return []
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        return [chunk_from(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def query(self, embedding: np.ndarray, k: int, doc_ids: list[str]) -> list[tuple[Chunk, float]]:
        """Nearest archived chunks among `doc_ids` (filtered: only ever asked for a few chosen versions)."""
        if not doc_ids or k <= 0 or not self._open():
            return []
        where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
        got = self.chunks.query(
            query_embeddings=np.asarray([embedding], dtype=np.float32),
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True)
        return [(chunk_from(i, t, m), 1.0 - float(d)) for i, t, m, d in rows]


def _copy(rows: dict, collection) -> None:
    for i in range(0, len(rows["ids"]), _BATCH):
        collection.upsert(
            ids=rows["ids"][i : i + _BATCH],
            embeddings=np.asarray(rows["embeddings"][i : i + _BATCH], dtype=np.float32),
            documents=rows["documents"][i : i + _BATCH],
            metadatas=rows["metadatas"][i : i + _BATCH],
        )


# --- choosing versions -----------------------------------------------------------------------------
def version_numbered(versions: list[Version], number: int) -> Version:
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        raise no_such_version(versions[0].record.source, number)
    return found


def version_as_of(versions: list[Version], when: datetime) -> Version | None:
    """The version that was active at `when` (the last one ingested by then); None if none was yet."""
    earlier = [v for v in versions if datetime.fromisoformat(v.record.ingested_at) <= when]
    return max(earlier, key=lambda v: v.number) if earlier else None


def shown_record(version: Version) -> DocumentRecord:
    """The record as search shows it: an archived version's title says that it is archived and which one."""
    return version.record if version.active else replace(version.record, title=archived_title(version.record))


def revises(diff: VersionDiff, heading: str, passage: str) -> bool:
    """Whether a passage of the later version (under `heading`) holds text the earlier one did not: its section
    is new, or one of the sentences added there is in the passage. Compared on normalised text, as the diff."""
    body = squash(passage)
    for section in diff.sections:
        if section.heading != (heading or NO_HEADING):
            continue
        if section.kind == "added" or any(squash(c.text) in body for c in section.added):
            return True
    return False
