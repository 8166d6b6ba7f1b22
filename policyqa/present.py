"""What the app shows, as plain functions: escaping of untrusted document text, the highlighted passage,
the cited page cut out of its PDF, Japanese labels, and the Markdown export of a conversation.

Document text and file names are untrusted: everything from a document is escaped before it is shown,
so a PDF containing `<script>` or a Markdown link renders as the characters it contains.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

SKIP_REASONS_JA = {
    "image_only": "画像のみ（OCRが必要）",
    "no_text": "文字なし",
    "garbled": "文字化け",
    "unreadable": "読み取りエラー",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def escape_md(text: str) -> str:
    """Escape Markdown (and the HTML Markdown allows) so that text renders literally."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


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
    """The conversation as Markdown, citations written out as 資料名・頁 with the quoted text."""
    lines = ["# 質問と回答の記録", ""]
    for turn in turns:
        answer = turn["answer"]
        lines += [f"## 質問: {turn['question']}", ""]
        if answer.searched != answer.question:
            lines += [f"検索語: {answer.searched}", ""]
        lines += [answer.text, ""]
        if answer.note:
            lines += [f"（{answer.note}）", ""]
        for c in answer.citations:
            lines.append(f"- [{c.n}] {c.doc_title}・{c.page_label}頁（{c.heading or '-'}）「{c.quote}」")
        if answer.related:
            lines.append(
                "- 関連する可能性のある箇所: " + "；".join(f"{h.title}・{h.chunk.page_label}頁" for h in answer.related)
            )
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
