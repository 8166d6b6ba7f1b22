"""Check a generated answer against the passages it was given, and build its citations from their metadata.

Every `[n]` must name a passage that was given; every sentence must carry one; the numbers and dates of a
sentence must appear in a passage it cites, and enough of its words must too (character-bigram overlap, so
it works for Japanese without a dictionary). Sentences that fail are reported as unsupported; numbers found
in no passage at all are flagged. Citations are built from the passages' stored metadata, never from text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.types import NOT_FOUND, Answer, Citation
from basics.jatext import sentence_spans, squash, tokenize
from index.search import Hit

_MARK = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"\d[\d,.]*")
_TRAILING_MARKS = re.compile(r"([。．.!?！？])\s*((?:\[\d+\])+)")
_MARKS_LINE = re.compile(r"\s*\n\s*((?:\[\d+\]\s*)+)(?=\n|$)")  # markers alone on the next line
MIN_OVERLAP = 0.3  # share of a Japanese sentence's bigrams found in the passages it cites


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    cites: tuple[int, ...]
    problems: tuple[str, ...]
    cited_by_model: tuple[int, ...] | None = None  # set when the checker moved the citation (see below)

    @property
    def supported(self) -> bool:
        return not self.problems


def _numbers(text: str) -> set[str]:
    return {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(squash(text))}


def check_sentences(text: str, hits: list[Hit]) -> list[CheckedSentence]:
    # "…します。[1]" → "…します[1]。": a marker after the full stop belongs to the sentence before it, also
    # when a small model puts it on a line of its own ("…です。\n\n[1]", seen from Qwen2.5-1.5B)
    text = _TRAILING_MARKS.sub(r"\2\1", _MARKS_LINE.sub(lambda m: m.group(1).strip(), text))
    out = []
    for start, end in sentence_spans(text):
        sentence = text[start:end].strip()
        cites = tuple(int(n) for n in _MARK.findall(sentence))
        body = _MARK.sub("", sentence).strip()
        if not body:
            continue
        problems = []
        if not cites:
            problems.append("no citation")
        bad = [n for n in cites if not 1 <= n <= len(hits)]
        problems += [f"cites passage [{n}], which was not given" for n in bad]
        problems += _support_problems(body, [hits[n - 1] for n in cites if 1 <= n <= len(hits)])
        if cites and problems and not bad:
            # A small model often cites the wrong one of the passages it was given. When exactly what the
            # sentence says (its numbers, most of its words) is in another given passage, cite that one and
            # say so; a sentence no given passage supports stays unsupported.
            moved = next((n for n in range(1, len(hits) + 1) if not _support_problems(body, [hits[n - 1]])), None)
            if moved is not None:
                out.append(CheckedSentence(body, (moved,), (), cites))
                continue
        out.append(CheckedSentence(body, cites, tuple(problems)))
    return out


def _support_problems(body: str, cited_hits: list[Hit]) -> list[str]:
    """Why the cited passages do not support the sentence: numbers missing, or too few of its words."""
    cited = " ".join(h.chunk.text for h in cited_hits)
    if not cited:
        return []
    problems = [f"{m} is not in the cited passage" for m in sorted(_numbers(body) - _numbers(cited))]
    japanese = {w for w in tokenize(body) if not w.isascii()}
    if japanese and len(japanese & set(tokenize(cited))) / len(japanese) < MIN_OVERLAP:
        problems.append("the cited passage does not say this")
    return problems


def unknown_numbers(text: str, hits: list[Hit]) -> list[str]:
    """Numbers and dates in the answer that appear in no passage at all."""
    everywhere = set().union(*(_numbers(h.chunk.text) for h in hits)) if hits else set()
    return sorted(_numbers(_MARK.sub("", text)) - everywhere)


def _quote(hit: Hit, sentence: str) -> tuple[int, int]:
    """The span of the passage sentence that shares most words with the citing sentence."""
    words = set(tokenize(sentence))
    spans = sentence_spans(hit.chunk.text) or [(0, len(hit.chunk.text))]
    return max(spans, key=lambda s: len(words & set(tokenize(hit.chunk.text[s[0] : s[1]]))))


def verified_answer(question: str, searched: str, text: str, hits: list[Hit]) -> Answer | None:
    """The generated answer with checked citations; None when not one sentence is supported (fall back)."""
    if NOT_FOUND in text:
        return Answer(question, searched, NOT_FOUND, (), True, tuple(hits[:3]), {}, "生成AIの回答")
    checked = check_sentences(text, hits)
    good = [c for c in checked if c.supported]
    if not good:
        return None
    spans: dict[int, list[tuple[int, int]]] = {}
    for sentence in good:
        for n in sentence.cites:
            spans.setdefault(n, []).append(_quote(hits[n - 1], sentence.text))
    citations = []
    for n in sorted(spans):
        chunk, places = hits[n - 1].chunk, tuple(sorted(set(spans[n])))
        quote = " … ".join(chunk.text[s:e] for s, e in places)
        citations.append(
            Citation(
                n,
                chunk.doc_id,
                hits[n - 1].title,
                chunk.page,
                chunk.page_label,
                chunk.heading,
                quote,
                chunk.id,
                places,
                chunk.text,
                chunk.ocr,
            )
        )
    lines = [f"{c.text} " + "".join(f"[{n}]" for n in c.cites) for c in checked]
    unsupported = [f"{c.text}（{'; '.join(c.problems)}）" for c in checked if not c.supported]
    flagged = unknown_numbers(text, hits)
    moved = sum(c.cited_by_model is not None for c in checked)
    note = "; ".join(
        ([f"根拠を確認できない文: {len(unsupported)}"] if unsupported else [])
        + ([f"引用番号を資料に合わせて訂正した文: {moved}"] if moved else [])
        + ([f"資料にない数値: {', '.join(flagged)}"] if flagged else [])
    )
    return Answer(
        question,
        searched,
        "\n".join(lines),
        tuple(citations),
        False,
        (),
        {},
        note,
        unsupported=tuple(c.text for c in checked if not c.supported),
    )
