"""Full disks and read-only stores, on real file systems: a small tmpfs for the data folder, and a read-only bind
mount of a store (both need root with CAP_SYS_ADMIN; where mounting is refused the tests are skipped and say so).
Real Chroma, generated PDFs, the hash embedder."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import assert_intact, run, settings_for
from streamlit.testing.v1 import AppTest

from index.embedder import HashEmbedder
from index.space import RESERVE_BYTES, RESERVE_NAME, free_bytes, is_disk_full
from policyqa.service import Service, Upload
from policyqa.testing.pdfgen import long_pdf

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount here (needs root with CAP_SYS_ADMIN): {done.stderr.strip()}")


@contextmanager
def _mounted(path: Path, *args: str):
    path.mkdir(parents=True, exist_ok=True)
    _mount(*args, str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MB tmpfs: room for a 30-page document, the 4 MB reserve and a 400-page one (about 3 MB), not 1,000 pages."""
    with _mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=12m", "tmpfs") as disk:
        yield disk


NEW = long_pdf(400, "新版")


def _service(disk: Path) -> Service:
    return Service(settings_for(disk / "data", POLICYQA_DISK_MARGIN_MB="1"), HashEmbedder())


def _ingest(rt: Service, *files: tuple[str, bytes], progress=None):
    return list(rt.ingest([Upload(name, data) for name, data in files], progress=progress))


def _fill(disk: Path, leave: int = 0) -> Path:
    """Fill the file system until ENOSPC (another program taking the space), leaving `leave` bytes."""
    filler = disk / "filler"
    with open(filler, "ab") as fh:
        try:
            while free_bytes(disk) > leave:
                fh.write(b"\1" * min(256 * 1024, max(free_bytes(disk) - leave, 4096)))
                fh.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC
    return filler


def _old_version_answers(rt: Service, old_id: str) -> None:
    for mode in ("dense", "keyword", "hybrid"):
        hits = rt.search("旧版の規定その7", k=3, mode=mode)
        assert hits and all(h.chunk.doc_id == old_id for h in hits), mode
        assert "旧版" in hits[0].chunk.text
    assert rt.ask("旧版の第7条は何について定めていますか").citations


def test_a_file_the_disk_has_no_room_for_is_refused_before_a_byte_is_written(small_disk):
    rt = _service(small_disk)
    (old,) = _ingest(rt, ("guide.pdf", long_pdf(30, "旧版")))
    before = assert_intact(rt)
    note = "第1章 森林\n間伐は41ヘクタール。".encode()
    big, small = _ingest(rt, ("big.pdf", long_pdf(1000, "新版")), ("note.txt", note))
    assert big.status == "failed" and big.code == "disk_full"
    assert "空き容量が足りません" in big.ja and "MB free; nothing was written" in big.en
    assert "\n" not in big.ja + big.en
    assert small.status == "added"  # the rest of the batch goes on
    assert assert_intact(rt) == before | {small.doc_id: 1}
    assert (small_disk / "data" / RESERVE_NAME).stat().st_blocks * 512 >= RESERVE_BYTES
    _old_version_answers(rt, old.doc_id)


def test_a_disk_that_fills_during_a_write_keeps_the_old_version_and_searches_working(small_disk):
    rt = _service(small_disk)
    (old,) = _ingest(rt, ("guide.pdf", long_pdf(30, "旧版")))
    filled = []

    def another_program_fills_the_disk(name, done, total):
        if not filled:  # after the first batch, past the check before writing
            filled.append(_fill(small_disk))

    (new,) = _ingest(rt, ("guide.pdf", NEW), progress=another_program_fills_the_disk)
    assert new.status == "failed" and new.code == "disk_full", new
    assert "容量が一杯になりました" in new.ja and "previous version is still searchable" in new.en
    assert "\n" not in new.ja + new.en
    # the disk is still full: searches and answers work, the old version answers, no chunk of the new one is left
    _old_version_answers(rt, old.doc_id)
    assert rt.store.orphans() == {}
    assert [r.doc_id for r in rt.documents()] == [old.doc_id]
    (again,) = _ingest(rt, ("guide.pdf", NEW))
    assert again.code == "disk_full" and "空き容量が足りません" in again.ja  # refused before writing this time
    _old_version_answers(rt, old.doc_id)
    # a fresh process (the next CLI command) searches too
    fresh = _service(small_disk)
    _old_version_answers(fresh, old.doc_id)

    filled[0].unlink()  # space freed: the new version goes in, nothing left over
    (done,) = _ingest(rt, ("guide.pdf", NEW))
    assert done.status == "replaced"
    assert assert_intact(rt) == {done.doc_id: 400}


