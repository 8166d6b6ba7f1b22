"""Japanese test PDFs generated at test time with reportlab's built-in CID font (no font file needed).

Pages carry what real government PDFs have: a running header, a `資料－N` footer, headings, prose wrapped
mid-sentence at a fixed width, a table drawn cell by cell, fullwidth digits and a letter-spaced line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

FONT = "HeiseiMin-W3"
WRAP = 38  # characters per line: wraps sentences mid-way, as narrow A4 columns do


@dataclass
class PageSpec:
    lines: list[str] = field(default_factory=list)  # body lines; long ones are wrapped at WRAP
    table: list[list[str]] = field(default_factory=list)  # rows of cells, drawn in columns
    image_only: bool = False


def _canvas(buf, title: str | None, encrypt=None):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt, invariant=1)  # same input, same bytes
    if title:
        c.setTitle(title)
    return c, A4


def _wrap(line: str) -> list[str]:
    return [line[i : i + WRAP] for i in range(0, len(line), WRAP)] or [""]


def make_pdf(
    pages: list[PageSpec], header: str = "テスト用ガイドライン　令和５年版", title: str | None = None
) -> bytes:
    buf = io.BytesIO()
    c, (width, height) = _canvas(buf, title)
    for number, spec in enumerate(pages, start=1):
        if spec.image_only:
            _draw_image(c, width, height)
            c.showPage()
            continue
        c.setFont(FONT, 9)
        c.drawString(60, height - 40, header)
        c.drawCentredString(width / 2, 30, f"資料－{number}")
        c.setFont(FONT, 10.5)
        y = height - 80
        for line in spec.lines:
            for part in _wrap(line):
                c.drawString(60, y, part)
                y -= 16
        for row in spec.table:
            # one text run per row with wide gaps, as word processors export tables
            c.drawString(60, y, "\u3000\u3000".join(row))
            y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


def _draw_image(c, width, height) -> None:
    from reportlab.lib.utils import ImageReader

    c.drawImage(ImageReader(_png()), 60, height / 2, width=200, height=100)


def _png() -> io.BytesIO:
    from PIL import Image

    img = Image.new("RGB", (200, 100), (40, 90, 160))
    out = io.BytesIO()
    img.save(out, format="PNG")
    out.seek(0)
    return out


def sample_guideline() -> bytes:
    """A 5-page guideline with one fact per page that tests can search for."""
    pages = [
        PageSpec(
            lines=[
                "第１章　制度の概要",
                "（１）目的",
                "この指針は、区市町村が実施するカーボン・オフセットの手続を定めるものであり、温室効果ガスの"
                "排出削減に向けた取組を促進することを目的とします。",
            ]
        ),
        PageSpec(
            lines=[
                "（２）対象となるクレジット",
                "対象となるクレジットは、Ｊ－ＶＥＲ及びＪ－クレジットとし、令和５年４月１日以降に発行された"
                "ものに限ります。",
                "カ ー ボ ン 単 位",
            ]
        ),
        PageSpec(
            lines=["第２章　申請の手続", "（１）申請期限"],
            table=[["区分", "申請期限", "提出先"], ["森林吸収", "毎年１０月３１日", "環境政策課"]],
        ),
        PageSpec(
            lines=[
                "（２）審査",
                "審査委員会は、申請書類の受付から６０日以内に審査結果を通知するものとします。",
            ]
        ),
        PageSpec(
            lines=[
                "第３章　報告",
                "事業者は、オフセットの実績を翌年度の６月末日までに報告しなければなりません。",
            ]
        ),
    ]
    return make_pdf(pages, title="区市町村カーボン・オフセット手続指針")


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def parse_text_document(text: str) -> tuple[str, str, list[PageSpec]]:
    """Read the evaluation corpus format: `# title:` / `# header:` lines, `=== page` separators,
    table rows as `| cell | cell |`, everything else a body line."""
    title, header, pages = "", "", []
    for line in text.splitlines():
        if line.startswith("# title:"):
            title = line.split(":", 1)[1].strip()
        elif line.startswith("# header:"):
            header = line.split(":", 1)[1].strip()
        elif line.strip() == "=== page":
            pages.append(PageSpec())
        elif line.startswith("|"):
            pages[-1].table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif line.strip():
            if pages[-1].table:  # body text after a table starts a new block below it
                pages.append(PageSpec())
            pages[-1].lines.append(line)
    return title, header, pages


def render_text_document(text: str) -> bytes:
    title, header, pages = parse_text_document(text)
    return make_pdf(pages, header=header, title=title)


def long_pdf(pages: int, topic: str = "改訂版") -> bytes:
    """A long guideline: every page a numbered section with a few sentences (for size and crash tests)."""
    specs = [
        PageSpec(
            lines=[
                f"第{i}章　{topic}の規定その{i}",
                f"{topic}の第{i}条は、区市町村が行うカーボン・オフセットの手続のうち、"
                f"第{i}番目の事項について定めるものです。" * 3,
            ]
        )
        for i in range(1, pages + 1)
    ]
    return make_pdf(specs, title=f"{topic}ガイドライン")


def garbled_pdf(font_path: str = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf") -> bytes:
    """A 3-page PDF whose embedded font has no Unicode map: extraction yields control characters and no
    error (how tests/data/garbled-no-tounicode.pdf was made)."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("IPAGothic", font_path))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    for i in range(1, 4):
        c.setFont("IPAGothic", 12)
        c.drawString(60, 700, f"カーボン・オフセットの手続について説明します。第{i}頁")
        c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    for page in writer.pages:
        for font in page["/Resources"]["/Font"].values():
            font.get_object().pop("/ToUnicode", None)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------
