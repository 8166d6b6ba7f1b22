"""Read a file's bytes into raw pages: PDF (pypdf, plain mode), plain text and Markdown.

Every failure a staff member can cause with a bad file becomes an IngestError with a one-line reason;
pages that are unreadable on their own (scanned, garbled) are reported and skipped, not fatal.
"""

from __future__ import annotations

import io
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from basics.errors import ErrorCode, IngestError
from ingest.budget import Budget, Clock, check_work

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
SUFFIXES = {".pdf"} | TEXT_SUFFIXES
# Share of control / private-use / replacement characters above which a page is garbled: a font
# without a Unicode map yields \x00\x01… with no error (pypdf issue #2295).
GARBLED_SHARE = 0.05
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\uf8ff\ufffd]")


@dataclass(frozen=True)
class Page:
    doc_id: str
    number: int
    label: str
    text: str
    ocr: bool = False  # the text was read from the rendered page by OCR


@dataclass(frozen=True)
class SkippedPage:
    number: int
    reason: str  # "image_only" (needs OCR), "no_text", "garbled", "unreadable"; "ocr_no_text", "ocr_failed"


@dataclass(frozen=True)
class RawDocument:
    title: str | None
    texts: list[str]
    labels: list[str]
    skipped: list[SkippedPage]
    page_count: int
    ocr_pages: frozenset[int] = frozenset()  # page numbers whose text was read by OCR


def _fail(code: ErrorCode, ja: str, en: str) -> IngestError:
    return IngestError(ja, en, code=code)


def is_garbled(text: str) -> bool:
    stripped = re.sub(r"\s", "", text)
    return bool(stripped) and len(_BAD_CHAR.findall(stripped)) / len(stripped) > GARBLED_SHARE


