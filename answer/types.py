"""What an answer is, whoever wrote it: the extractive answerer, or a generated answer after its checks.

A citation always comes from a chunk's stored metadata (document, page, heading, offsets), never from
parsing generated text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.search import Hit

# The one abstention text, shown by the CLI and the app and recognised in a model's reply.
NOT_FOUND = "資料の中に該当する記述が見つかりませんでした"


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    doc_title: str
    page: int  # 1-based page number in the file (page_label is what the document prints)
    page_label: str
    heading: str
    quote: str
    chunk_id: str
    spans: tuple[tuple[int, int], ...]  # places of the quoted sentence(s) in the chunk text
    passage: str
    ocr: bool = False  # the cited page was read by OCR


@dataclass(frozen=True)
class Answer:
    question: str
    searched: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    related: tuple[Hit, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    note: str = ""  # why it abstained, or what the checks found in a generated answer
    unsupported: tuple[str, ...] = ()  # generated sentences that no given passage supports
