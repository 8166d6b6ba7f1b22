"""Japanese text helpers shared by every room: normalisation, the search tokenizer, sentence spans.

One definition of each, because they are contracts between rooms: the keyword index, the answerer's
sentence scoring and the generated-answer checker must tokenise alike, and a quote's offsets are sentence
spans of the chunk text. Changing `tokenize` changes all of them (and needs TOKENS_VERSION bumped in
index/keyword.py so cached keyword segments are rebuilt).
"""

from __future__ import annotations

import re
import unicodedata

# --- normalisation -------------------------------------------------------------------------------
# Circled / parenthesised numbers carry list structure (①…⑳, ❶…); NFKC would turn them into plain digits.
_PROTECTED = re.compile(r"[\u2460-\u24ff\u2776-\u2793\u3251-\u325f\u32b1-\u32bf]")
_FOLD = str.maketrans({"〜": "~", "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u00a0": " "})
_STRIP = re.compile(r"[・·\-‐_/]+")


def nfkc(text: str) -> str:
    """Unicode NFKC: full-width letters and digits to half width, half-width katakana to full width."""
    return unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """NFKC that keeps circled numbers, then fold dash and wave-dash variants (the text that is stored)."""
    out, last = [], 0
    for m in _PROTECTED.finditer(text):
        out.append(nfkc(text[last : m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(nfkc(text[last:]))
    return "".join(out).translate(_FOLD)


def squash(text: str) -> str:
    """NFKC, then drop every whitespace character (PDF extraction adds and removes spaces freely)."""
    return re.sub(r"\s+", "", nfkc(text))


def normalize_for_search(text: str) -> str:
    """NFKC, lower case, no middle dots or hyphens; spaces stay (they separate English words).

    Folds the spelling variants officials mix: カーボン・オフセット = カーボンオフセット, J-VER = JVER."""
    return _STRIP.sub("", nfkc(text).lower())


# --- the search tokenizer ------------------------------------------------------------------------
_RUNS = re.compile(r"[a-z0-9.%]+|[\u3005\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")


def tokenize(text: str) -> list[str]:
    """Latin/digit runs as words, Japanese runs as overlapping character bigrams (unigram if 1 char).

    Bigrams need no dictionary, run at ~50,000 sentences/s and gave the best BM25 top-1 in the measured
    check (16/20, vs 14–15 for dictionary tokenizers)."""
    tokens: list[str] = []
    for run in _RUNS.findall(normalize_for_search(text)):
        if run[0].isascii():
            if any(ch.isalnum() for ch in run):  # a lone "%" or "." is not a word
                tokens.append(run.strip("."))
        elif len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return [t for t in tokens if t]


# --- sentences -----------------------------------------------------------------------------------
_OPEN, _CLOSE = "「『(〔【", "」』)〕】"
_ENDS = "。!?"


def sentence_spans(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Spans of sentences: cut after 。！？ (with a closing bracket) and at newlines, never inside 「」()."""
    spans, start, depth, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        cut = None
        if ch == "\n":
            cut, depth = i, 0
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in _ENDS and depth == 0:
            while i + 1 < len(text) and text[i + 1] in _CLOSE:
                i += 1
            cut = i + 1
        if cut is not None:
            _add_span(text, start, cut, base, spans)
            start = i + 1
        i += 1
    _add_span(text, start, len(text), base, spans)
    return spans


def _add_span(text: str, start: int, end: int, base: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        spans.append((base + start + lead, base + end - trail))
