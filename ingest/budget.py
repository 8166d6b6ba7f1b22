"""How much work reading one file may take: content drawn by its pages, and wall time.

Reading a PDF costs time in proportion to the content its pages draw: pypdf interprets each page's content
stream in Python, here twice (the layout pass and the plain pass). Measured on 2 shared cores: 1 MB of text
operators (`(a) Tj`) takes 4.2 s plain + 5.7 s layout per page; the sample report draws 248 KB over 16 pages
and reads in 1.6 s. One compressed stream can be shared by every page, so a 165 KB file of 1,000 pages
drawing the same 2 MB stream would take hours. Hence two limits:

- work: the sum over pages of the decoded bytes each page draws (its content streams and the form XObjects
  its resources hold), measured before any page is interpreted (a shared stream is decoded once, pypdf
  caches it) and refused over `max_work_bytes`;
- time: the wall time since reading began, checked before each page of each pass against `max_seconds`.

A single page that runs away between two checks is stopped by the process around reading (ingest.isolated).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from basics.errors import ErrorCode, IngestError

MB = 1024 * 1024
# OCR of a page without a text layer is not a runaway however long it takes (a fixed-size image through the
# model: 13–17 CPU-seconds a page here, 24–64 s wall while other work ran), so it has its own allowance per page
# on top of POLICYQA_INGEST_MAX_SECONDS, for the process that reads in a child to wait (ingest.isolated).
OCR_PAGE_SECONDS = 120.0
_FORM_DEPTH = 8  # forms drawing forms: deeper nesting than this is not counted (and not seen in real documents)


@dataclass(frozen=True)
class Budget:
    """Limits for reading one file; None means no limit."""

    max_work_bytes: int | None = None
    max_seconds: float | None = None


class Clock:
    """Wall time spent reading one file, checked against the budget between pages."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.started = time.monotonic()

    def check(self, page: int, pages: int) -> None:
        """Raise IngestError(OVER_BUDGET) when reading has taken longer than the budget; `page` is 1-based."""
        limit = self.budget.max_seconds
        spent = time.monotonic() - self.started
        if limit is not None and spent > limit:
            raise over_time(spent, limit, f"{page}/{pages}ページ", f"at page {page} of {pages}")


def over_time(spent: float, limit: float, where_ja: str, where_en: str) -> IngestError:
    return IngestError(
        f"読み込みに時間がかかりすぎるため中止しました（{where_ja}で {spent:.0f} 秒、上限 {limit:g} 秒）",
        f"reading stopped {where_en} after {spent:.0f} s (limit {limit:g} s, POLICYQA_INGEST_MAX_SECONDS)",
        code=ErrorCode.OVER_BUDGET,
    )


def check_work(reader, budget: Budget) -> int:
    """The bytes the pages draw, summed page by page; raises IngestError(OVER_BUDGET) as soon as the sum passes
    the budget. A stream that cannot be decoded counts 0 here (the reading passes report that page); a stream
    over pypdf's decoding limits raises its LimitReachedError (see ingest.load, the decompression bomb)."""
    limit = budget.max_work_bytes
    pages = len(reader.pages)
    total = 0
    for page in reader.pages:
        total += page_work(page)
        if limit is not None and total > limit:
            raise IngestError(
                f"ページの描画内容が多すぎるため読み込みを中止しました"
                f"（{pages}ページで {total / MB:.0f} MB 超、上限 {limit / MB:g} MB）",
                f"too much page content to read: {pages} pages draw over {total / MB:.0f} MB of content streams"
                f" (limit {limit / MB:g} MB, POLICYQA_INGEST_MAX_WORK_MB)",
                code=ErrorCode.OVER_BUDGET,
            )
    return total


def page_work(page) -> int:
    """Decoded bytes of one page's content streams and of the form XObjects in its resources (each once)."""
    return _stream_bytes(page.get("/Contents")) + _forms_bytes(page.get("/Resources"), set(), 0)


def _stream_bytes(obj) -> int:
    from pypdf.errors import LimitReachedError

    try:
        obj = obj.get_object() if obj is not None else None
        if isinstance(obj, list):
            return sum(_stream_bytes(part) for part in obj)
        return len(obj.get_data()) if hasattr(obj, "get_data") else 0
    except LimitReachedError:
        raise
    except Exception:  # noqa: BLE001 — a broken stream is the reading passes' business, not the budget's
        return 0


def _forms_bytes(resources, seen: set, depth: int) -> int:
    try:
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        items = list(xobjects.get_object().values()) if xobjects is not None else []
    except Exception:  # noqa: BLE001
        return 0
    total = 0
    for ref in items:
        key = getattr(ref, "idnum", id(ref))
        try:
            form = ref.get_object()
        except Exception:  # noqa: BLE001
            continue
        if key in seen or depth >= _FORM_DEPTH or not hasattr(form, "get") or form.get("/Subtype") != "/Form":
            continue
        seen.add(key)
        total += _stream_bytes(form) + _forms_bytes(form.get("/Resources"), seen, depth + 1)
    return total
