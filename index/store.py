"""The Chroma store: chunks with embeddings and metadata, plus a small registry of active documents.

Chroma is the single source of truth. A document becomes searchable only when its registry record (id =
source key) points at its doc_id; chunks whose doc_id is not active are invisible to search and are
garbage-collected. That makes a new version's switch-over one upsert: until it, the old version answers;
after it, the new one does; a crash in between leaves orphans, never a half document.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from basics.errors import ModelError, StoreError
from ingest.chunk import Chunk
from ingest.load import SkippedPage

CHUNKS = "policyqa_chunks"
DOCUMENTS = "policyqa_documents"
_BATCH = 500


@dataclass(frozen=True)
class DocumentRecord:
    source: str
    doc_id: str
    title: str
    page_count: int
    chunk_count: int
    skipped: tuple[SkippedPage, ...]
    ingested_at: str
    version: int
    file_name: str

    def to_metadata(self) -> dict:
        meta = asdict(self)
        meta["skipped"] = json.dumps([asdict(s) for s in self.skipped], ensure_ascii=False)
        return meta

    @classmethod
    def from_metadata(cls, meta: dict) -> DocumentRecord:
        skipped = tuple(SkippedPage(**s) for s in json.loads(meta.get("skipped") or "[]"))
        return cls(**{**meta, "skipped": skipped})


def signature_of(records: list[DocumentRecord]) -> str:
    """Changes whenever the set of active document versions changes (keyword index cache key)."""
    ids = sorted(f"{r.source}\0{r.doc_id}" for r in records)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def open_client(data_dir: Path | None = None, url: str | None = None):
    """A Chroma client: HTTP to a shared server when `url` is set, else a persistent store on disk."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 8000,
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    path = Path(data_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def writable(data_dir: Path) -> bool:
    """Whether this process can write the store in `data_dir` (its Chroma folder, else the nearest existing folder).
    A read-only mount says no even to root, which ignores file permissions."""
    path = Path(data_dir) / "chroma"
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK) and not os.statvfs(path).f_flag & os.ST_RDONLY


