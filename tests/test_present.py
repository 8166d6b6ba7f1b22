from helpers import HITS

from answer.extractive import compose
from policyqa.present import escape_md, export_markdown, highlighted_passage, page_pdf
from policyqa.testing.pdfgen import sample_guideline


def test_document_text_is_escaped():
    passage = "<script>alert(1)</script> [罠](http://evil.example) **太字**"
    html_out = highlighted_passage(passage, ((0, 8),))
    assert "<script>" not in html_out and "&lt;script&gt;" in html_out
    assert html_out.count("<mark>") == 1
    md = escape_md(passage)
    assert "\\[罠\\]\\(http://evil\\.example\\)" in md and "\\*\\*太字\\*\\*" in md and "\\<script\\>" in md


def test_export_writes_citations_as_title_and_page():
    answer = compose("審査結果は何日以内に通知されますか？", HITS)
    md = export_markdown([{"question": "審査結果は何日以内？", "answer": answer}])
    assert "## 質問: 審査結果は何日以内？" in md
    assert "[1] 指針・4頁" in md and "60日以内" in md


def test_page_pdf_cuts_out_one_page(tmp_path):
    from io import BytesIO

    from pypdf import PdfReader

    path = tmp_path / "g.pdf"
    path.write_bytes(sample_guideline())
    one = page_pdf(path, 4)
    reader = PdfReader(BytesIO(one))
    assert len(reader.pages) == 1 and "60日以内" in reader.pages[0].extract_text().replace("６０", "60")
    assert page_pdf(path, 99) is None
