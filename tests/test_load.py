"""Bad inputs built in the test: each gets a clear reason code, never a traceback."""

import pytest
from pdfgen import PageSpec, encrypt_pdf, make_pdf, sample_guideline

from ingest.document import parse_document
from ingest.load import is_garbled, read_file
from policyqa.errors import IngestError


def _code(data: bytes, name: str = "x.pdf", password=None) -> str:
    with pytest.raises(IngestError) as info:
        read_file(data, name, password)
    assert info.value.ja and info.value.en
    return info.value.code


def test_bad_files_get_reasons():
    good = sample_guideline()
    assert _code(b"") == "empty"
    assert _code(good[: len(good) // 2]) == "truncated"
    assert _code("ただのテキストです".encode()) == "not_pdf"
    assert _code(b"<!DOCTYPE html><html><body>page</body></html>") == "html"
    assert _code(good, "slides.pptx") == "unsupported"


def test_password_protected_pdf_needs_the_password():
    locked = encrypt_pdf(sample_guideline(), user_password="secret")
    assert _code(locked) == "encrypted"
    assert _code(locked, password="wrong") == "wrong_password"
    doc = parse_document(locked, "locked.pdf", password="secret")
    assert any("60日以内" in c.text for c in doc.chunks)


def test_aes_owner_only_pdf_ingests_without_a_password():
    doc = parse_document(encrypt_pdf(sample_guideline(), user_password=""), "owner-only.pdf")
    assert doc.page_count == 5 and len(doc.chunks) == 5


def test_image_only_pages_are_reported_and_text_pages_kept():
    mixed = make_pdf(
        [
            PageSpec(lines=["第1章 概要", "本文の一頁目です。"]),
            PageSpec(image_only=True),
            PageSpec(lines=["第2章 手続", "本文の三頁目です。"]),
        ]
    )
    doc = parse_document(mixed, "mixed.pdf")
    assert [(s.number, s.reason) for s in doc.skipped] == [(2, "image_only")]
    assert {c.page for c in doc.chunks} == {1, 3}
    assert _code(make_pdf([PageSpec(image_only=True)] * 2)) == "scanned"


def test_garbled_text_is_detected():
    assert is_garbled("\x00\x01\x02\x03本文")
    assert not is_garbled("カーボン・オフセットの手続について。")


def test_text_files_in_shift_jis_and_utf8_bom():
    text = "第1章 概要\n区市町村のカーボン・オフセット手続について説明します。"
    for data in (text.encode("cp932"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        doc = parse_document(data, "notes.txt")
        assert doc.chunks[0].text.startswith("第1章 概要")
        assert doc.title == "第1章 概要"


def test_pdf_title_page_labels_and_cleaning():
    doc = parse_document(sample_guideline(), "guide.pdf")
    assert doc.title == "区市町村カーボン・オフセット手続指針"
    texts = "\n".join(c.text for c in doc.chunks)
    assert "テスト用ガイドライン" not in texts and "資料-" not in texts  # running header, footer
    assert "令和5年4月1日以降に発行されたものに限ります。" in texts  # line joined, fullwidth folded
    assert "カーボン単位" in texts  # letter spacing undone
    assert doc.chunks[2].heading == "第2章 申請の手続 > (1)申請期限"
    assert [c.page_label for c in doc.chunks] == ["1", "2", "3", "4", "5"]
