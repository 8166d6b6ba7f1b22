"""Read a PDF in a child process, so that no single page can run past the budget and a cancel stops it at once.

The budget (ingest.budget) is checked between pages, but pypdf cannot be interrupted inside a page: one page
drawing a 70 MB stream (under pypdf's 75 MB decoding limit) interprets for minutes. A thread with a deadline
cannot be stopped either — it would go on holding a core and the GIL after we gave up on it — so a PDF is
read by `python -m ingest.isolated` and the child is killed when the budget's time (plus a grace for its
start) has passed, or when `cancel` is set. Measured on 2 shared cores: starting the child and importing
pypdf costs 0.3–0.9 s per PDF (against 1.6 s to read the sample report, and seconds to embed any document);
text files are read in-process, where reading is linear in the bytes and needs no guard.

Protocol: one JSON line (name, password, budget), then the file's bytes on stdin; one JSON object on stdout,
{"raw": RawDocument} or {"error": {code, ja, en}}. The password never appears on a command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path, PurePath
from typing import Protocol

from basics.errors import ErrorCode, IngestError
from ingest.budget import OCR_PAGE_SECONDS, Budget, over_time
from ingest.load import RawDocument, SkippedPage, read_file

GRACE_S = 5.0  # the child's own start (up to 1 s measured) and its last between-pages check
POLL_S = 0.1  # how often a cancel is looked at while the child reads


class Cancel(Protocol):
    def is_set(self) -> bool: ...


def cancelled() -> IngestError:
    return IngestError(
        "取り込みを中止したため、この資料は保存していません",
        "ingest cancelled: this file was not stored",
        code=ErrorCode.CANCELLED,
    )


def check_cancel(cancel: Cancel | None) -> None:
    if cancel is not None and cancel.is_set():
        raise cancelled()


def read_guarded(
    data: bytes,
    name: str,
    password: str | None = None,
    budget: Budget | None = None,
    cancel: Cancel | None = None,
    ocr: bool = True,
) -> RawDocument:
    """ingest.load.read_file within `budget`: a PDF in a child process killed at the budget's time (plus the
    OCR allowance for the pages it reads by OCR) or on `cancel`; other files in this process. Raises IngestError
    (OVER_BUDGET, CANCELLED or the file's reason)."""
    budget = budget or Budget()
    check_cancel(cancel)
    if PurePath(name).suffix.lower() != ".pdf" or not data:
        return read_file(data, name, password, budget, ocr)
    progress = tempfile.NamedTemporaryFile(prefix="policyqa-ocr-", delete=False)  # the child writes its OCR pages
    progress.close()
    header = {
        "name": name,
        "password": password,
        "budget": asdict(budget),
        "parent": os.getpid(),
        "ocr": ocr,
        "progress": progress.name,
    }
    try:
        return _read_in_child(json.dumps(header).encode() + b"\n", data, budget, cancel, Path(progress.name))
    finally:
        Path(progress.name).unlink(missing_ok=True)


def _read_in_child(header: bytes, data: bytes, budget: Budget, cancel: Cancel | None, progress: Path) -> RawDocument:
    # Files, not pipes, on both sides: the child can neither block on a full pipe nor leave input unread.
    # Its warnings (pypdf's about odd files) are kept out of the edges' output: the result says what matters.
    with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as reply, tempfile.TemporaryFile() as log:
        given.write(header + data)
        given.seek(0)
        command = [sys.executable, "-P", "-m", "ingest.isolated"]  # -P: nothing imported from the cwd
        with subprocess.Popen(command, stdin=given, stdout=reply, stderr=log, env=_child_env()) as child:
            try:
                _wait(child, budget, cancel, progress)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        reply.seek(0)
        return _decode(reply.read(), child.returncode)


def _child_env() -> dict[str, str]:
    """The environment with the folder holding this `ingest` package first on PYTHONPATH: the child runs the
    same code as this process, whatever the working directory or the installed copy."""
    here = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}


def _ocr_pages(progress: Path) -> int:
    try:
        return int(progress.read_text() or 0)
    except (OSError, ValueError):
        return 0


def _wait(child: subprocess.Popen, budget: Budget, cancel: Cancel | None, progress: Path) -> None:
    limit = None if budget.max_seconds is None else budget.max_seconds + GRACE_S
    started = time.monotonic()
    while True:
        try:
            child.wait(timeout=POLL_S)
            return
        except subprocess.TimeoutExpired:
            pass
        check_cancel(cancel)
        waited = time.monotonic() - started
        if limit is not None and waited > limit + OCR_PAGE_SECONDS * _ocr_pages(progress):
            raise over_time(waited, budget.max_seconds, "1ページの読み込み中", "inside one page")


def _decode(out: bytes, returncode: int) -> RawDocument:
    try:
        reply = json.loads(out)
    except ValueError:
        reply = None
    if not isinstance(reply, dict) or ("raw" not in reply and "error" not in reply):
        raise IngestError(
            "読み込み中に処理が異常終了しました",
            f"the reading process ended without a result (exit status {returncode})",
            code=ErrorCode.UNREADABLE,
        )
    if "error" in reply:
        err = reply["error"]
        raise IngestError(err["ja"], err["en"], code=ErrorCode(err["code"]))
    raw = reply["raw"]
    skipped = [SkippedPage(**s) for s in raw["skipped"]]
    return RawDocument(
        raw["title"], raw["texts"], raw["labels"], skipped, raw["page_count"], frozenset(raw["ocr_pages"])
    )


def _end_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this child when the process that started it ends, even by SIGKILL, so that
    no orphan reads on (PR_SET_PDEATHSIG); elsewhere the budget's checks between pages still end it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


def _child() -> dict:
    header = json.loads(sys.stdin.buffer.readline())
    _end_with_parent(header["parent"])
    data = sys.stdin.buffer.read()
    try:
        progress = Path(header["progress"])
        raw = read_file(
            data,
            header["name"],
            header["password"],
            Budget(**header["budget"]),
            header["ocr"],
            ocr_started=lambda pages: progress.write_text(str(pages)),
        )
        return {"raw": asdict(raw) | {"ocr_pages": sorted(raw.ocr_pages)}}  # JSON has no sets
    except IngestError as err:
        return {"error": {"code": str(err.code), "ja": err.ja, "en": err.en}}
    except (MemoryError, RecursionError) as err:
        ja, en = "壊れたPDFで読み込めません", f"damaged PDF: {type(err).__name__}"
        return {"error": {"code": str(ErrorCode.CORRUPT), "ja": ja, "en": en}}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_child(), ensure_ascii=False))
