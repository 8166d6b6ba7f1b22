"""Read PDF pages that have no usable text layer by OCR: pypdfium2 renders the page, RapidOCR reads it.

RapidOCR 3.10.0's wheel bundles PP-OCRv6 detection and recognition models (and a 0°/180° line classifier);
the recognition model carries its own character list (18,708 entries: kanji, hiragana, katakana, Latin).
Every model file is named explicitly and its SHA-256 checked against `rapidocr-3.10.0.json` before the
first page is read: given a `model_path`, RapidOCR never downloads anything (without one it fetches the
model from ModelScope into its package folder). Lines come back in Japanese reading order (see
`order_lines`). Does not rebuild tables: a table row comes out as its cells on one line, separated by spaces.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

from basics.errors import ErrorCode, IngestError, ModelError
from basics.files import sha256_file

MANIFEST = resources.files("ingest") / "rapidocr-3.10.0.json"
# RapidOCR shrinks any image whose longer side exceeds 2000 px before detection (Global.max_side_len), so
# rendering larger only costs time: an A4 page is drawn at 2000 × 1414 px (≈ 171 dpi, 10.5 pt text ≈ 25 px).
LONG_SIDE_PX = 2000
# A text box this much taller than wide holds a vertical (縦書き) line; RapidOCR turns such crops before reading.
VERTICAL_RATIO = 1.5
# Boxes in one row are cells of a table (or words of a line) when the gap is wider than half a line height.
CELL_GAP = 0.5
# A rendered page whose pixel values span less than this is blank (no ink anywhere).
BLANK_RANGE = 16
# Mean text score a detected box needs (RapidOCR's default 0.5 dropped whole short lines: 「一頁目の文章です。」
# alone on a page scored 0.47, a three-character line under another was lost); recognition still drops
# boxes it reads with a score under 0.5, so what this lets through must still be legible text.
BOX_THRESHOLD = 0.3
# A text line is at most this share of the page's longer side thick (the shorter side of its box): 8 % of an A4
# page is 67 pt type, twice the largest title in official documents. Thicker "lines" are figures, shaded blocks
# or photos, which the recogniser reads as 一 or ー (a filled 757 × 456 px rectangle came back as 「一」).
MAX_THICKNESS = 0.08
# The recogniser learnt mostly Chinese text: it writes the Latin middle dot (U+00B7) for the katakana
# middle dot 中黒 (U+30FB) that Japanese uses between words (カーボン・オフセット, 所属・役職).
_MIDDLE_DOTS = str.maketrans({"\u00b7": "\u30fb"})

_engine = None
_engine_lock = threading.Lock()


@dataclass(frozen=True)
class Box:
    """One text line found on the page: its text and its axis-aligned bounds in pixels."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def vertical(self) -> bool:
        return len(self.text) > 1 and (self.y1 - self.y0) > VERTICAL_RATIO * (self.x1 - self.x0)

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def model_paths() -> dict[str, Path]:
    """The bundled model files, each checked against its pinned size and SHA-256; raises ModelError."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    spec = find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "OCR用のパッケージ rapidocr がインストールされていません",
            "the OCR package rapidocr is not installed (pip install -r requirements.lock)",
            code=ErrorCode.OCR_FAILED,
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    paths = {}
    for role, meta in manifest["files"].items():
        path = folder / meta["name"]
        if not path.is_file() or path.stat().st_size != meta["size"] or sha256_file(path) != meta["sha256"]:
            raise ModelError(
                f"OCRモデルのファイルが見つからないか壊れています: {meta['name']}",
                f"OCR model file missing or not the pinned one: {path} (reinstall rapidocr=={manifest['version']})",
                code=ErrorCode.OCR_FAILED,
            )
        paths[role] = path
    return paths


def engine():
    """The RapidOCR engine, built once per process from the verified files (about 1 s)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            paths = model_paths()
            from rapidocr import RapidOCR

            _engine = RapidOCR(
                params={
                    "Global.log_level": "error",
                    "Det.model_path": str(paths["det"]),
                    "Cls.model_path": str(paths["cls"]),
                    "Rec.model_path": str(paths["rec"]),
                    "Det.box_thresh": BOX_THRESHOLD,
                }
            )
        return _engine