# tables as word processors and report generators draw them (tests of ingest.tables)


def _paragraph(text: str, size: float = 10.5):
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    return Paragraph(text, ParagraphStyle("p", fontName=FONT, fontSize=size, leading=size * 1.5, wordWrap="CJK"))


def ruled_table_pdf(
    rows: list[list[str]],
    before: list[str] | tuple[str, ...] = (),
    after: list[str] | tuple[str, ...] = (),
    spans: list[tuple[int, int, int]] | tuple = (),
    repeat_header: bool = False,
) -> bytes:
    """A platypus table with a full grid of rules, paragraphs `before` and `after` it. A "\\n" in a cell
    is a line break inside the cell; `spans` are (column, first row, last row) cells merged down; a table
    too long for one page flows onto the next ones, with the header row repeated when `repeat_header`."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    style = [("FONT", (0, 0), (-1, -1), FONT, 9), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]
    style += [("VALIGN", (0, 0), (-1, -1), "TOP")]
    style += [("SPAN", (col, first), (col, last)) for col, first, last in spans]
    story = [_paragraph(t) for t in before]
    story.append(Table(rows, style=TableStyle(style), repeatRows=int(repeat_header)))
    story += [_paragraph(t) for t in after]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=1).build(story)
    return buf.getvalue()


def positioned_table_pdf(
    rows: list[list[str]],
    xs: list[float],
    before: list[str] | tuple[str, ...] = (),
    after: list[str] | tuple[str, ...] = (),
    ruled: bool = False,
    per_cell: bool = False,
    beside: str | None = None,
) -> bytes:
    """One page: lines `before`, then each row's cells at the x positions `xs` (empty cells left out, no
    rules unless `ruled`), then lines `after`. A row is one text object with the cursor moved from cell to
    cell (pypdf reads it as one line), or with `per_cell` one text object per cell (one line per cell).
    `beside` is drawn on the first row's baseline right of the table: prose sharing a line with it."""
    buf = io.BytesIO()
    c, (_width, height) = _canvas(buf, None)
    c.setFont(FONT, 10.5)
    y, step, right = height - 80, 18, xs[-1] + 110
    for line in before:
        c.drawString(60, y, line)
        y -= step
    top = y + 13
    for k, row in enumerate(rows):
        cells = [(x, cell) for x, cell in zip(xs, row, strict=False) if cell]
        if k == 0 and beside:
            cells.append((right + 10, beside))
        if per_cell:
            for x, cell in cells:
                c.drawString(x, y, cell)
        else:
            text, last = c.beginText(cells[0][0], y), cells[0][0]
            text.setFont(FONT, 10.5)
            for x, cell in cells:
                text.moveCursor(x - last, 0)
                text.textOut(cell)
                last = x
            c.drawText(text)
        y -= step
    if ruled:
        c.setLineWidth(0.5)
        c.grid([x - 4 for x in xs] + [right], [top - step * k for k in range(len(rows) + 1)])
    y -= 6
    for line in after:
        c.drawString(60, y, line)
        y -= step
    c.showPage()
    c.save()
    return buf.getvalue()


