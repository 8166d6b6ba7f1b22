"""Matching evidence strings against passages, the way the evaluation sets define a hit.

A passage contains evidence when, after NFKC and removal of all whitespace, the evidence is a substring.
Used by the evaluation harness and by tests; kept here because answers are judged by the same rule.
"""

from __future__ import annotations

import re
import unicodedata


def squash(text: str) -> str:
    """NFKC, then drop every whitespace character (PDF extraction adds and removes spaces freely)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def contains_evidence(text: str, evidence: list[str]) -> bool:
    body = squash(text)
    return any(squash(e) and squash(e) in body for e in evidence)


def first_hit_rank(texts: list[str], evidence: list[str]) -> int | None:
    """1-based rank of the first passage containing any evidence string, or None."""
    for rank, text in enumerate(texts, start=1):
        if contains_evidence(text, evidence):
            return rank
    return None
