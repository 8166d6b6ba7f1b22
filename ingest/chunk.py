"""Structure-aware chunks: headings tracked across pages, chunks cut on sentence ends within one page.

A chunk never spans two pages (its page is its citation) nor two sections (its heading path is its context).
Its text is an exact slice `page.text[start:end]`, so a quote can always be located in its page.
Sizes follow the measurement for a 512-token multilingual model: ~400 characters (≈ 240 tokens) with
~15 % overlap; a sentence longer than a chunk is cut at a comma (、) near the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ingest.headings import heading_level
from ingest.load import Page
from ingest.tables import text_units

HEADING_SEP = " > "


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    page: int
    page_label: str
    heading: str
    text: str
    start: int
    end: int
    ocr: bool = False  # its page was read by OCR


def _split_long(text: str, span: tuple[int, int], max_chars: int) -> Iterator[tuple[int, int]]:
    start, end = span
    while end - start > max_chars:
        window = text[start : start + max_chars]
        comma = window.rfind("、")
        cut = start + (comma + 1 if comma > max_chars // 2 else max_chars)
        yield start, cut
        start = cut
    yield start, end


def _sections(page_text: str, outline: list[tuple[int, str]]) -> Iterator[tuple[str, int, int]]:
    """Yield (heading path, start, end) for each run of lines under one heading; updates `outline`."""
    pos, sec_start, body = 0, 0, False
    for line in page_text.split("\n"):
        level = heading_level(line)
        if level is not None:
            # A heading directly followed by a sub-heading has no body of its own: it lives on in the path.
            if body:
                yield _path(outline), sec_start, pos
            sec_start = pos
            while outline and outline[-1][0] >= level:
                outline.pop()
            outline.append((level, line.strip().lstrip("#").strip()))
            body = False
        elif line.strip():
            body = True
        pos += len(line) + 1
    if body:
        yield _path(outline), sec_start, len(page_text)


def _path(outline: list[tuple[int, str]]) -> str:
    return HEADING_SEP.join(title for _, title in outline)


def _pack(spans: list[tuple[int, int]], max_chars: int, overlap: int) -> Iterator[tuple[int, int]]:
    """Greedy packing of sentence spans into chunks, repeating trailing sentences up to `overlap` chars."""
    i = 0
    while i < len(spans):
        j = i + 1
        while j < len(spans) and spans[j][1] - spans[i][0] <= max_chars:
            j += 1
        yield spans[i][0], spans[j - 1][1]
        if j >= len(spans):
            return
        k = j
        while k - 1 > i and spans[j - 1][1] - spans[k - 1][0] <= overlap:
            k -= 1
        i = k


def chunk_pages(pages: list[Page], max_chars: int = 400, overlap_ratio: float = 0.15) -> list[Chunk]:
    """Cut the cleaned pages of one document into chunks carrying page and heading path."""
    chunks: list[Chunk] = []
    outline: list[tuple[int, str]] = []
    overlap = int(max_chars * overlap_ratio)
    for page in pages:
        for heading, start, end in _sections(page.text, outline):
            spans = [
                piece
                for span in text_units(page.text[start:end], start)
                for piece in _split_long(page.text, span, max_chars)
            ]
            for s, e in _pack(spans, max_chars, overlap):
                chunks.append(
                    Chunk(
                        id=f"{page.doc_id[:16]}-{len(chunks):05d}",
                        doc_id=page.doc_id,
                        page=page.number,
                        page_label=page.label,
                        heading=heading,
                        text=page.text[s:e],
                        start=s,
                        end=e,
                        ocr=page.ocr,
                    )
                )
    return chunks
