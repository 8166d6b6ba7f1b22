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


def heading_level(line: str) -> int | None:
    """The outline level of a heading line, or None for body text."""
    if "\t" in line:  # a table record (ingest.tables), however it begins
        return None
    line = line.strip()
    if not line or line.endswith("。"):
        return None
    for level, pattern in _HEADING_RULES:
        if pattern.match(line) and len(line) <= _MAX_HEADING[level]:
            return level
    return None
