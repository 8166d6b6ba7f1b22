"""Free space in the data folder: what an ingest will write, a check before writing, a reserve that a failed
write can give back, and telling a full disk from other store errors.

Why all of it: Chroma reports a full disk only as "Error in compaction: Failed to apply logs to the metadata
segment" (SQLite's SQLITE_FULL does not reach Python), and the writes it could not apply stay in its log: every
later query first tries to apply them ("Error sending backfill request to compactor") and fails until space is
freed. Measured on a 5 MB tmpfs: after a failed 800-page ingest the log held one batch of 16 upserts plus 672
deletes (the clean-up), and applying them needed between 1.2 and 2.2 MB free (SQLite's rollback journal keeps a
copy of every page a delete touches). A batch of 16 upserts alone needed under 0.2 MB. So a failed write gives
back a small reserve file, which lets Chroma apply the one batch it was writing, and orphans are deleted in
batches small enough for that reserve — or left, invisible to search, for a write with room.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from basics.errors import ErrorCode, IngestError, PolicyQAError

MB = 1024 * 1024
RESERVE_NAME = ".space-reserve"
# Applying one failed batch of 16 chunks took < 0.2 MB, deleting 256 chunks about 0.85 MB (3.3 KB a chunk, see
# the module docstring); 4 MB covers both with room for 768-dimension vectors.
RESERVE_BYTES = 4 * MB
DELETE_BATCH = 256  # chunks per delete: each is one Chroma compaction, its journal bounded by the reserve
DELETE_BYTES_PER_CHUNK = 4096  # journal room a deleted chunk needs (3.3 KB measured, rounded up)

# Store bytes per chunk = BASE + PER_DIM × dimensions + PER_TEXT_BYTE × UTF-8 bytes of the chunk's text; fitted to
# bench/store_bytes.py (growth between 400 and 2,000 chunks written as an ingest writes them; see its table in
# bench/results/store_bytes.md: 3,471 / 10,030 bytes at 256 dimensions and 300 / 1,200 text bytes, 6,190 / 11,978 at
# 768; the fit is within 6 % of each). The text weighs most: it is kept in the row, Chroma's log and its full-text
# (trigram) index.
BASE_BYTES = 250
PER_DIM_BYTES = 4.6
PER_TEXT_BYTE = 6.9
ESTIMATE_FACTOR = 1.25  # headroom over the fit: SQLite pages fill unevenly and the journal needs room while writing


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system that holds `path` (or its nearest parent)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def store_bytes(chunks: int, dim: int, text_bytes: int) -> int:
    """Estimated bytes the store grows by for `chunks` chunks of `dim` dimensions holding `text_bytes` of text."""
    return int(ESTIMATE_FACTOR * (chunks * (BASE_BYTES + PER_DIM_BYTES * dim) + PER_TEXT_BYTE * text_bytes))


def delete_bytes(chunks: int) -> int:
    """Free space a delete of `chunks` chunks needs while it runs (SQLite's journal), in batches of DELETE_BATCH."""
    return min(chunks, DELETE_BATCH) * DELETE_BYTES_PER_CHUNK


def _mb(n: int) -> str:
    return f"{max(n, 0) / MB:,.1f}"


def not_enough_room(need: int, free: int, margin: int) -> IngestError:
    """The reason a file is refused before anything is written."""
    return IngestError(
        f"保存先の空き容量が足りません（必要 約{_mb(need + margin)} MB、空き {_mb(free)} MB）。"
        "容量を空けてから取り込んでください",
        f"not enough free space in the data folder: about {_mb(need)} MB needed plus a {_mb(margin)} MB margin "
        f"(POLICYQA_DISK_MARGIN_MB), {_mb(free)} MB free; nothing was written",
        code=ErrorCode.DISK_FULL,
    )


def disk_full(orphans_left: bool) -> IngestError:
    """The one-line reason when the disk filled up during a write (the previous version still answers)."""
    later_ja = "途中まで書いた分は次の取り込み時に削除されます。" if orphans_left else ""
    later_en = " what was written is deleted at the next ingest with room." if orphans_left else ""
    return IngestError(
        f"書き込み中に保存先の容量が一杯になりました。以前の版はそのまま検索できます。{later_ja}容量を空けてから取り込み直してください",
        f"the disk filled up while writing; the previous version is still searchable;{later_en} free some space and "
        "ingest again",
        code=ErrorCode.DISK_FULL,
    )


def is_disk_full(err: BaseException, free: int) -> bool:
    """A write error counts as a full disk when an OSError in its chain says so (ENOSPC, EDQUOT: Python's own
    writes — the stored copy, the keyword segment), or when it came from the store while less than the reserve
    is free (Chroma's errors carry no errno: see the module docstring)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    return not isinstance(err, PolicyQAError | KeyboardInterrupt) and free < RESERVE_BYTES


class Reserve:
    """A file of RESERVE_BYTES real blocks in the data folder, held while there is room and given back when a write
    fails for lack of space, so that Chroma can still apply what it was writing and searches keep working."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / RESERVE_NAME

    @property
    def held(self) -> int:
        try:
            return self.path.stat().st_blocks * 512
        except FileNotFoundError:
            return 0

    def ensure(self, margin: int) -> bool:
        """Hold the reserve if the file system has room for it and `margin` more; True if it is held."""
        missing = RESERVE_BYTES - self.held
        if missing <= 0:
            return True
        if free_bytes(self.path.parent) < missing + margin:
            return False
        try:
            with open(self.path, "ab") as fh:
                fh.write(b"\0" * missing)  # written, not truncated: a sparse file would hold no blocks
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            self.release()
            return False
        return True

    def release(self) -> int:
        """Give the reserve back; returns the bytes freed."""
        held = self.held
        self.path.unlink(missing_ok=True)
        return held
