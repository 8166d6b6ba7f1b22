"""The cited page drawn with the quote marked: boxes where the quoted text stands on the page.

Where the text stands is read independently of the code under test (which uses pdfium's text layer): from
pypdf's text runs and their positions, and from the pixels of the rendered image.
"""

from __future__ import annotations

import io

import pytest
from helpers import yellow_pixels
from PIL import Image

from ingest.pageview import SCALE, match_ranges, quote_page, quote_parts
from policyqa.service import Upload
from policyqa.testing.pdfgen import PageSpec, encrypt_pdf, make_pdf, sample_guideline

A4_HEIGHT = 841.89


def _ingest(service, name: str, data: bytes) -> None:
    results = list(service.ingest([Upload(name, data)]))
    assert results[0].status == "added", results


def _baseline_of(data: bytes, page: int, text: str) -> float:
    """PDF y of the text run that starts with `text`, found by pypdf (not by pdfium)."""
    from pypdf import PdfReader

    found: list[float] = []

    def visit(run, cm, tm, font, size):
        if run.startswith(text):
            found.append(tm[5])

    PdfReader(io.BytesIO(data)).pages[page - 1].extract_text(visitor_text=visit)
    assert found, text
    return found[0]


def test_a_quoted_sentence_is_boxed_on_its_line_of_the_cited_page(runtime):
    data = sample_guideline()
    _ingest(runtime, "guideline.pdf", data)
    answer = runtime.ask("審査結果は何日以内に通知されますか？")
    citation = answer.citations[0]
    assert citation.page == 4 and "60日以内" in citation.quote

    shown = runtime.quote_page(citation)

    assert shown is not None and shown.marked
    # the sentence is one printed line: one box, on the line where pypdf finds the run
    baseline = _baseline_of(data, 4, "審査委員会は")
    line_top = (A4_HEIGHT - baseline - 12) * SCALE
    line_bottom = (A4_HEIGHT - baseline + 4) * SCALE
    (left, top, right, bottom), *rest = shown.boxes
    assert not rest
    assert top <= line_top + 6 and bottom >= line_bottom - 6, (shown.boxes, line_top, line_bottom)
    assert yellow_pixels(shown.png, shown.boxes[0]) > 500
    # and nowhere else: the heading above it is not marked
    heading = _baseline_of(data, 4, "（２）審査")
    assert all(b[3] < (A4_HEIGHT - heading) * SCALE - 4 or b[1] > (A4_HEIGHT - heading) * SCALE for b in shown.boxes)


def test_a_quoted_table_record_marks_the_cells_of_its_own_row(runtime):
    rows = [["氏名", "自治体名", "備考"], ["今福芳明", "港区", "座長"], ["増田章司", "国分寺市", "副座長"]]
    data = make_pdf([PageSpec(lines=["自治体委員会委員"], table=rows)], title="委員名簿")
    passage = "自治体委員会委員[氏名/自治体名/備考]増田章司\t国分寺市\t副座長"

    shown = quote_page(_write(runtime, data), 1, quote_parts(passage, [(0, len(passage))]))

    assert shown is not None and shown.marked
    row_y = (A4_HEIGHT - _baseline_of(data, 1, "増田章司")) * SCALE
    other_y = (A4_HEIGHT - _baseline_of(data, 1, "今福芳明")) * SCALE
    for _, top, _, bottom in shown.boxes:
        assert top <= row_y <= bottom + 6  # every box on the quoted row…
        assert not top <= other_y <= bottom  # …none on the row above


def test_whitespace_and_full_width_forms_do_not_stop_a_match():
    page = "第２条　申請は\r\n２０２３年 ４月１日から受け付ける。\r\n次の条"
    quote = "申請は2023年4月1日から受け付ける。"

    ((start, count),) = match_ranges(page, [(quote,)])

    assert page[start : start + count].startswith("申請は") and page[start + count - 1] == "。"


def test_a_page_without_the_quote_in_its_text_layer_is_shown_unmarked(runtime):
    data = make_pdf([PageSpec(image_only=True)])
    shown = quote_page(_write(runtime, data), 1, [("どこにもない文",)])
    assert shown is not None and not shown.marked
    assert Image.open(io.BytesIO(shown.png)).size == (shown.width, shown.height)
    assert yellow_pixels(shown.png, (0, 0, shown.width, shown.height)) == 0


@pytest.mark.parametrize("page", [0, 6])
def test_no_such_page_or_a_locked_file_gives_nothing_to_show(runtime, page):
    data = sample_guideline()
    assert quote_page(_write(runtime, data), page, [("審査",)]) is None
    locked = _write(runtime, encrypt_pdf(data, "secret"), "locked.pdf")
    assert quote_page(locked, 1, [("審査",)]) is None


def _write(runtime, data: bytes, name: str = "page.pdf"):
    path = runtime.settings.data_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_sentence_over_four_printed_lines_of_the_sample_report_gets_one_box_per_line():
    """The sample's justified lines come from pdfium as a dozen runs each;
    the official sees one box per line, stacked, none overlapping."""
    from helpers import SAMPLE_PDF

    sentence = (
        "2008(平成20)年3月には、京都議定書目標達成計画(改定)を閣議決定し、京都議定書の日本の6%削減約束の達成と"
        "温室効果ガスのさらなる長期的・継続的かつ大幅な排出削減に向けて、生活の豊かさの実感と温室効果ガス排出削減が"
        "同時に達成できる低炭素社会※の実現につながる各種の対策・施策が示されました。"
    )
    shown = quote_page(SAMPLE_PDF, 9, [(sentence,)])

    assert shown is not None and len(shown.boxes) == 4
    tops = [box[1] for box in shown.boxes]
    assert tops == sorted(tops)
    assert all(upper[3] <= lower[1] + 4 for upper, lower in zip(shown.boxes, shown.boxes[1:], strict=False))
    assert all(yellow_pixels(shown.png, box) > 300 for box in shown.boxes)
