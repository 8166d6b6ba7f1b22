"""The default answerer, no LLM: pick the sentences of the retrieved passages that best answer the question.

Each chosen sentence is quoted exactly and followed by `[n]`; citation n is built from the chunk's stored
metadata (document, page label, heading) and the sentence's offsets in the chunk, never from parsing text.
When the evidence is weak the answer abstains and lists the nearest passages as "possibly related".
Sentences are scored lexically (question bigrams weighted by rarity among the candidates, plus a bonus
when the sentence has the kind of value asked for: a date for いつ/when, a percentage for 何％), scaled by
the passage's retrieval rank. Embedding every candidate sentence would cost ~1 s per question on 2 cores.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from answer.types import NOT_FOUND, Answer, Citation
from basics.jatext import sentence_spans, squash, tokenize
from index.embedder import EMBEDDINGGEMMA_MIN_SIMILARITY
from index.query import expand
from index.search import Hit
from ingest.headings import heading_level

MAX_SENTENCES = 3
PASSAGES = 5

# Question words and endings: they say what is asked, not what to look for.
_STOP = set(tokenize("何ですか いつですか 誰ですか どのような どこですか ましたか ますか でしたか について とは 何% "))
_STOP |= {"年", "月", "日", "the", "of", "a", "an", "in", "to", "was", "is", "what", "who", "when", "did", "do", "does"}
_WHEN = re.compile(r"いつ|何年|何月|時期|when|what year|date", re.I)
_PERCENT = re.compile(r"何\s*[%％]|何パーセント|割合|percent|%", re.I)
_HOW_MANY = re.compile(
    r"何件|何人|何回|何か所|何キロ|何ヘクタール|何年|いくつ|いくら|どれくらい|どれだけ|量|how many|how much", re.I
)
_DATE = re.compile(r"\d{4}|平成\d+|令和\d+|昭和\d+|\d+月|\d+日")
_YEAR = re.compile(r"\d{4}|平成\d+|令和\d+|昭和\d+")
_SUBHEADING = re.compile(r"^[\u2460-\u24ff]\s*\S{1,30}$")
# "資料:「…」(2011年、環境省)" lines name a source; they are references, not statements to quote.
_SOURCE_LINE = re.compile(r"^(資料|出典|参考|注)\s*[:：]")
_QUESTION = re.compile(r"(か[。]?|[?？])$|^(Q|問)\s*\d*\s*\S")
MIN_SENTENCE_CHARS = 5  # a table row such as "家庭部門56%" can be the whole answer
CONTEXT_WEIGHT = 0.5  # expansions (英→日, 和暦↔西暦) and a follow-up's earlier terms count half


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    hit_rank: int
    start: int
    end: int
    text: str
    tokens: frozenset[str]


def _candidates(hits: list[Hit]) -> list[_Candidate]:
    out = []
    for rank, hit in enumerate(hits[:PASSAGES]):
        # A table row means little without its heading ("(3)2011年度 > ●自治体委員会委員"): the heading's
        # terms count as the row's own.
        context = set(tokenize(hit.chunk.heading))
        for start, end in sentence_spans(hit.chunk.text):
            sentence = hit.chunk.text[start:end]
            tokens = frozenset(tokenize(sentence)) | context
            # headings and bare labels are context, not answers
            is_heading = heading_level(sentence) is not None or _SUBHEADING.match(sentence)
            is_heading = is_heading or _SOURCE_LINE.match(sentence)
            # a question quoted in an FAQ or in minutes is not its own answer
            is_question = _QUESTION.search(sentence.strip())
            if len(squash(sentence)) >= MIN_SENTENCE_CHARS and tokens and not is_heading and not is_question:
                out.append(_Candidate(hit, rank, start, end, sentence, tokens))
    return out


def query_weights(question: str, searched: str) -> dict[str, float]:
    """Terms to look for: the question's own words count fully, expansions and earlier-turn terms half."""
    own = set(tokenize(question)) - _STOP
    extra = set(tokenize(expand(searched))) - _STOP - own
    return {**{t: CONTEXT_WEIGHT for t in extra}, **{t: 1.0 for t in own}}


