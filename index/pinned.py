"""Search pinned to chosen versions (`--version N`, `--as-of DATE`): some documents as they were.

The default search (index.search.Searcher) covers the active versions only. This one covers exactly the
versions given, active or archived: the dense query runs filtered on each collection that holds some of them
(only a few versions are ever chosen, so the filter is cheap here), and the keyword index is built for these
versions alone from their cached segments (tokenised once per version, index.keyword), so BM25 statistics are
those of the library as chosen. Passages of an archived version carry its title marked
「第N版（アーカイブ）」 (index.versions.archived_title). It answers the same two calls as the Searcher, so the
answerer runs on it unchanged.
"""

from __future__ import annotations

from index.embedder import Embedder
from index.keyword import KeywordIndex, SegmentCache
from index.query import expand, glossary_groups
from index.search import MODES, Hit, fuse_hits
from index.store import Store
from index.versions import Archive, Version, shown_record
from ingest.chunk import Chunk


class PinnedSearch:
    def __init__(
        self,
        store: Store,
        archive: Archive,
        embedder: Embedder,
        versions: list[Version],
        cache: SegmentCache,
        candidates: int = 50,
    ):
        self.store, self.archive, self.embedder = store, archive, embedder
        self.candidates = candidates
        self.records = {v.record.doc_id: shown_record(v) for v in versions}
        self.archived = {v.record.doc_id for v in versions if not v.active}
        by_id = {v.record.doc_id: v for v in versions}
        counts = {d: v.record.chunk_count for d, v in by_id.items()}
        self._keyword = KeywordIndex().updated(counts, cache, lambda d: archive.version_chunks(by_id[d]))

    def _get_chunks(self, ids: list[str]) -> list[Chunk]:
        found = {c.id: c for c in self.store.get_chunks(ids)}
        found |= {c.id: c for c in self.archive.get_chunks([i for i in ids if i not in found])}
        return [found[i] for i in ids if i in found]

    def _dense(self, query: str, doc_ids: list[str]) -> list[tuple[Chunk, float]]:
        vec = self.embedder.embed_queries([query])[0]
        active = [d for d in doc_ids if d not in self.archived]
        archived = [d for d in doc_ids if d in self.archived]
        got = self.store.query(vec, self.candidates, active) + self.archive.query(vec, self.candidates, archived)
        return sorted(got, key=lambda cs: -cs[1])[: self.candidates]

    def search(self, query: str, k: int = 10, mode: str = "hybrid", doc_ids: list[str] | None = None) -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}: choose from {', '.join(MODES)}")
        allowed = [d for d in (doc_ids or self.records) if d in self.records]
        if not query.strip() or not allowed:
            return []
        dense = self._dense(query, allowed) if mode in ("hybrid", "dense") else []
        kw = []
        if mode in ("hybrid", "keyword"):
            kw = self._keyword.search(expand(query), self.candidates, set(allowed) if doc_ids else None)
        return fuse_hits(dense, kw, k, self.records, self._get_chunks)

    def unknown_terms(self, question: str) -> list[str]:
        return self._keyword.unknown_terms_translated(question, glossary_groups(question))
