"""What the app shows, as plain functions: escaping of untrusted document text, the highlighted passage,
Japanese labels, the Markdown export of a conversation, versions and diffs, and feedback as CSV.

Document text and file names are untrusted: everything from a document is escaped before it is shown,
so a PDF containing `<script>` or a Markdown link renders as the characters it contains.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata

SKIP_REASONS_JA = {
    "image_only": "画像のみ（OCRが必要）",
    "no_text": "文字なし",
    "garbled": "文字化け",
    "unreadable": "読み取りエラー",
    "ocr_no_text": "OCRでも文字なし",
    "ocr_failed": "OCR失敗",
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


# --- versions and what changed, for the CLI and the library page ------------------------------------
def version_json(version) -> dict:
    """One version (policyqa.service.Version) for --json output."""
    return version.record.to_metadata() | {
        "skipped": [s.__dict__ for s in version.record.skipped],
        "active": version.active,
        "label": version.label,
    }


def diff_json(diff) -> dict:
    """A VersionDiff for --json output: the two versions, then each section that differs."""
    return {
        "source": diff.after.record.source,
        "from": version_json(diff.before),
        "to": version_json(diff.after),
        "sections": [
            {
                "kind": s.kind,
                "heading": s.heading,
                "heading_from": s.heading_from,
                "pages_from": list(s.pages_from),
                "pages_to": list(s.pages_to),
                "added": [c.__dict__ for c in s.added],
                "removed": [c.__dict__ for c in s.removed],
            }
            for s in diff.sections
        ],
    }


SECTION_KINDS_JA = {"added": "追加", "removed": "削除", "changed": "変更"}


def _pages(pages) -> str:
    return ",".join(str(p) for p in pages) or "–"


def _page(page) -> str:
    return "–" if page is None else str(page)


def diff_lines(diff) -> list[str]:
    """A VersionDiff as plain lines (untrusted document text: escape it for where it is shown): a header, then
    per section `追加/削除/変更 (kind) heading  p.old → p.new`, its removed sentences `-` and added ones `+`."""
    before, after = diff.before, diff.after
    dates = f"{before.record.ingested_at} → {after.record.ingested_at}"
    lines = [f"{after.record.source}: {before.label} → {after.label} ({dates})"]
    if not diff.sections:
        return [*lines, "差分はありません (no differences)"]
    for s in diff.sections:
        renamed = f"（旧: {s.heading_from}）" if s.kind == "changed" and s.heading_from != s.heading else ""
        kind = f"{SECTION_KINDS_JA[s.kind]} ({s.kind})"
        lines.append(f"{kind} {s.heading}{renamed}  p.{_pages(s.pages_from)} → p.{_pages(s.pages_to)}")
        lines += [f"  - {c.text}  (p.{_page(c.page_from)} → p.{_page(c.page_to)})" for c in s.removed]
        lines += [f"  + {c.text}  (p.{_page(c.page_from)} → p.{_page(c.page_to)})" for c in s.added]
    return lines


# --- feedback, for the admin page and `policyqa feedback` ---------------------------------------------
FEEDBACK_COLUMNS = (
    "id",
    "created_at",
    "rating",
    "reasons",
    "comment",
    "question",
    "history",
    "searched",
    "answer",
    "abstained",
    "citations",
    "settings",
    "conversation_id",
    "turn",
    "marked_at",
    "answerable",
    "evidence",
    "answer_keys",
)
# A cell starting with one of these is a formula to a spreadsheet (=HYPERLINK(…) in a question would run in
# Excel): such cells get a leading apostrophe, which spreadsheets show as text and do not display.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value) -> str:
    import json

    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def feedback_csv(entries) -> str:
    """Feedback entries as CSV (one row each; reasons joined by ';', lists and settings as JSON)."""
    import csv
    from dataclasses import asdict

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FEEDBACK_COLUMNS)
    for entry in entries:
        row = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(entry).items()}
        row["reasons"] = ";".join(entry.reasons)
        writer.writerow([_csv_cell(row[c]) for c in FEEDBACK_COLUMNS])
    return buf.getvalue()


def cited_places(citations) -> str:
    """Where a kept answer's citations point: 'guide.pdf v2 p.4' per cited document page."""
    places = (
        f"{c.get('source') or c.get('title', '')} v{c.get('version', '?')} p.{c.get('page_label') or c.get('page')}"
        for c in citations
    )
    return ", ".join(dict.fromkeys(places)) or "-"
