"""OCR at ingest: scanned (image-only) and garbled pages are read by RapidOCR's bundled models, their chunks are
marked `ocr`, `--no-ocr` lists them as needing OCR as before, and a page OCR cannot read is reported while the
rest of the file is stored. Real PDFs generated here (a Japanese font drawn into page images), real Chroma."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from helpers import ROOT, finish_ingest, run

from ingest.ocr import Box, model_paths, order_lines
from policyqa.service import Upload
from policyqa.testing.pdfgen import PageSpec, images_pdf, japanese_font, make_pdf, text_image

FONT = japanese_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no Japanese font on this machine (fc-list :lang=ja)")
GARBLED = ROOT / "tests" / "data" / "garbled-no-tounicode.pdf"

PAGE_1 = ["第１章　森林の整備", "山里村は、間伐の協定を令和５年に結びました。", "協定の期間は十年間とします。"]
PAGE_2 = ["第２章　報告", "事業者は、吸収量の実績を毎年六月末日までに報告します。"]


def _scan(*pages: list[str]) -> bytes:
    return images_pdf([text_image(lines, FONT) for lines in pages])


def _ingest(rt, name: str, data: bytes):
    return next(rt.ingest([Upload(name, data=data)]))


def _stored(rt, doc_id: str) -> list[dict]:
    return rt.store.chunks.get(where={"doc_id": doc_id}, include=["metadatas", "documents"])


def test_rows_read_top_to_bottom_cells_left_to_right():
    boxes = [
        Box("座長", 700, 205, 780, 235),  # a table row's cells, detected out of order and not quite level
        Box("今福芳明", 100, 200, 260, 232),
        Box("港区", 400, 203, 470, 233),
        Box("氏名", 100, 150, 170, 180),
        Box("第１章", 100, 50, 220, 85),
    ]
    assert order_lines(boxes) == ["第１章", "氏名", "今福芳明 港区 座長"]


def test_vertical_lines_read_right_to_left_where_they_stand():
    # 縦書き: tall boxes, the first line at the right; a horizontal title above, a caption below
    boxes = [
        Box("二行目です", 300, 200, 340, 600),
        Box("一行目です", 360, 200, 400, 600),
        Box("三行目", 240, 200, 280, 480),
        Box("表題", 100, 100, 300, 140),
        Box("注記", 100, 700, 200, 730),
    ]
    assert order_lines(boxes) == ["表題", "一行目です", "二行目です", "三行目", "注記"]


@needs_font
def test_a_vertical_page_is_read_right_to_left_each_line_top_to_bottom():
    from ingest.ocr import ocr_page, open_document

    lines = [
        "東京都の排出量取引制度は二〇一〇年度に始まりました。",
        "対象は大規模な事業所で、削減義務が課されます。",
        "区市町村は、森林の吸収量を活用できます。",
    ]
    document = open_document(images_pdf([text_image(lines, FONT, vertical=True)]))
    try:
        assert ocr_page(document, 0).splitlines() == lines
    finally:
        document.close()


def test_bundled_models_are_the_pinned_files():
    manifest = json.loads((ROOT / "ingest" / "rapidocr-3.10.0.json").read_text(encoding="utf-8"))
    paths = model_paths()
    assert {role: p.name for role, p in paths.items()} == {r: m["name"] for r, m in manifest["files"].items()}


@needs_font
def test_scanned_pdf_is_read_by_ocr_and_found_by_search(runtime):
    result = _ingest(runtime, "scan.pdf", _scan(PAGE_1, PAGE_2))
    assert result.status == "added" and result.skipped == (), result
    got = _stored(runtime, result.doc_id)
    assert got["metadatas"] and all(m.get("ocr") is True for m in got["metadatas"])
    hit = runtime.search("吸収量の実績はいつまでに報告しますか", k=1, mode="keyword")[0]
    assert "六月末日" in hit.chunk.text and hit.chunk.page == 2 and hit.chunk.ocr
    answer = runtime.ask("間伐の協定はいつ結びましたか")
    cited = [c for c in answer.citations if "令和5年" in c.passage or "令和５年" in c.passage]
    assert cited and all(c.ocr for c in cited), answer


@needs_font
def test_text_pages_are_not_marked_ocr_and_scanned_pages_in_the_same_file_are(runtime):
    result = _ingest(runtime, "mixed.pdf", _with_text_page(_scan(PAGE_2)))
    assert result.status == "added" and result.skipped == ()
    got = _stored(runtime, result.doc_id)
    by_page = {m["page"]: bool(m.get("ocr")) for m in got["metadatas"]}
    assert by_page == {1: False, 2: True}


def test_garbled_font_pages_are_read_by_ocr(runtime):
    # the font has no Unicode map: the text layer is control characters, the drawn glyphs are fine
    result = _ingest(runtime, "garbled.pdf", GARBLED.read_bytes())
    assert result.status == "added" and result.skipped == (), result
    texts = _stored(runtime, result.doc_id)["documents"]
    assert any("カーボン・オフセットの手続について説明します" in t for t in texts), texts


@needs_font
def test_no_ocr_lists_scanned_pages_as_needing_ocr(tmp_path):
    (tmp_path / "scan.pdf").write_bytes(_scan(PAGE_1))
    (tmp_path / "mixed.pdf").write_bytes(
        make_pdf([PageSpec(lines=["第１章　概要", "文字のある頁です。"]), PageSpec(image_only=True)])
    )
    out = run(tmp_path, "ingest", "--no-ocr", str(tmp_path / "scan.pdf"), str(tmp_path / "mixed.pdf"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "✗ scan.pdf:" in out.stdout and "[scanned: scanned image-only PDF: needs OCR]" in out.stdout
    assert "skipped pages 2 (image_only)" in out.stdout
    off = run(tmp_path, "ingest", str(tmp_path / "scan.pdf"), POLICYQA_OCR="0")
    assert off.returncode == 2 and "needs OCR" in off.stdout
    on = run(tmp_path, "ingest", str(tmp_path / "scan.pdf"))
    assert on.returncode == 0 and "✓ scan.pdf: added" in on.stdout, on.stdout + on.stderr


def _with_text_page(scan: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (make_pdf([PageSpec(lines=["第１章　概要", "文字のある一頁目は、そのまま読み取ります。"])]), scan):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@needs_font
def test_a_page_ocr_cannot_read_is_reported_and_the_rest_stored(runtime):
    from pypdf import PdfReader, PdfWriter

    # page 2 is a picture without any text (a photo, a map): OCR finds nothing on it
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_scan(PAGE_1, [], PAGE_2))))
    writer.pages[1].merge_page(PdfReader(io.BytesIO(make_pdf([PageSpec(image_only=True)]))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    result = _ingest(runtime, "partly.pdf", out.getvalue())
    assert result.status == "added", result
    assert [(s.number, s.reason) for s in result.skipped] == [(2, "ocr_no_text")]
    assert {m["page"] for m in _stored(runtime, result.doc_id)["metadatas"]} == {1, 3}


@needs_font
def test_damaged_ocr_models_fail_the_scanned_pages_only(runtime, tmp_path, monkeypatch):
    """The installed recognition model is damaged: a copy of the rapidocr package whose model file is cut short
    comes first on the path of the process that reads PDFs (ingest.isolated), as a broken install would."""
    import shutil
    from importlib.util import find_spec

    installed = Path(next(iter(find_spec("rapidocr").submodule_search_locations)))
    broken = tmp_path / "site" / "rapidocr"
    shutil.copytree(installed, broken, copy_function=os.symlink)  # links to the real files…
    model = broken / "models" / "PP-OCRv6_rec_small.onnx"
    data = model.read_bytes()
    model.unlink()
    model.write_bytes(data[: len(data) // 2])  # …but this one, cut in half
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))

    mixed = _ingest(runtime, "mixed.pdf", _with_text_page(_scan(PAGE_2)))
    assert mixed.status == "added" and [(s.number, s.reason) for s in mixed.skipped] == [(2, "ocr_failed")]
    before = runtime.store.chunks.count()
    scan = _ingest(runtime, "scan.pdf", _scan(PAGE_1))
    assert scan.status == "failed" and scan.code == "ocr_failed", scan
    assert "PP-OCRv6_rec_small.onnx" in scan.en and "OCRモデル" in scan.ja
    assert runtime.store.chunks.count() == before and "scan.pdf" not in {r.source for r in runtime.documents()}


@needs_font
def test_the_app_reads_an_uploaded_scan_and_its_card_says_ocr(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    for key in ("POLICYQA_READ_ONLY", "POLICYQA_ADMIN_PASSWORD", "POLICYQA_OCR"):
        monkeypatch.delenv(key, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)  # OCR takes seconds per page
    at.run()
    at.switch_page("views/library.py").run()
    at.file_uploader[0].upload("scan.pdf", _scan(PAGE_1, PAGE_2), "application/pdf")
    at.run()
    [b for b in at.button if b.label == "取り込む"][0].click().run()
    finish_ingest(at, timeout=300)  # the upload runs in the background (policyqa.service.IngestJob)
    assert not at.exception and not at.error, [e.value for e in at.error]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.chat_input[0].set_value("吸収量の実績はいつまでに報告しますか？").run()
    assert not at.exception
    answer = at.session_state["turns"][-1]["answer"]
    assert answer.citations and all(c.ocr for c in answer.citations), answer
    assert "OCRで読み取った頁" in [c.value for c in at.caption]
