"""The cited page as an image with the quote marked on it, so an official sees the sentence where it stands.

Rendered server-side with pdfium (pypdfium2): the browser gets a PNG, so a Japanese PDF without embedded fonts
looks the same for everyone (pdfium falls back to the machine's IPA fonts) and nothing depends on the browser's
PDF viewer. The boxes come from the page's own text layer: pdfium's characters are matched against the quoted
sentences (or the cells of a quoted table record) on whitespace-free NFKC text, so the spaces and line breaks
that extraction adds or drops do not matter. Measured on the sample report: rendering a page at 1.5× takes
35 ms and matching its 600 characters under 5 ms.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from basics.jatext import squash
from ingest.tables import parse_record

SCALE = 1.5  # 893 × 1263 px for A4: the page's 10.5 pt body text is readable without zooming
MARK = (255, 214, 0, 90)  # translucent yellow over the text, as a highlighter pen
EDGE = (230, 120, 0, 255)
ROW_REACH = 200  # characters around a row's longest cell where its other cells are looked for
Rect = tuple[float, float, float, float]  # left, bottom, right, top in PDF points (pixels once drawn)
PIECE = 12  # a quoted part not found whole is looked for in pieces of this many characters


@dataclass(frozen=True)
class QuotePage:
    png: bytes
    boxes: tuple[Rect, ...]  # in image pixels: left, top, right, bottom
    width: int
    height: int

    @property
    def marked(self) -> bool:
        return bool(self.boxes)


def quote_parts(passage: str, spans: Iterable[tuple[int, int]]) -> list[tuple[str, ...]]:
    """What to mark, as runs of text that stand in this order on the page: a quoted sentence is one run; a quoted
    table record (rebuilt at ingest as caption[columns] + cells) is its cells, since only they are printed."""
    parts: list[tuple[str, ...]] = []
    for start, end in spans:
        text = passage[start:end]
        record = parse_record(text)
        runs = tuple(squash(c) for c in record.cells) if record is not None else (squash(text),)
        runs = tuple(r for r in runs if r)
        if runs:
            parts.append(runs)
    return parts


def _squashed_chars(text: str) -> tuple[str, list[int]]:
    """The page text without whitespace, NFKC'd character by character, and for each kept character the index
    of the pdfium character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        norm = squash(ch)
        out.append(norm)
        where.extend([i] * len(norm))
    return "".join(out), where


def _find(haystack: str, needle: str, start: int = 0) -> list[tuple[int, int]]:
    """Ranges of `needle` in `haystack`: whole if it is there, else its pieces found in order (a quote joined
    across a page's columns, or cleaned differently in one place, still gets most of its characters marked)."""
    at = haystack.find(needle, start)
    if at >= 0:
        return [(at, at + len(needle))]
    found, pos = [], start
    for i in range(0, len(needle), PIECE):
        piece = needle[i : i + PIECE]
        if len(piece) < 4:  # too short to place with confidence
            continue
        at = haystack.find(piece, pos)
        if at >= 0:
            found.append((at, at + len(piece)))
            pos = at + len(piece)
    return found


def _find_runs(haystack: str, runs: tuple[str, ...]) -> list[tuple[int, int]]:
    """A row's cells: read left to right they are one string on most pages; otherwise each cell near the row's
    longest cell (so that 港区 is marked in its row, not wherever it first occurs on the page)."""
    if len(runs) == 1:
        return _find(haystack, runs[0])
    joined = "".join(runs)
    at = haystack.find(joined)
    if at >= 0:
        return [(at, at + len(joined))]
    anchor = haystack.find(max(runs, key=len))
    if anchor < 0:
        return []
    lo, hi = max(0, anchor - ROW_REACH), anchor + ROW_REACH
    found = []
    for run in runs:
        at = haystack.find(run, lo, hi)
        if at >= 0:
            found.append((at, at + len(run)))
    return found


def match_ranges(page_text: str, parts: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """pdfium character ranges (start, count) of the quoted parts on the page."""
    squashed, where = _squashed_chars(page_text)
    ranges = []
    for runs in parts:
        for a, b in _find_runs(squashed, runs):
            first, last = where[a], where[b - 1]
            ranges.append((first, last - first + 1))
    return ranges


def _rects(textpage, ranges: Sequence[tuple[int, int]]) -> list[Rect]:
    """pdfium's rectangles for the character ranges (PDF points: left, bottom, right, top), one per text run."""
    rects = []
    for index, count in ranges:
        n = textpage.count_rects(index, count)
        rects.extend(textpage.get_rect(i) for i in range(n))
    return rects


def _same_line(a: Rect, b: Rect) -> bool:
    """Vertically overlapping by half the smaller box (a comma's box is a quarter of a kanji's)."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > min(a[3] - a[1], b[3] - b[1]) / 2


def _merge_lines(rects: list[Rect]) -> list[Rect]:
    """One box per stretch of a line. pdfium gives a justified Japanese line as a dozen runs: runs of one line
    closer than the line's height are joined; a table row's cells, far apart, stay separate boxes."""
    lines: list[list[Rect]] = []
    for rect in sorted(rects, key=lambda r: -r[3]):
        if lines and _same_line(lines[-1][0], rect):
            lines[-1].append(rect)
        else:
            lines.append([rect])
    merged: list[Rect] = []
    for line in lines:
        height = max(r[3] - r[1] for r in line)
        stretch = None
        for left, bottom, right, top in sorted(line):
            if stretch is not None and left - stretch[2] < height:
                stretch = (stretch[0], min(stretch[1], bottom), max(stretch[2], right), max(stretch[3], top))
                continue
            if stretch is not None:
                merged.append(stretch)
            stretch = (left, bottom, right, top)
        merged.append(stretch)
    return merged


def _to_pixels(rect, crop, scale: float) -> tuple[float, float, float, float]:
    left, bottom, right, top = rect
    x0, _, _, y1 = crop  # crop box: left, bottom, right, top in PDF points; images have y downwards
    return ((left - x0) * scale - 2, (y1 - top) * scale - 2, (right - x0) * scale + 2, (y1 - bottom) * scale + 2)


def _draw(image, boxes) -> bytes:
    from PIL import Image, ImageDraw

    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for box in boxes:
        pen.rectangle(box, fill=MARK, outline=EDGE, width=2)
    out = io.BytesIO()
    Image.alpha_composite(base, layer).convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def quote_page(
    path: Path, page_number: int, parts: Sequence[tuple[str, ...]], scale: float = SCALE
) -> QuotePage | None:
    """Page `page_number` (1-based) of the PDF at `path` as a PNG with the quoted parts boxed; None when the file
    cannot be opened without a password, is not a PDF, or has no such page. A page whose text layer does not hold
    the quote (a scan, garbled fonts) comes back unmarked: the official still sees the page."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return None
    try:
        if not 1 <= page_number <= len(pdf):
            return None
        page = pdf[page_number - 1]
        boxes: list[Rect] = []
        if page.get_rotation() == 0:  # rotated pages: shown, not marked (boxes would need the rotation applied)
            textpage = page.get_textpage()
            ranges = match_ranges(textpage.get_text_range(), parts)
            crop = page.get_cropbox()
            boxes = [_to_pixels(r, crop, scale) for r in _merge_lines(_rects(textpage, ranges))]
        image = page.render(scale=scale).to_pil()
        return QuotePage(_draw(image, boxes), tuple(boxes), image.width, image.height)
    finally:
        pdf.close()