def render(document, index: int):
    """Page `index` of an open pypdfium2 document as a BGR array (pdfium's and RapidOCR's own channel order),
    its longer side LONG_SIDE_PX."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = LONG_SIDE_PX / max(width, height, 1.0)
        return page.render(scale=scale).to_numpy()[:, :, :3]
    finally:
        page.close()


def read_image(image) -> list[Box]:
    """The text lines RapidOCR finds in an image (BGR array), in no particular order."""
    result = engine()(image)
    if not result.txts:
        return []
    boxes = []
    thickest = MAX_THICKNESS * max(image.shape[:2])
    for points, text in zip(result.boxes, result.txts, strict=True):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if text.strip() and min(max(xs) - min(xs), max(ys) - min(ys)) <= thickest:
            boxes.append(Box(text.strip().translate(_MIDDLE_DOTS), min(xs), min(ys), max(xs), max(ys)))
    return boxes


def _rows(boxes: list[Box]) -> list[list[Box]]:
    """Horizontal boxes grouped into rows: a box joins the row whose centre line passes through its middle
    half, so the cells of a table row and the pieces of one line stay together."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        centre = (box.y0 + box.y1) / 2
        for row in rows:
            row_centre = sum((b.y0 + b.y1) / 2 for b in row) / len(row)
            if abs(centre - row_centre) < min(box.height, row[0].height) / 2:
                row.append(box)
                break
        else:
            rows.append([box])
    return rows


def _row_text(row: list[Box]) -> str:
    parts, last = [], None
    for box in sorted(row, key=lambda b: b.x0):
        if last is not None and box.x0 - last.x1 > CELL_GAP * min(box.height, last.height):
            parts.append(" ")
        parts.append(box.text)
        last = box
    return "".join(parts)


def _columns(boxes: list[Box]) -> list[list[Box]]:
    """Vertical boxes grouped into blocks of overlapping height (one block of 縦書き text each)."""
    blocks: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.y0):
        block = next((bl for bl in blocks if box.y0 < max(b.y1 for b in bl) and box.y1 > min(b.y0 for b in bl)), None)
        if block is None:
            blocks.append([box])
        else:
            block.append(box)
    return blocks


def order_lines(boxes: list[Box]) -> list[str]:
    """Lines in Japanese reading order: horizontal rows top to bottom (cells left to right); a block of
    vertical lines read right to left, each line top to bottom, where its top lies among the rows.

    Does not find side-by-side columns of horizontal text: their lines interleave row by row."""
    items = [(min(b.y0 for b in row), 0, _row_text(row)) for row in _rows([b for b in boxes if not b.vertical])]
    for block in _columns([b for b in boxes if b.vertical]):
        top = min(b.y0 for b in block)
        for i, box in enumerate(sorted(block, key=lambda b: -b.x1)):
            items.append((top, i + 1, box.text))
    return [text for _, _, text in sorted(items, key=lambda item: (item[0], item[1]))]


def ocr_page(document, index: int) -> str:
    """The text of page `index` (0-based) of an open pypdfium2 document, one line per row."""
    image = render(document, index)
    if int(image.max()) - int(image.min()) < BLANK_RANGE:  # one flat colour: nothing to detect, skip the model
        return ""
    return "\n".join(order_lines(read_image(image)))


def read_skipped(data: bytes, password: str | None, texts: list[str], skipped: list) -> tuple[list, frozenset[int]]:
    """OCR every skipped page (no text layer, garbled, or unreadable by pypdf), writing what it reads into
    `texts`; returns the pages still skipped ("ocr_no_text", "ocr_failed") and the numbers of pages read.

    A page that fails (pdfium cannot render it, the engine raises) is reported and the others go on."""
    still, read = [], set()
    try:
        document = open_document(data, password)
    except Exception:  # noqa: BLE001 — pypdf opened this file; pdfium may still refuse it as a whole
        return [replace(s, reason="ocr_failed") for s in skipped], frozenset()
    try:
        for page in skipped:
            try:
                text = ocr_page(document, page.number - 1)
            except Exception:  # noqa: BLE001 — one page's failure (render, model, memory) must not stop the rest
                still.append(replace(page, reason="ocr_failed"))
                continue
            if text.strip():
                texts[page.number - 1] = text
                read.add(page.number)
            else:  # a page without text or images that OCR finds empty too is just blank
                still.append(replace(page, reason="no_text" if page.reason == "no_text" else "ocr_no_text"))
    finally:
        document.close()
    return still, frozenset(read)


def failure(skipped: list) -> IngestError:
    """The error for a file none of whose pages OCR could read, with the reason when the engine is at fault."""
    try:
        model_paths()
    except ModelError as err:
        return IngestError(err.ja, err.en, code=ErrorCode.OCR_FAILED)
    numbers = "、".join(str(s.number) for s in skipped[:10])
    return IngestError(
        f"OCRで読み取れませんでした（{numbers}頁）",
        f"OCR failed on every page that needed it (pages {numbers.replace('、', ', ')})",
        code=ErrorCode.OCR_FAILED,
    )


def open_document(data: bytes, password: str | None = None):
    import pypdfium2

    return pypdfium2.PdfDocument(data, password=password)
