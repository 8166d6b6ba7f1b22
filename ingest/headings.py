"""Heading lines of Japanese government reports (and Markdown), with their outline level."""

from __future__ import annotations

import re

# (level, pattern): the numbering styles of Japanese government reports and of Markdown.
_HEADING_RULES = [
    (1, re.compile(r"^#\s+\S")),
    (1, re.compile(r"^(?:添付資料|参考資料|別紙|別添|資料)\s*\d+(?:\s*[:.]|\s|$)")),
    (1, re.compile(r"^第\s*\d+\s*[章部編]")),
    (2, re.compile(r"^##\s+\S")),
    (2, re.compile(r"^第\s*\d+\s*節")),
    (2, re.compile(r"^\d+\.\s*\S")),
    (3, re.compile(r"^###\s+\S")),
    (3, re.compile(r"^\(\d+\)\s*\S")),
    (4, re.compile(r"^#{4,}\s+\S")),
    (4, re.compile(r"^[●■◆◎]\s*\S")),
]
_MAX_HEADING = {1: 60, 2: 50, 3: 50, 4: 30}
# A heading names a topic; a numbered line this long with a comma is a step of a procedure (「2.町は、申込みを受け
# 付けた日から14日以内に、…」), cut by the page's width. Taken for a heading, it was left unjoined and its second
# half became a fragment. No heading of the sample report or the evaluation documents has both.
CLAUSE_CHARS = 30


def heading_level(line: str) -> int | None:
    """The outline level of a heading line, or None for body text."""
    if "\t" in line:  # a table record (ingest.tables), however it begins
        return None
    line = line.strip()
    if not line or line.endswith("。"):
        return None
    if "、" in line and len(line) >= CLAUSE_CHARS:
        return None  # a numbered step written as a sentence, wrapped by the page: 「2.町は、申込みを受け付けた日から…」
    for level, pattern in _HEADING_RULES:
        if pattern.match(line) and len(line) <= _MAX_HEADING[level]:
            return level
    return None
