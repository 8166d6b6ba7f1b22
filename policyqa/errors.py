"""One base error for everything an official or staff member may see.

Each error carries a short machine code and a message in Japanese (the app's language) and English; the
edges (CLI, app) decide which to show. Library code raises these and never prints.
"""


class PolicyQAError(Exception):
    """Base error: `code` is stable, `ja` / `en` are written for the person who reads them."""

    code = "error"

    def __init__(self, ja: str, en: str, code: str | None = None):
        super().__init__(en)
        self.ja = ja
        self.en = en
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.ja} ({self.en})"


class IngestError(PolicyQAError):
    """A file that cannot be ingested; the batch goes on without it."""

    code = "ingest"


class ModelError(PolicyQAError):
    """The embedding model is missing, damaged or does not match the store."""

    code = "model"


class StoreError(PolicyQAError):
    """The document store cannot be opened or written."""

    code = "store"


class BusyError(StoreError):
    """Another process is writing to the store."""

    code = "busy"