# --- hostile files, written object by object (reportlab writes one content stream per page) -------------
def _raw_pdf(page_contents: list[int], streams: list[bytes]) -> bytes:
    """A PDF whose page i draws the already deflated stream `streams[page_contents[i]]` in Helvetica: pages
    may share one stream, as a hostile file does to multiply the work of reading it."""
    first_stream, first_page = 4, 4 + len(streams)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (first_page + i) for i in range(len(page_contents))), len(page_contents)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    objs += [b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(z), z) for z in streams]
    objs += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
        b" /Contents %d 0 R >>" % (first_stream + c)
        for c in page_contents
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _text_stream(text: str, repeat: int = 1) -> bytes:
    import zlib

    ops = b"BT /F1 12 Tf 72 720 Td " + b"(%s) Tj " % text.encode("ascii") * repeat + b"ET"
    return zlib.compress(ops, 9)


def shared_stream_pdf(pages: int, stream_kb: int) -> bytes:
    """`pages` pages that all draw one content stream of about `stream_kb` KB of text operators: a few KB of
    file for any number of pages, each as slow to read as that stream is long (about 10 s per MB)."""
    op = b"(Offset credit) Tj "
    return _raw_pdf([0] * pages, [_text_stream("Offset credit", max(1, stream_kb * 1024 // len(op)))])


def bomb_pdf(expanded_mb: int = 80) -> bytes:
    """A first page of text, then a page whose content stream deflates from about 80 KB to `expanded_mb` MB of
    spaces: past pypdf's 75 MB decoding limit by default (a decompression bomb)."""
    import zlib

    squeeze = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    bomb = b"".join(squeeze.compress(block) for _ in range(expanded_mb)) + squeeze.flush()
    return _raw_pdf([0, 1], [_text_stream("Carbon offset guideline, page one."), bomb])


# ----------------------------------------------------------------------------------------------
# scanned (image-only) pages, for OCR tests and the OCR benchmark


def japanese_font() -> str | None:
    """A Japanese TrueType/OpenType font of this machine (`fc-list :lang=ja`), or None when it has none."""
    import shutil
    import subprocess

    if not shutil.which("fc-list"):
        return None
    out = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False).stdout
    files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    return next((f for f in files if f.endswith((".ttf", ".otf"))), None)


def text_image(lines: list[str], font_path: str, size=(1240, 1754), font_px: int = 30, vertical: bool = False):
    """A white A4 page at 150 dpi with `lines` drawn in black: rows from the top, or (vertical) columns from the
    right, one character under the other, as 縦書き is set."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path, font_px)
    step = int(font_px * 1.6)
    for i, line in enumerate(lines):
        if vertical:
            x = size[0] - 150 - i * step
            for j, char in enumerate(line):
                draw.text((x, 120 + j * int(font_px * 1.1)), char, font=font, fill=0)
        else:
            draw.text((120, 120 + i * step), line, font=font, fill=0)
    return image


def images_pdf(images) -> bytes:
    """Pages that are nothing but an image each (what a scanner produces), as JPEG at 150 dpi."""
    out = io.BytesIO()
    first, *rest = [im.convert("RGB") for im in images]
    first.save(out, format="PDF", save_all=True, append_images=rest, resolution=150.0, quality=85)
    return out.getvalue()


def scan_copy(data: bytes, dpi: int = 200) -> bytes:
    """An image-only copy of a PDF: every page rendered (pypdfium2) in greyscale and saved as a JPEG page,
    as an office scanner does; the text layer is gone."""
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(data)
    try:
        images = [Image.fromarray(page.render(scale=dpi / 72, grayscale=True).to_numpy()) for page in document]
    finally:
        document.close()
    out = io.BytesIO()
    first, *rest = images
    first.save(out, format="PDF", save_all=True, append_images=rest, resolution=float(dpi), quality=85)
    return out.getvalue()