def test_orphans_wait_for_room_and_searches_keep_working_meanwhile(small_disk):
    rt = _service(small_disk)
    (old,) = _ingest(rt, ("guide.pdf", long_pdf(30, "旧版")))
    # chunks of a version that never became active (a killed ingest), then a full disk
    from ingest.document import parse_document

    stray = parse_document(long_pdf(300, "書きかけ"), "guide.pdf")
    rt.store.add_chunks(stray.chunks, HashEmbedder().embed_documents([c.text for c in stray.chunks]))
    (small_disk / "data" / RESERVE_NAME).unlink()
    filler = _fill(small_disk, leave=64 * 1024)
    with rt.library.writing():  # no room to delete 256 chunks: they wait, and nothing is left half-applied
        pass
    assert rt.store.orphans() == {stray.doc_id: 300}
    _old_version_answers(rt, old.doc_id)
    filler.unlink()
    with rt.library.writing():
        pass
    assert rt.store.orphans() == {}
    assert assert_intact(rt) == {old.doc_id: 30}


@pytest.mark.skip(
    reason="hung once in three full runs (a futex wait inside chromadb deleting on the full 12 MB tmpfs, 9 min); "
    "skipped until that is understood, so that a hang cannot stop the whole suite"
)
def test_a_document_can_be_removed_from_a_full_disk(small_disk):
    rt = _service(small_disk)
    note_text = "第1章 森林\n間伐は41ヘクタール。".encode()
    old, note = _ingest(rt, ("guide.pdf", long_pdf(30, "旧版")), ("note.txt", note_text))
    _fill(small_disk)
    with rt.library.writing():
        rt.library.remove("note.txt")
    assert [r.source for r in rt.documents()] == ["guide.pdf"]
    assert note.doc_id not in rt.store.chunk_doc_ids()
    _old_version_answers(rt, old.doc_id)


def test_a_full_disk_is_told_from_other_errors():
    full = OSError(errno.ENOSPC, "No space left on device")
    assert is_disk_full(full, free=10**9)
    wrapped = RuntimeError("copy failed")
    wrapped.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert is_disk_full(wrapped, free=10**9)
    chroma_like = RuntimeError("Error in compaction: Failed to apply logs to the metadata segment")
    assert is_disk_full(chroma_like, free=RESERVE_BYTES - 1)  # Chroma's only sign of it is the free space
    assert not is_disk_full(chroma_like, free=RESERVE_BYTES * 10)
    assert not is_disk_full(KeyboardInterrupt(), free=0)


# --- read-only stores ---------------------------------------------------------------------------------
@pytest.fixture
def read_only_store(tmp_path):
    """A store written by the CLI, then served through a read-only bind mount (root ignores file permissions,
    so chmod would test nothing: the mount refuses every write, Chroma's included)."""
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(long_pdf(30, "旧版"))
    assert run(tmp_path, "ingest", str(pdf)).returncode == 0
    ro = tmp_path / "ro"
    with _mounted(ro, "--bind", str(tmp_path / "data")):
        _mount("-o", "remount,bind,ro", str(ro))
        with pytest.raises(OSError):
            (ro / "probe").touch()
        yield ro


def _read_only_copies() -> set[str]:
    return {p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).iterdir() if p.name.startswith("policyqa-ro-")}


def test_a_store_on_a_read_only_mount_is_served_by_the_cli(read_only_store, tmp_path):
    env = {"POLICYQA_DATA_DIR": str(read_only_store), "POLICYQA_READ_ONLY": "1"}
    # another process (an app being tested at the same time, one killed earlier) may hold a copy of its own
    before = _read_only_copies()
    sources = run(tmp_path, "sources", "--json", **env)
    assert sources.returncode == 0, sources.stderr
    assert [r["source"] for r in json.loads(sources.stdout)] == ["guide.pdf"]
    search = run(tmp_path, "search", "旧版の規定その7", "--k", "3", "--json", **env)
    assert search.returncode == 0, search.stderr
    assert "旧版の第7条" in json.loads(search.stdout)[0]["text"]
    ask = run(tmp_path, "ask", "旧版の第7条は何について定めていますか", "--json", **env)
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["citations"]
    for flag in ("1", "0"):  # with or without POLICYQA_READ_ONLY, a write is refused with a reason
        refused = run(tmp_path, "ingest", str(tmp_path / "guide.pdf"), **{**env, "POLICYQA_READ_ONLY": flag})
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert "読み取り専用" in refused.stderr
    assert _read_only_copies() <= before  # every copy these commands made is removed


def test_a_store_on_a_read_only_mount_is_served_by_the_app(read_only_store, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(read_only_store))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    monkeypatch.setenv("POLICYQA_READ_ONLY", "1")
    monkeypatch.delenv("POLICYQA_ADMIN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.chat_input[0].set_value("旧版の第7条は何について定めていますか").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")  # the page escapes Markdown: \[1\]
    assert "旧版の第7条" in shown and "[1]" in shown
