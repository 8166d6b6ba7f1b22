import re

from helpers import HITS

from answer.extractive import compose
from policyqa.present import WORD_JOINER, escape_md, export_markdown, highlighted_passage, terminal_text


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


HOSTILE = [
    ":red[至急] 審査は:blue-background[不要]です",
    ":material/warning: 重要",
    "期限です :smile: :+1: :-1: :100: :streamlit:",
    "::leaf[x]{#id} と :::container",
]


def _what_streamlit_sees(escaped: str) -> tuple[str, str]:
    """(source after Streamlit's own `:material/` rewrite, text after Markdown undoes backslash escapes)."""
    source = escaped.replace(":material/", ":material_")
    return source, re.sub(r"\\(.)", r"\1", source)


def test_streamlit_directives_in_document_text_show_literally():
    """Streamlit renders `:red[…]`, `:material/…:` and `:smile:` even in escaped Markdown: its directive parser
    reads the source and its icon and emoji rules match the text once escapes are undone (regexes copied from
    Streamlit 1.67's StreamlitMarkdown and remark-emoji bundles)."""
    for text in HOSTILE:
        escaped = escape_md(text)
        source, shown = _what_streamlit_sees(escaped)
        assert not re.search(r"(?<!\\):[A-Za-z]", source), escaped  # no unescaped directive start
        assert not re.search(r":[a-z][a-z0-9-]*\[", source), escaped  # streaming directive handler
        assert not re.search(r":material_(\w+):", shown, flags=re.A), escaped
        assert not re.search(r":\+1:|:-1:|:[\w-]+:", shown, flags=re.A), escaped  # emoji shortcodes
        assert shown.replace(WORD_JOINER, "") == text  # and the reader sees exactly the characters
    assert escape_md("受付 10:30、注: 別紙") == "受付 10:30、注: 別紙"  # ordinary colons untouched


def test_export_escapes_document_text_like_the_page():
    from dataclasses import replace

    answer = compose("審査結果は何日以内に通知されますか？", HITS)
    hostile = replace(
        answer,
        citations=tuple(
            replace(c, doc_title=":red[偽の指針] <b>x</b>", heading="# 見出し\n[罠](http://evil.example)")
            for c in answer.citations
        ),
    )
    md = export_markdown([{"question": "審査は？ :smile: **太字**\n# 追加見出し", "answer": hostile}])
    assert "## 質問: 審査は？ :\u2060smile: \\*\\*太字\\*\\* \\# 追加見出し" in md
    title = ":\u2060red\\[偽の指針\\] \\<b\\>x\\</b\\>"
    assert f"- [1] {title}・4頁（\\# 見出し \\[罠\\]\\(http://evil\\.example\\)）" in md
    assert "<b>" not in md and "](http" not in md and "\n# 追加見出し" not in md


def test_terminal_text_drops_escape_sequences_and_controls():
    title = "\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\リンク\x1b]8;;\x1b\\ \x1b[31m赤\x1b[0m\x9b2J\u202e逆\x00\x7f"
    assert terminal_text(title) == "リンク 赤逆"
    assert terminal_text("一行目\n二行目\tタブ") == "一行目 二行目 タブ"
    assert terminal_text("一行目\n二行目\x1b[A", keep_newlines=True) == "一行目\n二行目"
