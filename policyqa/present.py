"""What the app shows, as plain functions: escaping of untrusted document text, the highlighted passage,
the cited page cut out of its PDF, Japanese labels, and the Markdown export of a conversation.

Document text and file names are untrusted: everything from a document is escaped before it is shown,
so a PDF containing `<script>` or a Markdown link renders as the characters it contains.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from pathlib import Path

SKIP_REASONS_JA = {
    "image_only": "画像のみ（OCRが必要）",
    "no_text": "文字なし",
    "garbled": "文字化け",
    "unreadable": "読み取りエラー",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&=])")
# Streamlit's Markdown goes beyond CommonMark: `:red[…]` and other directives, `:material/icon:`, `:smile:`
# shortcodes and `:streamlit:` (bare links cannot form: every `.` is escaped). Its emoji and icon rules match
# the text after backslash escapes are undone, so escaping the colon is not enough: a WORD JOINER (U+2060,
# zero width, invisible) goes after a colon that could open one of them (followed by a letter, `_ + -` or a
# colon, or by a digit-led shortcode closed by a colon as in `:100:`); other colons (10:30, 注: …) stay as
# they are.
_DIRECTIVE_COLON = re.compile(r":(?=[A-Za-z_+\-:]|\d[\w+\-]*:)")
WORD_JOINER = "\u2060"


def escape_md(text: str) -> str:
    """Escape Markdown (and the HTML Markdown allows, and Streamlit's own directives) so that text renders
    literally."""
    text = _DIRECTIVE_COLON.sub(":" + WORD_JOINER, text)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


CHECKING = "確認中"


def checking_draft(text: str) -> str:
    """A generated answer while it streams, before the checker has read it: labelled 確認中 and meant for a
    greyed caption, never the answer's own Markdown (nothing of it is known to be true yet)."""
    return escape_md(f"{CHECKING}（資料との照合前の下書き・回答ではありません / draft, not yet checked）\n{text}")


def escape_md_line(text: str) -> str:
    """escape_md for a heading or a list item: line breaks become spaces (a break would end the item)."""
    return escape_md(" ".join(text.split("\n")))


# Terminal control: CSI / OSC / other ESC sequences, then any control or bidi-override character left.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks, clipboard
    r"|\x1b[@-Z\\-_]"  # other two-character sequences
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the one-byte C1 CSI
)
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def terminal_text(text: str, keep_newlines: bool = False) -> str:
    """Document text (titles, file names, passages) fit to print on a terminal: escape sequences and control
    characters removed (an ESC in a PDF title could recolour, retitle or clear the terminal), bidi overrides
    dropped; line breaks and tabs become spaces unless `keep_newlines`."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    keep = "\n" if keep_newlines else ""
    out = []
    for ch in text:
        if ch in "\n\t\r" and ch not in keep:
            out.append(" ")
        elif ch in keep or not (unicodedata.category(ch) == "Cc" or ch in _BIDI):
            out.append(ch)
    return "".join(out)


def highlighted_passage(passage: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The passage as escaped HTML with the quoted spans wrapped in <mark>."""
    out, last = [], 0
    for start, end in sorted(spans):
        out.append(html.escape(passage[last:start]))
        out.append(f"<mark>{html.escape(passage[start:end])}</mark>")
        last = end
    out.append(html.escape(passage[last:]))
    body = "".join(out).replace("\n", "<br>")
    return f'<div style="line-height:1.7;font-size:0.95rem">{body}</div>'


def skipped_ja(skipped) -> str:
    return "、".join(f"{s.number}頁（{SKIP_REASONS_JA.get(s.reason, s.reason)}）" for s in skipped) or "なし"


def page_pdf(path: Path, page_number: int) -> bytes | None:
    """A one-page PDF holding page `page_number` (1-based) of the stored file, or None if not a PDF."""
    if path is None or path.suffix.lower() != ".pdf":
        return None
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        return None  # needs the password it was ingested with; the download still offers the file
    if not 1 <= page_number <= len(reader.pages):
        return None
    writer = PdfWriter()
    writer.add_page(reader.pages[page_number - 1])
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def export_markdown(turns: list[dict]) -> str:
    """The conversation as Markdown, citations written out as 資料名・頁 with the quoted text. Everything from
    a document or a person (questions, answer text, titles, headings, quotes) is escaped as on the page."""
    lines = ["# 質問と回答の記録", ""]
    for turn in turns:
        answer = turn["answer"]
        lines += [f"## 質問: {escape_md_line(turn['question'])}", ""]
        if answer.searched != answer.question:
            lines += [f"検索語: {escape_md_line(answer.searched)}", ""]
        lines += [escape_md(answer.text), ""]
        if answer.note:
            lines += [f"（{escape_md(answer.note)}）", ""]
        for c in answer.citations:
            place = f"{escape_md_line(c.doc_title)}・{escape_md_line(c.page_label)}頁"
            lines.append(f"- [{c.n}] {place}（{escape_md_line(c.heading or '-')}）「{escape_md_line(c.quote)}」")
        if answer.related:
            places = (f"{escape_md_line(h.title)}・{escape_md_line(h.chunk.page_label)}頁" for h in answer.related)
            lines.append("- 関連する可能性のある箇所: " + "；".join(places))
        lines.append("")
    return "\n".join(lines)


# --- one file's ingest result, for the CLI (en) and the library page (ja) ---------------------------
RESULT_MARKS = {"added": "✓", "replaced": "✓", "unchanged": "=", "failed": "✗"}


def describe_result(result, lang: str = "en") -> str:
    """One line for a FileResult: what became of the file and, when it failed, why (both languages)."""
    status = str(result.status)
    if status == "failed":
        if lang == "ja":
            return f"{result.source}: 取り込めませんでした — {result.ja}"
        return f"{result.source}: {result.ja} [{result.code}: {result.en}]"
    if status == "unchanged":
        return f"{result.source}: {result.ja}" + ("" if lang == "ja" else " (nothing to do)")
    if lang == "ja":
        verb = "新しい版に置き換えました" if status == "replaced" else "取り込みました"
        note = f"（除外したページ: {skipped_ja(result.skipped)}）" if result.skipped else ""
        return f"{result.source}: {verb}（{result.pages}ページ、{result.chunks}チャンク）{note}"
    skipped = ""
    if result.skipped:
        skipped = " · skipped pages " + ", ".join(f"{s.number} ({s.reason})" for s in result.skipped)
    return f"{result.source}: {status} «{result.title}» {result.pages} pages, {result.chunks} chunks{skipped}"