def open_read_only_copy(data_dir: Path):
    """A Chroma client on a private copy of a store that cannot be written (a read-only mount of a vetted store).

    Chroma 1.5 writes to its SQLite file on every open (it fails with "attempt to write a readonly database") and
    takes no read-only or immutable URI (a `sqlite://…?mode=ro` path is taken as a file name), so the Chroma folder
    is copied into a temporary folder (TMPDIR) deleted when the process ends. Measured: see the README
    (read-only deployment). The keyword segments and stored files are read where they are."""
    import atexit
    import shutil
    import tempfile

    copy = Path(tempfile.mkdtemp(prefix="policyqa-ro-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    source = Path(data_dir) / "chroma"
    if source.is_dir():
        shutil.copytree(source, copy / "chroma", copy_function=shutil.copyfile)
    return open_client(copy)


def _chunk_metadata(chunk: Chunk, embed_key: str | None) -> dict:
    meta = {"embed_key": embed_key} if embed_key else {}
    return (
        meta
        | {
            "doc_id": chunk.doc_id,
            "page": chunk.page,
            "page_label": chunk.page_label,
            "heading": chunk.heading,
            "start": chunk.start,
            "end": chunk.end,
        }
        | ({"ocr": True} if chunk.ocr else {})
    )


def chunk_from(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(
        id=chunk_id,
        doc_id=meta["doc_id"],
        page=int(meta["page"]),
        page_label=str(meta["page_label"]),
        heading=meta.get("heading") or "",
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        ocr=bool(meta.get("ocr", False)),
    )


class Store:
    """Chunks and documents in Chroma. Embeddings are always passed explicitly (no Chroma model)."""

    def __init__(self, client, model_id: str | None, dim: int | None):
        """`model_id` None opens the registry only (listing, removal): no model is needed or checked, and a
        store that does not exist yet is not created (it lists no documents)."""
        self.model_id, self.dim = model_id, dim
        self.rows_fetched = 0  # rows read back for vector reuse (embeddings_by_key), for tests and benchmarks
        self._open_collections(client)

    def reopen(self) -> None:
        """See what another process wrote to a local store.

        Chroma caches one system per path and process; a reader that has loaded the vector index does not
        see vectors another process added later and can fail with "Error finding id". Dropping this path's
        cached system and opening a fresh client reads the store from disk again. (Server mode needs none
        of this: the server is the only process touching the files.)
        """
        settings = self.client.get_settings()
        if not settings.is_persistent:
            return
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(settings.persist_directory, None)
        self._open_collections(chromadb.PersistentClient(path=settings.persist_directory, settings=settings))

    def _open_collections(self, client) -> None:
        model_id, dim = self.model_id, self.dim
        self.client = client
        if model_id is None:
            self._open_existing(client)
            return
        try:
            self.chunks = client.get_or_create_collection(
                CHUNKS,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"model": model_id, "dim": dim},
                embedding_function=None,
            )
            self.documents_col = client.get_or_create_collection(DOCUMENTS, embedding_function=None)
        except Exception as err:  # noqa: BLE001 — sqlite, HTTP and schema errors alike
            raise StoreError("保存データを開けません", f"cannot open the Chroma store: {err}") from err
        meta = self.chunks.metadata or {}
        if meta.get("model") != model_id or int(meta.get("dim", dim)) != dim:
            raise ModelError(
                f"保存データは別の埋め込みモデル（{meta.get('model')}）で作られています。"
                "同じモデルを指定するか、データフォルダを新しくして取り込み直してください",
                f"this store was built with embedding model {meta.get('model')!r} ({meta.get('dim')} dims), "
                f"not {model_id!r} ({dim} dims): set POLICYQA_EMBED_MODEL to that model, or use a new "
                "POLICYQA_DATA_DIR and ingest again",
            )

    def _open_existing(self, client) -> None:
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        if CHUNKS not in names or DOCUMENTS not in names:
            self.chunks = self.documents_col = None
            return
        self.chunks = client.get_collection(CHUNKS, embedding_function=None)
        self.documents_col = client.get_collection(DOCUMENTS, embedding_function=None)

    # --- documents -------------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        if self.documents_col is None:  # a registry-only open of a store that was never written
            return []
        got = self.documents_col.get(include=["metadatas"])
        records = [DocumentRecord.from_metadata(m) for m in got["metadatas"] or []]
        return sorted(records, key=lambda r: (r.title, r.source))

    def activate(self, record: DocumentRecord) -> None:
        # One upsert is the switch-over between versions; the 1-d vector is a placeholder (Chroma needs one).
        self.documents_col.upsert(ids=[record.source], embeddings=[[1.0]], metadatas=[record.to_metadata()])

    def deactivate(self, source: str) -> None:
        self.documents_col.delete(ids=[source])

    # --- chunks ----------------------------------------------------------------------------------
    def add_chunks(self, chunks: list[Chunk], embeddings: np.ndarray, embed_keys: list[str] | None = None) -> None:
        """Store chunks with their vectors; `embed_keys` (hash of model, title and embedded text) let a
        later version of the document reuse the vectors of unchanged chunks."""
        keys = embed_keys or [None] * len(chunks)
        for i in range(0, len(chunks), _BATCH):
            part = chunks[i : i + _BATCH]
            self.chunks.upsert(
                ids=[c.id for c in part],
                embeddings=np.asarray(embeddings[i : i + _BATCH], dtype=np.float32),
                documents=[c.text for c in part],
                metadatas=[_chunk_metadata(c, k) for c, k in zip(part, keys[i : i + _BATCH], strict=True)],
            )

    def embeddings_by_key(self, keys: list[str]) -> dict[str, np.ndarray]:
        """One stored vector per distinct embed key (from any version still in the store).

        Many chunks can share a key (a page repeated 2,500 times; the old and the new version of a document),
        so a plain `$in` query returned every copy: 2,500 identical chunks fetched 195,936 rows. One query
        asks for at most as many rows as there are distinct keys; only when copies of some keys filled it
        and crowded others out are those others asked for one by one, one row each."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found: dict[str, np.ndarray] = {}
        full = self._first_vectors({"embed_key": {"$in": wanted}}, len(wanted), found)
        if full:
            for key in wanted:
                if key not in found:
                    self._first_vectors({"embed_key": key}, 1, found)
        return found

    def _first_vectors(self, where: dict, limit: int, found: dict[str, np.ndarray]) -> bool:
        """Add the vectors of up to `limit` rows matching `where` (first row per key); True if `limit` was reached."""
        got = self.chunks.get(where=where, limit=limit, include=["embeddings", "metadatas"])
        self.rows_fetched += len(got["ids"])
        for meta, vec in zip(got["metadatas"], got["embeddings"], strict=True):
            found.setdefault(meta["embed_key"], np.asarray(vec, dtype=np.float32))
        return len(got["ids"]) >= limit

    def delete_chunks(self, doc_id: str, batch: int = 256) -> None:
        """Delete one version's chunks, `batch` ids per call: each call is one Chroma compaction, so the free
        space it needs while it runs (SQLite's journal) stays bounded however long the document (see index.space)."""
        while ids := self.chunk_ids(doc_id, batch):
            self.delete_ids(ids)

    def chunk_ids(self, doc_id: str, limit: int) -> list[str]:
        """Up to `limit` ids of one version's chunks."""
        return self.chunks.get(where={"doc_id": doc_id}, limit=limit, include=[])["ids"]

    def delete_ids(self, ids: list[str]) -> None:
        self.chunks.delete(ids=ids)

    def settle(self) -> None:
        """Let Chroma apply the writes in its log now (any read does); after a failed write this is what the next
        search would otherwise do first, and fail on."""
        if self.chunks is not None:
            self.chunks.count()

    def chunk_doc_ids(self) -> dict[str, int]:
        """doc_id → number of stored chunks, over everything in the collection (active or not)."""
        counts: dict[str, int] = {}
        for meta in self._all(include=["metadatas"])["metadatas"]:
            counts[meta["doc_id"]] = counts.get(meta["doc_id"], 0) + 1
        return counts

    def orphans(self) -> dict[str, int]:
        """doc_id → chunk count of the stored versions that are not active (left by a crash, a failed write or a
        replaced version): invisible to search, deleted by `collect_garbage`."""
        active = {r.doc_id for r in self.documents()}
        return {d: n for d, n in self.chunk_doc_ids().items() if d not in active}

    def collect_garbage(self) -> int:
        """Delete chunks of versions that are not active."""
        orphans = self.orphans()
        for doc_id in orphans:
            self.delete_chunks(doc_id)
        return len(orphans)

    def _all(self, include: list[str], where: dict | None = None) -> dict:
        out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
        if self.chunks is None:
            return out
        offset = 0
        while True:
            got = self.chunks.get(include=include, where=where, limit=5000, offset=offset)
            out["ids"].extend(got["ids"])
            for key in include:
                out[key].extend(got[key] if got[key] is not None else [])
            if len(got["ids"]) < 5000:
                return out
            offset += 5000

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document version, in order (a keyword segment is built from this)."""
        got = self._all(include=["documents", "metadatas"], where={"doc_id": doc_id})
        chunks = [chunk_from(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(chunks, key=lambda c: c.id)

    def chunk_rows(self, doc_id: str) -> dict:
        """Every stored row of one document version as Chroma returns them (ids, embeddings, documents,
        metadatas): what archiving a version copies (index.versions)."""
        return self._all(include=["embeddings", "documents", "metadatas"], where={"doc_id": doc_id})

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        if not ids:
            return []
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        by_id = {i: chunk_from(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        return [by_id[i] for i in ids if i in by_id]

    def query(
        self, embedding: np.ndarray, k: int, doc_ids: list[str], every_active: bool = False
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks among `doc_ids` by cosine; returns (chunk, cosine similarity).

        `every_active`: `doc_ids` are all the active documents. Then the query runs unfiltered and drops the
        few chunks of inactive versions (an ingest in progress, a replaced version not yet collected): a
        `doc_id $in [...]` filter makes Chroma list every allowed id before the HNSW search, 279 ms at 100k
        chunks against 4 ms unfiltered. Too few left after dropping → the filtered query, which is exact.
        """
        if not doc_ids:
            return []
        if every_active:
            allowed = set(doc_ids)
            got = self._query(embedding, 2 * k, None)
            hits = [(c, s) for c, s in got if c.doc_id in allowed]
            if len(hits) >= k or len(got) == len(hits):
                return hits[:k]
        return self._query(embedding, k, _doc_filter(doc_ids))

    def _query(self, embedding: np.ndarray, k: int, where: dict | None) -> list[tuple[Chunk, float]]:
        if k <= 0:
            return []
        got = self.chunks.query(
            query_embeddings=np.asarray([embedding], dtype=np.float32),
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (chunk_from(i, t, m), 1.0 - float(d))
            for i, t, m, d in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]


def _doc_filter(doc_ids: list[str]) -> dict:
    return {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
