"""Bad input never loses data and always gets a clear answer: every kind through the CLI and the app's
upload, with the store checked afterwards (same documents, same chunk counts, vectors find themselves)."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import POLICYQA, assert_intact, finish_ingest
from streamlit.testing.v1 import AppTest

from index.embedder import HashEmbedder
from policyqa.service import Service
from policyqa.settings import Settings
from policyqa.testing.pdfgen import (
    PageSpec,
    bomb_pdf,
    encrypt_pdf,
    long_pdf,
    make_pdf,
    sample_guideline,
    shared_stream_pdf,
)

ROOT = Path(__file__).resolve().parents[1]
GARBLED = ROOT / "tests" / "data" / "garbled-no-tounicode.pdf"  # made by pdfgen.garbled_pdf()


def bad_files() -> dict[str, tuple[bytes, str]]:
    """name → (bytes, expected reason code) for files that must be refused."""
    good = sample_guideline()
    return {
        "empty.pdf": (b"", "empty"),
        "truncated.pdf": (good[: len(good) // 2], "truncated"),
        "notes.pdf": ("これはPDFではありません。".encode(), "not_pdf"),
        "page.pdf": (b"<!DOCTYPE html><html><head><title>x</title></head><body>x</body></html>", "html"),
        "locked.pdf": (encrypt_pdf(good, user_password="secret"), "encrypted"),
        "scan.pdf": (make_pdf([PageSpec(image_only=True)] * 2), "scanned"),
        "garbled.pdf": (GARBLED.read_bytes(), "garbled"),
        "big.pdf": (b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024), "too_large"),
        "bomb.pdf": (bomb_pdf(), "decompression_bomb"),
        "shared-stream.pdf": (shared_stream_pdf(1000, 2048), "over_budget"),  # hours of reading before
    }


def good_files() -> dict[str, bytes]:
    text = "第1章 森林整備\n山里村の森林整備の協定について説明します。"
    return {
        "owner-only.pdf": encrypt_pdf(sample_guideline(), user_password=""),
        "mixed.pdf": make_pdf(
            [
                PageSpec(lines=["第1章 混在", "文字のある一頁目です。"]),
                PageSpec(image_only=True),
                PageSpec(lines=["第2章 続き", "文字のある三頁目です。"]),
            ]
        ),
        "long-300.pdf": long_pdf(300),
        "指針（改定）.pdf": make_pdf([PageSpec(lines=["第1章 日本語の名前", "日本語のファイル名の資料です。"])]),
        "sjis.txt": text.replace("森林整備", "間伐").encode("cp932"),
        "bom.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
    }


def _env(data):
    # OCR off: scan.pdf and garbled.pdf stand for what cannot be read without it (tests/test_ocr.py reads them)
    return {
        **os.environ,
        "POLICYQA_DATA_DIR": str(data),
        "POLICYQA_EMBED_MODEL": "policyqa-hash",
        "POLICYQA_UPLOAD_LIMIT_MB": "1",
        "POLICYQA_OCR": "0",
    }


def _open(data):
    return Service(Settings.from_env({"POLICYQA_DATA_DIR": str(data)}), HashEmbedder())


@pytest.fixture
def base_store(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "guide.pdf").write_bytes(sample_guideline())
    subprocess.run([POLICYQA, "ingest", str(tmp_path / "guide.pdf")], env=_env(data), check=True, capture_output=True)
    return data


def test_bad_files_through_the_cli_leave_the_store_as_it_was(tmp_path, base_store):
    before = assert_intact(_open(base_store))
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, (data, _) in bad_files().items():
        (folder / name).write_bytes(data)
    out = subprocess.run([POLICYQA, "ingest", str(folder)], env=_env(base_store), capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    for name, (_, code) in bad_files().items():
        assert f"✗ {name}:" in out.stdout and f"[{code}:" in out.stdout, (name, out.stdout)
    assert f"summary: failed {len(bad_files())}" in out.stdout
    assert assert_intact(_open(base_store)) == before

    unlocked = subprocess.run(
        [POLICYQA, "ingest", "--password", "secret", str(folder / "locked.pdf")],
        env=_env(base_store),
        capture_output=True,
        text=True,
    )
    assert unlocked.returncode == 0 and "✓ locked.pdf: added" in unlocked.stdout


def test_awkward_but_valid_files_through_the_cli(tmp_path, base_store):
    folder = tmp_path / "good"
    folder.mkdir()
    for name, data in good_files().items():
        (folder / name).write_bytes(data)
    out = subprocess.run([POLICYQA, "ingest", str(folder)], env=_env(base_store), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    listed = {
        r["source"]: r
        for r in json.loads(
            subprocess.run([POLICYQA, "sources", "--json"], env=_env(base_store), capture_output=True, text=True).stdout
        )
    }
    assert listed["long-300.pdf"]["chunk_count"] == 300
    assert listed["mixed.pdf"]["skipped"] == [{"number": 2, "reason": "image_only"}]
    assert "指針（改定）.pdf" in listed and "sjis.txt" in listed and "bom.txt" in listed
    assert listed["owner-only.pdf"]["chunk_count"] == 5
    rt = _open(base_store)
    assert_intact(rt)
    assert "間伐" in rt.searcher.search("山里村の間伐", k=1, mode="keyword")[0].chunk.text


def test_bad_uploads_through_the_app_and_file_names_stay_inside_the_data_dir(tmp_path, base_store, monkeypatch):
    for key, value in _env(base_store).items():
        monkeypatch.setenv(key, value)
    before = assert_intact(_open(base_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/library.py").run()
    for name, (data, _) in bad_files().items():
        at.file_uploader[0].upload(name, data, "application/pdf")
    at.run()
    finish_ingest([b for b in at.button if b.label == "取り込む"][0].click().run())
    errors = [e.value for e in at.error]
    assert len(errors) == len(bad_files()) and all("取り込めませんでした" in e for e in errors)
    assert any("大きすぎます" in e for e in errors) and any("パスワード" in e for e in errors)
    assert assert_intact(_open(base_store)) == before

    names = ["../../outside.pdf", "a/b\\c.pdf", "ctl\x07\x1bname.pdf", "あ" * 210 + ".pdf", "<script>x</script>.pdf"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/library.py").run()
    for i, name in enumerate(names):
        at.file_uploader[0].upload(
            name, make_pdf([PageSpec(lines=[f"第{i + 1}章 名前", f"資料{i}の本文です。"])]), "application/pdf"
        )
    at.run()
    finish_ingest([b for b in at.button if b.label == "取り込む"][0].click().run())
    assert len(at.success) == len(names)
    assert not (base_store.parent / "outside.pdf").exists()
    stored = sorted(p.name for p in (base_store / "files").iterdir())
    assert all(len(n) == 64 + 4 and n.endswith(".pdf") for n in stored)  # <sha256>.pdf, whatever the upload name
    sources = {r.source for r in _open(base_store).store.documents()} - {"guide.pdf"}
    assert sources == {"outside.pdf", "c.pdf", "ctlname.pdf", "あ" * 196 + ".pdf", "script>.pdf"}
    assert any(r"script\>\.pdf" in s.value for s in at.success)  # shown escaped, never as markup


@pytest.fixture
def never_opened(monkeypatch):
    """Paths added to the returned set make any open of them fail the test (a FIFO would hang it instead)."""
    import builtins
    import io

    guarded: set[str] = set()

    def guard(real):
        def opener(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and os.path.abspath(os.fspath(file)) in guarded:
                raise AssertionError(f"{file} was opened")
            return real(file, *args, **kwargs)

        return opener

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(os, "open", guard(os.open))
    return guarded


def test_files_are_checked_before_a_byte_is_read(tmp_path, never_opened):
    """FIFOs and devices are refused unopened, an 8 GB sparse file is refused by its size from stat, links
    leaving the folder are reported, and the good file in the same batch is ingested."""
    rt = _open(tmp_path / "data")  # the default 50 MB limit
    folder, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    (folder / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (folder / "guide.pdf").write_bytes(sample_guideline())
    os.mkfifo(folder / "pipe.pdf")
    with open(folder / "huge.pdf", "wb") as fh:
        fh.truncate(8 * 1024**3)  # sparse: no block written
    (elsewhere / "secret.txt").write_text("第1章 秘密\nフォルダの外の資料です。", encoding="utf-8")
    (folder / "secret.txt").symlink_to(elsewhere / "secret.txt")
    (folder / "sub" / "escape").symlink_to(elsewhere, target_is_directory=True)
    (folder / "sub" / "same.pdf").symlink_to(folder / "guide.pdf")  # a link inside the folder is followed
    never_opened.update(str(p) for p in (folder / "pipe.pdf", folder / "huge.pdf", elsewhere / "secret.txt"))
    never_opened.add("/dev/null")

    uploads = rt.uploads_from_paths([folder, Path("/dev/null")])
    results = {r.source: r for r in rt.ingest(uploads)}
    assert {s: (r.status, r.code) for s, r in results.items()} == {
        "guide.pdf": ("added", ""),
        "huge.pdf": ("failed", "too_large"),
        "pipe.pdf": ("failed", "not_regular"),
        "secret.txt": ("failed", "link_outside"),
        "sub/escape": ("failed", "link_outside"),
        "sub/same.pdf": ("unchanged", ""),
        "null": ("failed", "not_regular"),
    }
    assert "8192 MB" in results["huge.pdf"].en and "50 MB" in results["huge.pdf"].ja
    assert "FIFO" in results["pipe.pdf"].en and "名前付きパイプ" in results["pipe.pdf"].ja
    assert "character device" in results["null"].en
    assert "外を指すリンク" in results["secret.txt"].ja and str(elsewhere) in results["secret.txt"].en
    assert [r.source for r in rt.documents()] == ["guide.pdf"]


def test_bad_special_files_through_the_cli_get_their_reasons(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.pdf")
    (folder / "outside.pdf").symlink_to(tmp_path)
    out = subprocess.run(
        [POLICYQA, "ingest", str(folder)], env=_env(tmp_path / "data"), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "✗ pipe.pdf: 通常のファイルではないため読み込みませんでした（名前付きパイプ） [not_regular:" in out.stdout
    assert "✗ outside.pdf: 取り込むフォルダの外を指すリンクのため、読み込みませんでした [link_outside:" in out.stdout


def test_same_file_name_in_two_sub_folders_stays_two_documents(tmp_path):
    from index.library import safe_source_name

    rt = _open(tmp_path / "data")
    folder = tmp_path / "guidelines"
    for sub, days in (("a", 30), ("b", 60)):
        (folder / sub).mkdir(parents=True)
        page = PageSpec(lines=["第1章 審査", f"審査結果は受付から{days}日以内に通知します。"])
        (folder / sub / "guide.pdf").write_bytes(make_pdf([page], header=""))
    (folder / "top.txt").write_text("第1章 概要\n上の階の資料です。", encoding="utf-8")
    first = [(r.source, r.status) for r in rt.ingest(rt.uploads_from_paths([folder]))]
    assert first == [("a/guide.pdf", "added"), ("b/guide.pdf", "added"), ("top.txt", "added")]
    again = [(r.source, r.status) for r in rt.ingest(rt.uploads_from_paths([folder]))]
    assert again == [("a/guide.pdf", "unchanged"), ("b/guide.pdf", "unchanged"), ("top.txt", "unchanged")]
    assert sorted(r.source for r in rt.documents()) == ["a/guide.pdf", "b/guide.pdf", "top.txt"]
    assert [r.source for r in rt.ingest(rt.uploads_from_paths([folder / "a" / "guide.pdf"]))] == ["guide.pdf"]
    # names given directly (uploads) keep their last part only, as before; folder paths are cleaned part by part
    assert safe_source_name("a/guide.pdf") == "guide.pdf"
    assert safe_source_name("../a/./\x1bb/.hidden/guide.pdf", keep_folders=True) == "a/b/hidden/guide.pdf"
    assert safe_source_name("../..", keep_folders=True) == "document"
