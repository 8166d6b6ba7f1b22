"""OCR measurements (bench/ocr.py): character error rate of scanned pages against their known text, seconds
per page. Figures, not tests.

The known text of a page is the text PDF's own text layer (pypdf, plain mode: exact for the sample report,
see shared/docs/japanese-pdf-notes.md); the scan is that page rendered to a greyscale JPEG page
(pdfgen.scan_copy). Both sides are compared after NFKC with every space and line break removed, since
extractors and OCR place spaces differently and neither is wrong.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from basics.jatext import squash
from ingest.ocr import ocr_page, open_document


@dataclass(frozen=True)
class PageScore:
    page: int
    chars: int  # characters of the known text
    edits: int  # in reading order: insertions, deletions and substitutions
    unordered_edits: int  # the same with the order of lines taken out (see unordered_distance)
    seconds: float  # wall clock
    cpu_seconds: float  # CPU time of the process, all threads: on a shared machine, wall clock ≈ this ÷ cores
    table: bool  # the page holds a table (cells side by side): its reading order is ambiguous

    @property
    def cer(self) -> float:
        return self.edits / max(self.chars, 1)

    @property
    def unordered_cer(self) -> float:
        return self.unordered_edits / max(self.chars, 1)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time (O(len(a)·len(b)) time, O(len(b)) memory)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def unordered_distance(hyp_lines: list[str], ref: str) -> int:
    """Edits left when the order of the OCR lines is taken out: each cell of a line is compared with the stretch of the
    known text it lines up with (anchored on their longest common run, in text no earlier line took), and
    the known text no line covers counts as deleted.

    This is what a reader of a table loses: a table row read across (OCR) and the same row read cell by cell
    down the columns (the PDF's text layer) hold the same characters in another order."""
    from difflib import SequenceMatcher

    free = list(ref)  # characters no line has taken yet; taken ones become NUL, which OCR never reads
    edits = 0
    cells = [squash(cell) for line in hyp_lines for cell in line.split(" ")]  # a row's cells move separately
    for line in cells:
        if not line:
            continue
        block = SequenceMatcher(None, "".join(free), line, autojunk=False).find_longest_match()
        if block.size == 0:
            edits += len(line)
            continue
        start = max(block.a - block.b, 0)
        end = min(start + len(line), len(ref))
        window = "".join(c for c in free[start:end] if c != "\0")  # text an earlier cell took is not reused
        edits += edit_distance(line, window)
        free[start:end] = ["\0"] * (end - start)
    return edits + sum(1 for c in free if c != "\0")


def page_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def score_scan(text_pdf: bytes, scan_pdf: bytes, pages: list[int] | None = None) -> list[PageScore]:
    """OCR each page of `scan_pdf` and compare it with the same page of `text_pdf`."""
    references = page_texts(text_pdf)
    document = open_document(scan_pdf)
    scores = []
    try:
        for number in pages or range(1, len(references) + 1):
            start, cpu = time.perf_counter(), time.process_time()
            text = ocr_page(document, number - 1)
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
            ref = squash(references[number - 1])
            lines = text.splitlines()
            table = sum(1 for line in lines if line.count(" ") >= 2) >= 3
            scores.append(
                PageScore(
                    number,
                    len(ref),
                    edit_distance(squash(text), ref),
                    unordered_distance(lines, ref),
                    seconds,
                    cpu_seconds,
                    table,
                )
            )
    finally:
        document.close()
    return scores