def read_file(
    data: bytes,
    name: str,
    password: str | None = None,
    budget: Budget | None = None,
    ocr: bool = True,
    ocr_started: Callable[[int], None] | None = None,
) -> RawDocument:
    """Dispatch on the file name's suffix; raise IngestError for a file that cannot be read at all, or whose
    reading would pass `budget` (a PDF; see ingest.budget). With `ocr`, PDF pages without a usable text layer
    are read by OCR (ingest.ocr); `ocr_started` is told how many pages before OCR begins."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(
            ErrorCode.UNSUPPORTED,
            f"対応していない形式です（{suffix or '拡張子なし'}）。PDF・テキスト・Markdown のみ取り込めます",
            f"unsupported file type {suffix or '(none)'}: only PDF, .txt and .md",
        )
    if not data:
        raise _fail(ErrorCode.EMPTY, "空のファイルです", "the file is empty (0 bytes)")
    if suffix != ".pdf" and data.lstrip()[:5] == b"%PDF-":
        raise _fail(
            ErrorCode.PDF_AS_TEXT,
            "中身はPDFです。拡張子を .pdf にして取り込んでください",
            "this is a PDF with a text-file name: rename it to .pdf",
        )
    raw = read_pdf(data, password, budget, ocr, ocr_started) if suffix == ".pdf" else read_text(data)
    if not raw.texts or not any(t.strip() for t in raw.texts):
        if raw.skipped and all(s.reason == "ocr_no_text" for s in raw.skipped):
            raise _fail(
                ErrorCode.SCANNED,
                "画像だけのPDFで、OCRでも文字を読み取れませんでした",
                "scanned image-only PDF: OCR found no legible text",
            )
        if raw.skipped and all(s.reason in ("ocr_failed", "ocr_no_text") for s in raw.skipped):
            from ingest.ocr import failure

            raise failure(raw.skipped)
        if raw.skipped and all(s.reason == "image_only" for s in raw.skipped):
            raise _fail(
                ErrorCode.SCANNED, "文字のない画像だけのPDFです（OCRが必要）", "scanned image-only PDF: needs OCR"
            )
        if raw.skipped and any(s.reason == "garbled" for s in raw.skipped):
            raise _fail(
                ErrorCode.GARBLED,
                "文字化けして読めないPDFです",
                "garbled text on every page (font without Unicode map)",
            )
        raise _fail(ErrorCode.NO_TEXT, "取り出せる文字がありません", "no extractable text")
    return raw


def is_bomb(err: BaseException) -> bool:
    """pypdf's LimitReachedError raised by its stream decoders (pypdf.filters): a compressed stream that expands
    past pypdf's output limits (75 MB per stream by default) — a decompression bomb. pypdf raises the same
    error class for other limits (cycles, page-tree size), so the module it came from tells them apart."""
    from pypdf.errors import LimitReachedError

    return isinstance(err, LimitReachedError) and any(
        frame.f_globals.get("__name__") == "pypdf.filters" for frame, _ in traceback.walk_tb(err.__traceback__)
    )


def bomb() -> IngestError:
    return _fail(
        ErrorCode.BOMB,
        "展開すると極端に大きくなる圧縮データ（解凍爆弾）を含むPDFのため取り込みません",
        "a compressed stream expands past pypdf's decoding limits (a decompression bomb): refused",
    )


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), then Shift_JIS (cp932) and EUC-JP, the encodings Japanese offices use."""
    for encoding in ("utf-8-sig", "cp932", "euc_jp"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _fail(
        ErrorCode.ENCODING,
        "文字コードを判別できません（UTF-8 か Shift_JIS で保存してください）",
        "unknown text encoding: save as UTF-8 or Shift_JIS",
    )


def read_text(data: bytes) -> RawDocument:
    """A text file is one page per form feed (\\f), or a single page."""
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text or is_garbled(text):
        raise _fail(ErrorCode.BINARY, "テキストファイルではありません", "not a text file (binary content)")
    texts = text.split("\f")
    labels = [str(i + 1) for i in range(len(texts))]
    return RawDocument(None, texts, labels, [], len(texts))


def _open_pdf(data: bytes, password: str | None):
    from pypdf import PdfReader
    from pypdf.errors import (
        DependencyError,
        FileNotDecryptedError,
        LimitReachedError,
        PdfReadError,
        WrongPasswordError,
    )

    head = data[:1024].lstrip()
    if not head.startswith(b"%PDF"):
        if head[:15].lower().startswith((b"<!doctype html", b"<html")) or b"<html" in head.lower():
            raise _fail(
                ErrorCode.HTML,
                "PDFではなくHTMLファイルです（ブラウザで「PDFとして保存」してください）",
                "an HTML page saved with a .pdf name, not a PDF",
            )
        raise _fail(ErrorCode.NOT_PDF, "PDFファイルではありません", "not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Owner-password-only files open with the empty user password and extract normally.
            if not reader.decrypt(password or ""):
                raise WrongPasswordError
        if not len(reader.pages):
            raise _fail(ErrorCode.NO_TEXT, "ページのないPDFです", "the PDF has no pages")
    except (WrongPasswordError, FileNotDecryptedError) as err:
        if password:
            raise _fail(ErrorCode.WRONG_PASSWORD, "パスワードが違います", "wrong password for this PDF") from err
        raise _fail(
            ErrorCode.ENCRYPTED,
            "パスワードで保護されたPDFです（--password で指定してください）",
            "password-protected PDF: give the password with --password",
        ) from err
    except LimitReachedError as err:
        if is_bomb(err):
            raise bomb() from err
        raise _fail(ErrorCode.CORRUPT, "壊れたPDFで読み込めません", f"damaged PDF: {err}") from err
    except DependencyError as err:
        raise _fail(ErrorCode.ENCRYPTED, "暗号化されたPDFを開けません", f"cannot decrypt this PDF: {err}") from err
    except (PdfReadError, ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as err:
        truncated = b"%%EOF" not in data[-2048:]
        if truncated:
            raise _fail(
                ErrorCode.TRUNCATED,
                "PDFが途中で切れています（ダウンロードし直してください）",
                "truncated PDF (no end-of-file marker)",
            ) from err
        raise _fail(ErrorCode.CORRUPT, "壊れたPDFで読み込めません", f"damaged PDF: {type(err).__name__}") from err
    return reader


def _page_text(reader, index: int) -> tuple[str, str | None]:
    """Text of one page, or ("", reason) when it is unusable."""
    try:
        page = reader.pages[index]
        text = page.extract_text() or ""
    except Exception as err:  # noqa: BLE001 — pypdf raises many types from broken content streams
        if is_bomb(err):
            raise bomb() from err
        return "", "unreadable"
    if is_garbled(text):
        return "", "garbled"
    if not text.strip():
        try:
            has_images = bool(page.images)
        except Exception:  # noqa: BLE001
            has_images = False
        return "", "image_only" if has_images else "no_text"
    return text, None


def _table_texts(reader, clock: Clock) -> list[str] | None:
    """Page texts with table rows as records (ingest.tables); None if the layout pass fails as a whole."""
    from ingest.tables import page_texts

    pages = len(reader.pages)
    try:
        texts = page_texts(reader, before_page=lambda i: clock.check(i + 1, pages))
    except IngestError:
        raise
    except Exception:  # noqa: BLE001 — the plain pass below still reads every page it can
        return None
    return texts if len(texts) == len(reader.pages) else None


def read_pdf(
    data: bytes,
    password: str | None = None,
    budget: Budget | None = None,
    ocr: bool = True,
    ocr_started: Callable[[int], None] | None = None,
) -> RawDocument:
    """Pages' texts (tables as records) and what was skipped. The work the pages draw is measured against
    `budget` before any page is interpreted, and the time before each page of each pass (ingest.budget);
    OCR of the pages without a text layer has its own allowance per page (ingest.budget.OCR_PAGE_SECONDS)."""
    budget = budget or Budget()
    clock = Clock(budget)
    reader = _open_pdf(data, password)
    try:
        check_work(reader, budget)
    except IngestError:
        raise
    except Exception as err:  # noqa: BLE001 — only pypdf's limits get out of check_work
        if is_bomb(err):
            raise bomb() from err
        raise _fail(ErrorCode.CORRUPT, "壊れたPDFで読み込めません", f"damaged PDF: {err}") from err
    try:
        labels = list(reader.page_labels)
    except Exception:  # noqa: BLE001 — malformed label trees are common; fall back to numbers
        labels = []
    laid_out = _table_texts(reader, clock)
    texts, skipped = [], []
    for i in range(len(reader.pages)):
        clock.check(i + 1, len(reader.pages))
        text = laid_out[i] if laid_out else ""
        reason = "garbled" if is_garbled(text) else None
        if not text.strip() or reason:
            text, reason = _page_text(reader, i)  # classifies what is wrong with the page
        if reason:
            skipped.append(SkippedPage(i + 1, reason))
        texts.append(text)
    ocr_pages: frozenset[int] = frozenset()
    if ocr and skipped:
        from ingest.ocr import read_skipped

        if ocr_started:
            ocr_started(len(skipped))
        skipped, ocr_pages = read_skipped(data, password, texts, skipped)
    if len(labels) != len(texts):
        labels = [str(i + 1) for i in range(len(texts))]
    title = None
    try:
        meta_title = reader.metadata.title if reader.metadata else None
        title = meta_title.strip() if isinstance(meta_title, str) and meta_title.strip() else None
    except Exception:  # noqa: BLE001
        title = None
    return RawDocument(title, texts, labels, skipped, len(texts), ocr_pages)