def _score(question: str, q_weights: dict[str, float], cands: list[_Candidate]) -> list[float]:
    q_tokens = set(q_weights)
    df: dict[str, int] = {}
    for c in cands:
        for t in c.tokens & q_tokens:
            df[t] = df.get(t, 0) + 1
    n = len(cands)
    weights = {t: math.log(1 + n / df[t]) * q_weights[t] for t in df}
    total = sum(weights.values()) or 1.0
    wants_date, wants_pct, wants_num = (
        bool(_WHEN.search(question)),
        bool(_PERCENT.search(question)),
        bool(_HOW_MANY.search(question)),
    )
    scores = []
    for c in cands:
        lexical = sum(weights.get(t, 0.0) for t in c.tokens & q_tokens) / total
        bonus = 0.0
        if wants_date and _DATE.search(c.text):
            bonus += 0.15
        if wants_pct and "%" in c.text:
            bonus += 0.2
        if wants_num and re.search(r"\d", c.text):
            bonus += 0.1
        prior = 1.0 / (1.0 + 0.35 * c.hit_rank)
        scores.append((lexical + bonus + 0.05) * prior)
    return scores


def _strength(hits: list[Hit]) -> float:
    sims = [h.similarity for h in hits if h.similarity is not None]
    return max(sims) if sims else 0.0


def compose(
    question: str,
    hits: list[Hit],
    searched: str | None = None,
    min_similarity: float = EMBEDDINGGEMMA_MIN_SIMILARITY,
    max_sentences: int = MAX_SENTENCES,
) -> Answer:
    """Build the cited answer (or an abstention) for `question` from ranked `hits`.

    Abstains when the best dense similarity is below `min_similarity`, a property of the embedding model's
    similarity scale that the service passes in (EmbeddingGemma's by default)."""
    t0 = time.perf_counter()
    searched = searched or question
    if not hits or _strength(hits) < min_similarity:
        return Answer(
            question, searched, NOT_FOUND, (), True, tuple(hits[:3]), {"compose_ms": (time.perf_counter() - t0) * 1000}
        )
    cands = _candidates(hits)
    scores = _score(question, query_weights(question, searched), cands)
    order = sorted(range(len(cands)), key=lambda i: -scores[i])
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    for i in order:
        c = cands[i]
        key = squash(c.text)
        if key in seen or (chosen and scores[i] < 0.6 * scores[order[0]]):
            continue
        seen.add(key)
        chosen.append(c)
        if len(chosen) == max_sentences:
            break
    if not chosen:  # passages with no usable sentence: quote the best passage's first lines
        top = hits[0]
        end = min(len(top.chunk.text), 200)
        chosen = [_Candidate(top, 0, 0, end, top.chunk.text[:end], frozenset())]
    if _WHEN.search(question):
        chosen = [_with_year_context(c, cands) for c in chosen]
    return _build(question, searched, chosen, {"compose_ms": (time.perf_counter() - t0) * 1000})


def _with_year_context(c: _Candidate, cands: list[_Candidate]) -> _Candidate:
    """For a "when" question, a table row without a year borrows the year from the row just before it."""
    if _YEAR.search(c.text):
        return c
    before = [x for x in cands if x.hit is c.hit and x.end <= c.start]
    if not before or not _YEAR.search(before[-1].text):
        return c
    prev = before[-1]
    text = c.hit.chunk.text[prev.start : c.end]
    return _Candidate(c.hit, c.hit_rank, prev.start, c.end, text, prev.tokens | c.tokens)


def _build(question: str, searched: str, chosen: list[_Candidate], timings: dict) -> Answer:
    numbers: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    hit_of: dict[str, Hit] = {}
    lines = []
    for c in chosen:
        cid = c.hit.chunk.id
        n = numbers.setdefault(cid, len(numbers) + 1)
        spans.setdefault(cid, []).append((c.start, c.end))
        hit_of[cid] = c.hit
        lines.append(f"{c.text.strip()} [{n}]")
    citations = []
    for cid, n in numbers.items():
        hit, places = hit_of[cid], tuple(sorted(spans[cid]))
        quote = " … ".join(hit.chunk.text[s:e] for s, e in places)
        ch = hit.chunk
        citations.append(
            Citation(n, ch.doc_id, hit.title, ch.page, ch.page_label, ch.heading, quote, ch.id, places, ch.text)
        )
    return Answer(question, searched, "\n".join(lines), tuple(citations), False, (), timings)
