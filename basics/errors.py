"""One base error for everything an official or staff member may see, and the catalogue of its codes.

Each error carries a short machine code and a message in Japanese (the app's language) and English; the
edges (CLI, app) decide which to show. Library code raises these and never prints.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every machine code an error or a failed file can carry (stable: scripts read them from --json)."""

    ERROR = "error"
    INGEST = "ingest"
    MODEL = "model"
    STORE = "store"
    BUSY = "busy"
    READ_ONLY = "read_only"
    DISK_FULL = "disk_full"  # not enough free space in the data folder for a write (checked before, or hit)
    NOT_FOUND = "not_found"
    BAD_INPUT = "bad_input"
    EMPTY_QUESTION = "empty_question"
    LLM_TIMEOUT = "llm_timeout"
    LLM_ERROR = "llm_error"
    # files that cannot be ingested
    UNSUPPORTED = "unsupported"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    PDF_AS_TEXT = "pdf_as_text"
    SCANNED = "scanned"
    GARBLED = "garbled"
    NO_TEXT = "no_text"
    ENCODING = "encoding"
    BINARY = "binary"
    HTML = "html"
    NOT_PDF = "not_pdf"
    WRONG_PASSWORD = "wrong_password"
    ENCRYPTED = "encrypted"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    UNREADABLE = "unreadable"
    NOT_REGULAR = "not_regular"  # a FIFO, device, socket or folder where a file was expected: never opened
    LINK_OUTSIDE = "link_outside"  # a symbolic link in an ingested folder that points outside it: not followed
    BOMB = "decompression_bomb"  # a compressed stream that expands past pypdf's decoding limits
    OVER_BUDGET = "over_budget"  # reading would take more work or time than one file may (POLICYQA_INGEST_MAX_*)
    CANCELLED = "cancelled"  # the ingest was cancelled before this file was stored
    OCR_FAILED = "ocr_failed"  # the OCR models are missing or damaged, or OCR failed on every page that needed it


class PolicyQAError(Exception):
    """Base error: `code` is stable, `ja` / `en` are written for the person who reads them."""

    code = ErrorCode.ERROR

    def __init__(self, ja: str, en: str, code: ErrorCode | None = None):
        super().__init__(en)
        self.ja = ja
        self.en = en
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.ja} ({self.en})"


class IngestError(PolicyQAError):
    """A file that cannot be ingested; the batch goes on without it."""

    code = ErrorCode.INGEST


class ModelError(PolicyQAError):
    """The embedding model is missing, damaged or does not match the store."""

    code = ErrorCode.MODEL


class StoreError(PolicyQAError):
    """The document store cannot be opened or written."""

    code = ErrorCode.STORE


class BusyError(StoreError):
    """Another process is writing to the store."""

    code = ErrorCode.BUSY
