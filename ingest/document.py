"""One document, parsed: identity (SHA-256 of its bytes), title, cleaned pages, chunks, skipped pages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from ingest.budget import Budget
from ingest.chunk import Chunk, chunk_pages
from ingest.clean import clean_pages
from ingest.headings import heading_level
from ingest.isolated import Cancel, read_guarded
from ingest.load import Page, SkippedPage


@dataclass(frozen=True)
class ParsedDocument:
    doc_id: str
    source: str
    title: str
    page_count: int
    pages: list[Page]
    chunks: list[Chunk]
    skipped: list[SkippedPage]


def doc_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _title(raw_title: str | None, pages: list[Page], source: str) -> str:
    if raw_title:
        return raw_title
    for page in pages:
        for line in page.text.split("\n")[:5]:
            if heading_level(line) in (1, 2):
                return line.lstrip("#").strip()
    return PurePath(source).stem


def parse_document(
    data: bytes,
    source: str,
    password: str | None = None,
    max_chars: int = 400,
    budget: Budget | None = None,
    cancel: Cancel | None = None,
    ocr: bool = True,
) -> ParsedDocument:
    """Read, clean and chunk one file; a PDF is read in a child process within `budget` and stopped on `cancel`
    (ingest.isolated), with OCR for pages without a text layer unless `ocr` is off. Raises IngestError when
    nothing of it can be used, or reading passed the budget."""
    raw = read_guarded(data, source, password, budget, cancel, ocr)
    doc_id = doc_id_of(data)
    cleaned = clean_pages(raw.texts, raw.labels)
    skipped_numbers = {s.number for s in raw.skipped}
    pages = [
        Page(doc_id, i + 1, label, text, ocr=i + 1 in raw.ocr_pages)
        for i, (label, text) in enumerate(zip(raw.labels, cleaned, strict=True))
        if i + 1 not in skipped_numbers and text.strip()
    ]
    skipped = list(raw.skipped) + [
        SkippedPage(i + 1, "no_text")
        for i, text in enumerate(cleaned)
        if i + 1 not in skipped_numbers and not text.strip() and raw.texts[i].strip()
    ]
    chunks = chunk_pages(pages, max_chars=max_chars)
    return ParsedDocument(
        doc_id=doc_id,
        source=source,
        title=_title(raw.title, pages, source),
        page_count=raw.page_count,
        pages=pages,
        chunks=chunks,
        skipped=sorted(skipped, key=lambda s: s.number),
    )
