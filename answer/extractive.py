"""The default answerer, no LLM: pick the sentences or table records of the retrieved passages that answer.

Each chosen unit is quoted exactly and followed by `[n]`; citation n is built from the chunk's stored
metadata (document, page label, heading) and the unit's offsets in the chunk, never from parsing text.
When the evidence is weak the answer abstains and lists the nearest passages as "possibly related".

Units are sentences, and whole table records (ingest.tables: a row with its caption and column names).
Headings, labels and lone cells are context, never answers. A unit is scored lexically (question bigrams
weighted by rarity among the candidates; the passage's heading and a record's caption count as its own
words), scaled by the passage's retrieval rank; the question's words matched as whole terms count more
than as part of a longer one (座長 in 副座長). The kind of answer asked (answer.question) decides which units
qualify: a date for いつ, an amount for いくら/何%, an article for 第何条 are required; a person, a place, a
definition or a reason are preferred. A value the question itself states (its year, its ordinal, the person
it names) does not make a unit an answer; a how-many question prefers the number with its counter (15種類 for
何種類, 17位 for 何位). When no unit holds a required kind of value the answer says so and
shows the nearest passages instead of fragments. Embedding every candidate sentence would cost ~1 s per
question on 2 cores without native bf16.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from answer.conversation import key_terms, refers_back
from answer.question import (
    NAMED_ATTRIBUTE,
    REQUIRED,
    AnswerType,
    answer_type,
    asked_attribute,
    asked_counter,
    asked_roles,
    asked_years,
    asks_a_year,
    asks_successor,
    counts,
    holds,
    holds_role,
    named_in,
    ordinal_fit,
    ordinals,
    subject_term,
    year_fit,
)
from answer.types import NOT_FOUND, Answer, Citation
from basics.jatext import normalize_for_search, squash, tokenize
from index.embedder import EMBEDDINGGEMMA_MIN_SIMILARITY
from index.query import expand, without_request
from index.search import Hit
from ingest.chunk import HEADING_SEP
from ingest.headings import heading_level
from ingest.tables import Record, parse_record, text_units

MAX_SENTENCES = 3
PASSAGES = 5

# Question words and endings: they say what is asked, not what to look for.
_STOP = set(tokenize("何ですか いつですか 誰ですか どのような どこですか ましたか ますか でしたか について とは 何% "))
_STOP |= {"年", "月", "日", "the", "of", "a", "an", "in", "to", "was", "is", "what", "who", "when", "did", "do", "does"}
_YEAR = re.compile(r"\d{4}|平成\d+|令和\d+|昭和\d+")
_SUBHEADING = re.compile(r"^[\u2460-\u24ff]\s*\S{1,30}$")
# "資料:「…」(2011年、環境省)" lines name a source: not a statement to quote. A "※" note is one when it says
# something (「※かつての…演算子は「…」に統合され…」); "※行政順", how a table is ordered, is a label.
_SOURCE_LINE = re.compile(r"^(資料|出典|参考|注)\s*[:：]?")
# …and minutes that report a question ("…について質問があった") record what was asked, not the answer
_QUESTION = re.compile(r"(か[。]?|[?？])$|^(Q|問)\s*\d*\s*\S|(質問|質疑|問い合わせ|照会)(が|を)(あった|した|受けた)")
# A label or a lone table cell: a short line with no predicate, no number and no sentence end
# ("自治体委員会", "識者委員", "港区"). Statements of that length end in a verb or copula, or carry a number.
_PREDICATE = re.compile(r"(です|ます|した|する|いる|ある|なる|れる|せる|だ|である|[。.!！?？])$|\d")
LABEL_CHARS = 20
MIN_SENTENCE_CHARS = 5  # a table row such as "家庭部門56%" can be the whole answer
CONTEXT_WEIGHT = 0.5  # expansions (英→日, 和暦↔西暦) and a follow-up's earlier terms count half
LEXICAL_FLOOR = 0.55  # share of the similarity threshold under which lexical support no longer helps
MIN_COVERAGE = 0.5
ATTRIBUTE_HITS = 5  # passages searched for an asked attribute (3 missed 任期 under a council's four roster chunks)
_KANA = re.compile(r"^[\u3040-\u309f]+$")
PRECISE_DATE = 1.15
SECTION_FIT = 2.0  # measured 1.5 / 2.0 / 3.0 on the tuning sets and JSQuAD tuning: +1 / +2 / +3 answers, none lost
COUNTER_FIT = 1.5
_MONTH = re.compile(r"\d+\s*月")
UNTYPED_WEIGHT = 0.6  # a unit without the preferred kind of value (a person for 誰) counts this much
NEXT_UNIT_SHARE = 0.6  # a further unit is quoted only when it scores at least this share of the best
TIE_SHARE = 0.95  # …and adds a question term, unless it is as good as the best (two meetings that both fit)
_KIND_JA = {
    AnswerType.WHEN: "日付",
    AnswerType.AMOUNT: "数量・金額",
    AnswerType.MONEY: "金額",
    AnswerType.ARTICLE: "条項",
}
RESTATES = 0.5  # a unit with less than this share of words the question lacks only restates it (0.3 until
# session 7: at 0.5, 4 of 500 JSQuAD tuning answers gained the sentence that answers, none lost; median length 72 → 77)
KEY_BONUS = 1.0  # share of a term's weight added again when it is in the row's naming cell
WHOLE_TERM_BONUS = 1.0  # share of a term's weight added again when it is matched as a whole term
_CJK_TERM = re.compile(r"[\u3005\u30a0-\u30ff\u3400-\u9fff]{2,}")
_KANJI = re.compile(r"[\u3005\u3400-\u9fff]")


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    hit_rank: int
    start: int
    end: int
    text: str
    tokens: frozenset[str]
    record: Record | None = None


def is_label(sentence: str) -> bool:
    s = squash(sentence)
    return len(s) <= LABEL_CHARS and not _PREDICATE.search(s)


def _candidates(hits: list[Hit]) -> list[_Candidate]:
    out = []
    for rank, hit in enumerate(hits[:PASSAGES]):
        # A table row means little without its heading ("(3)2011年度 > ●自治体委員会委員"): the heading's
        # terms count as the row's own.
        context = set(tokenize(hit.chunk.heading))
        asked: set[str] = set()  # an FAQ's question: its words are the next line's (its answer's) context
        for start, end in text_units(hit.chunk.text):
            sentence = hit.chunk.text[start:end]
            record = parse_record(sentence)
            tokens = frozenset(tokenize(sentence)) | context | asked
            if record is None:
                # headings, labels and source notes are context, not answers
                is_context = heading_level(sentence) is not None or _SUBHEADING.match(sentence)
                is_context = is_context or _SOURCE_LINE.match(sentence) or is_label(sentence)
                # a question quoted in an FAQ or in minutes is not its own answer, but says what the answer
                # after it is about (「Q3 証書はどこで購入できますか。」「A3 区役所本庁舎3階の…窓口…」)
                if _QUESTION.search(sentence.strip()):
                    asked = set(tokenize(sentence))
                    continue
                if is_context:
                    continue
            asked = set()
            if len(squash(sentence)) >= MIN_SENTENCE_CHARS and tokens:
                out.append(_Candidate(hit, rank, start, end, sentence, tokens, record))
    return out


def query_weights(question: str, searched: str) -> dict[str, float]:
    """Terms to look for: the question's own words count fully, expansions and earlier-turn terms half.

    Kana-only bigrams are kept: dropping them (as inflection) lost two of the tuning questions for one won."""
    own = set(tokenize(without_request(question))) - _STOP
    if searched.endswith(question) and searched != question and refers_back(question):
        # 「それはいつ設置されたの？」 after 「J-COFとは何ですか」: それ is J-COF, the subject of this question too
        own |= set(tokenize(key_terms(searched[: -len(question)]))) - _STOP
    extra = set(tokenize(expand(searched))) - _STOP - own
    return {**{t: CONTEXT_WEIGHT for t in extra}, **{t: 1.0 for t in own}}


def _context(c: _Candidate) -> str:
    """A unit with its passage's heading: where a record's or a sentence's year is often written."""
    return f"{c.hit.chunk.heading}\n{c.text}"


_NUMBERED = re.compile(r"^[\s(（]*([\d０-９]+|[①-⑳]|第\S{1,3}[章節条])[)）.\s]*")


def _flat(text: str) -> str:
    """Search text without spaces, for finding a phrase whatever the spacing (第2回 総合委員会, J-VER / JVER)."""
    return normalize_for_search(text).replace(" ", "")


def _section_title(heading: str) -> str:
    """The innermost heading without its number, as search text: 「第1章 制度の概要 > (2)対象となる事業所」 →
    「対象となる事業所」."""
    last = heading.split(HEADING_SEP)[-1] if heading else ""
    return _flat(_NUMBERED.sub("", last))


def _names(term: str, c: _Candidate) -> bool:
    """Whether the unit, with its heading, writes the term (spelling variants folded: J-VER = JVER), or its
    FAQ question does (「Q1カーボン・オフセットとは何ですか。」 names what A1 defines)."""
    return _flat(term) in _flat(_context(c)) or set(tokenize(term)) <= c.tokens


def _key_cell(c: _Candidate) -> str:
    """The cell that names a table row (its first), or "" for a sentence."""
    return c.record.cells[0] if c.record is not None and c.record.cells else ""


def _whole_terms(question: str) -> list[str]:
    """Kanji/katakana words of the question (座長, 自治体委員会): matched whole, they mean what was asked."""
    return [t for t in _CJK_TERM.findall(normalize_for_search(question)) if not t.startswith("何")]


def _matches_whole(term: str, text: str) -> bool:
    """`term` occurs not preceded by another kanji: 副座長 is not 座長, 前年度 is not 年度 (Japanese compounds
    add their modifier in front)."""
    start = text.find(term)
    while start >= 0:
        if start == 0 or not _KANJI.match(text[start - 1]):
            return True
        start = text.find(term, start + 1)
    return False


def _score(searched: str, q_weights: dict[str, float], terms: list[str], cands: list[_Candidate]) -> list[float]:
    q_tokens = set(q_weights)
    df: dict[str, int] = {}
    for c in cands:
        for t in c.tokens & q_tokens:
            df[t] = df.get(t, 0) + 1
    n = len(cands)
    weights = {t: math.log(1 + n / df[t]) * q_weights[t] for t in df}
    total = sum(weights.values()) or 1.0
    term_weight = {t: sum(weights.get(b, 0.0) for b in set(tokenize(t))) for t in terms}
    # A table cut into several chunks is still one table: its rows share the rank of its best-ranked chunk,
    # so the row that answers is not held back by the rows it happened to be chunked with.
    table_rank: dict[str, int] = {}
    for c in cands:
        if c.record is not None:
            table_rank[c.record.caption] = min(table_rank.get(c.record.caption, c.hit_rank), c.hit_rank)
    asked = expand(searched)  # "the second meeting" asks for 第2回 as 「第2回は」 does
    scores = []
    for c in cands:
        lexical = sum(weights.get(t, 0.0) for t in c.tokens & q_tokens) / total
        text = normalize_for_search(f"{c.hit.chunk.heading} {c.text}")
        whole = sum(w for t, w in term_weight.items() if _matches_whole(t, text))
        lexical += WHOLE_TERM_BONUS * whole / total
        key = _key_cell(c)
        if key:  # a row is about its first cell ("第1回 検討委員会"); other cells only mention things
            keyed = normalize_for_search(key).replace(" ", "")
            lexical += KEY_BONUS * sum(w for t, w in term_weight.items() if t in keyed) / total
        rank = table_rank[c.record.caption] if c.record is not None else c.hit_rank
        prior = 1.0 / (1.0 + 0.35 * rank)
        fit = year_fit(searched, _context(c)) * ordinal_fit(asked, key if key and ordinals(key) else c.text)
        scores.append((lexical + 0.05) * prior * fit)
    return scores


def _strength(hits: list[Hit]) -> float:
    sims = [h.similarity for h in hits if h.similarity is not None]
    return max(sims) if sims else 0.0


def lexical_coverage(question: str, hits: list[Hit]) -> float:
    """Share of the question's content words (kanji/katakana/Latin bigrams and words, with its English and
    和暦/西暦 expansions; not kana-only pieces like した) found in the best of the top three passages."""
    wanted = {t for t in tokenize(expand(question)) if not _KANA.match(t)} - _STOP
    if not wanted:
        return 0.0
    return max(len(wanted & set(tokenize(f"{h.chunk.heading} {h.chunk.text}"))) / len(wanted) for h in hits[:3])


def _supported(question: str, hits: list[Hit], min_similarity: float) -> bool:
    """Similar enough to the best passage, or nearly so with most of the question's words in a passage.

    The cosine threshold was set on the project's own documents; on encyclopedic text (JSQuAD) 13 % of
    answerable questions scored under it, most of them with nearly every word of the question in the
    passage that answers it. Unanswerable questions near the documents' topic scored under it with at most
    40 % of their words found (evaluation set, tuning half)."""
    strength = _strength(hits)
    if strength >= min_similarity:
        return True
    return strength >= LEXICAL_FLOOR * min_similarity and lexical_coverage(question, hits) >= MIN_COVERAGE


def _not_found(question: str, searched: str, hits: list[Hit], t0: float, note: str = "") -> Answer:
    """The abstention: no quote, the nearest passages shown, and why when a check knows (`note`)."""
    timings = {"compose_ms": (time.perf_counter() - t0) * 1000}
    return Answer(question, searched, NOT_FOUND, (), True, tuple(hits[:3]), timings, note)


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
    if not hits or not _supported(question, hits, min_similarity):
        return _not_found(question, searched, hits, t0)
    kind = answer_type(question)
    cands = _candidates(hits)
    weights = query_weights(question, searched)
    # the year and ordinal a follow-up means are in what was searched ("その時の副座長は？" after a 2009 question)
    scores = _score(searched, weights, _whole_terms(question), cands)
    if cands and asks_a_year(searched) and not any(year_fit(searched, _context(c)) > 1 for c in cands):
        # The question is about a year no passage near it speaks of (2008年度 in a report of 2009–2011):
        # measured on the tuning questions and a JSQuAD sample, every answerable question naming a year
        # (51) had a unit of that year among its candidates.
        return _not_found(question, searched, hits, t0, "資料の該当箇所に、お尋ねの年の記述が見つかりませんでした")
    missing = _ordinal_not_in_series(searched, cands)
    if missing:
        # 「第10回自治体委員会はいつ」 where the passages list the 1st to 8th: the series is there, that one is not
        return _not_found(question, searched, hits, t0, f"資料の該当箇所に「{missing}」の記述が見つかりませんでした")
    attribute = asked_attribute(question) if kind in NAMED_ATTRIBUTE else None
    if attribute and not named_in(attribute, [f"{h.chunk.heading}\n{h.chunk.text}" for h in hits[:ATTRIBUTE_HITS]]):
        # 「…の平均取引価格はいくらですか」 where the passages give 購入単価の上限: the number is another one.
        # Measured: caught 2 of the 8 unanswerable tuning questions, no answerable one of the tuning set or of
        # a JSQuAD tuning sample (500) abstained by it (for who/where/other questions it would: 政治家は誰 is
        # answered by a name, 根拠は何 by a sentence that never says 根拠).
        return _not_found(question, searched, hits, t0, f"資料の該当箇所に「{attribute}」の記述が見つかりませんでした")
    roles = asked_roles(question)
    if roles:  # a role's holder is the value asked for: 「会長は誰」 is not answered by any person
        typed = [holds_role(roles, c.text, c.record) for c in cands]
        if cands and not any(typed):
            # 「東都区環境審議会の会長は誰」 where the passages name its members, not its 会長 (or only a 副座長)
            note = f"資料の該当箇所に「{'・'.join(roles)}」の記述が見つかりませんでした"
            return _not_found(question, searched, hits, t0, note)
    else:
        typed = [holds(kind, c.text, c.record, question) for c in cands]
    counter = asked_counter(question) if kind is AnswerType.AMOUNT else None
    counted = [bool(counter) and counts(counter, c.text, question) for c in cands]
    typed = [t or n for t, n in zip(typed, counted, strict=True)]
    if kind in REQUIRED and cands and not any(typed):
        # Asked for a date (an amount, an article) and no passage near the question holds one: say so and
        # show the passages, rather than quote sentences that do not answer.
        return _not_found(question, searched, hits, t0, f"資料の該当箇所に{_KIND_JA[kind]}の記述が見つかりませんでした")
    # a quantity asked by its noun (得票率は？): when some unit holds a number, a unit without one is no answer;
    # when none does, the number may be written in words, and nothing is held back
    # and a role's holder, once a unit gives it, is the only answer to 「会長は誰」
    strict = kind in REQUIRED or (kind is AnswerType.MEASURE and any(typed)) or bool(roles)
    asked_nth = ordinals(searched)
    if asked_nth and any(c.record is not None and asked_nth & ordinals(_key_cell(c)) for c in cands):
        # 「連絡会の第1回はいつ」 and a schedule row 「第1回 令和5年5月19日」: a unit that numbers nothing (the
        # council's founding sentence) speaks of the series, not of its first meeting
        typed = [t and bool(ordinals(c.text)) for t, c in zip(typed, cands, strict=True)]
    for i, ok in enumerate(typed):
        if not ok:  # required kinds: never quoted; preferred kinds: quoted only when nothing better is there
            scores[i] *= 0.0 if strict else UNTYPED_WEIGHT
        elif kind is AnswerType.WHEN and _MONTH.search(cands[i].text):
            scores[i] *= PRECISE_DATE  # いつ asks for a point in time: a month is a better answer than a year
        elif counted[i]:
            scores[i] *= COUNTER_FIT  # 15種類 for 何種類, not the passage's other numbers
    asked_text = _flat(question)
    for i, c in enumerate(cands):
        title = _section_title(c.hit.chunk.heading)
        if len(title) >= 4 and title in asked_text:
            scores[i] *= SECTION_FIT  # 「…対象となる事業所の要件は？」: the section 「(2)対象となる事業所」 answers it
    if attribute and any(naming := [named_in(attribute, [_context(c)]) for c in cands]):
        # 「推進会議の委員の任期は何年」: the sentence on 任期, not the roster rows that name the council and its
        # 委員 more often (and carry a number: the year in their caption)
        scores = [s if n else s * UNTYPED_WEIGHT for s, n in zip(scores, naming, strict=True)]
    term = subject_term(question)
    if term:  # 「J-COFとは何ですか」: a unit that never names J-COF defines something else (the FAQ's A1)
        naming = [_names(term, c) for c in cands]
        if any(naming):
            scores = [s if n else 0.0 for s, n in zip(scores, naming, strict=True)]
    order = sorted(range(len(cands)), key=lambda i: -scores[i])
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    q_tokens, covered = set(weights), set()
    for i in order:
        c = cands[i]
        key = squash(c.text)
        if key in seen or scores[i] <= 0 or (chosen and scores[i] < NEXT_UNIT_SHARE * scores[order[0]]):
            continue
        if chosen and not (c.tokens & q_tokens) - covered and scores[i] < TIE_SHARE * scores[order[0]]:
            continue  # says nothing of the question that the units already chosen do not (the next row)
        seen.add(key)
        covered |= c.tokens & q_tokens
        chosen.append(c)
        if len(chosen) == max_sentences:
            break
    if not chosen:  # passages with no usable sentence: quote the best passage's first lines
        top = hits[0]
        end = min(len(top.chunk.text), 200)
        chosen = [_Candidate(top, 0, 0, end, top.chunk.text[:end], frozenset())]
    step = _meeting_step(question)
    if step and chosen[0].record is not None and refers_back(question):
        # 「その次の会議はいつ」 after 「第3回自治体委員会はいつ」: the row after it in its table (第1回総合委員会)
        chosen = [_neighbour_row(chosen[0], step, hits) or chosen[0]]
    successor = _successor_row(chosen[0], hits) if asks_successor(question) and chosen[0].record else None
    if successor:
        # 「市澤委員の後を継いだのは誰」: the roster row found is the member who left; the answer is who followed,
        # in that year's table or the next year's (whose year is then not the one asked)
        chosen = [successor]
    chosen = [_with_next_sentence(c, weights) for c in _joined_when_adjacent(chosen)]
    if not asks_a_year(searched):
        chosen = _with_other_years(chosen, hits, max_sentences)
    elif not successor and (elsewhere := _only_in_another_year(question, searched, cands, scores, chosen[0])):
        # 「2011年度の…奥多摩町から参加した委員は？」 (奥多摩町 only in the 2009 roster), 「令和5年度の間伐面積は？」
        # (a table of 令和2–4年度): the year asked has no such row. Say so, and show the other years' passages
        # as related rather than quote a row of another year, or a row of that year about something else.
        first = list({id(c.hit): c.hit for c in elsewhere}.values())
        shown = first + [h for h in hits if all(h is not f for f in first)]
        note = f"資料の{asked_years(searched)}の記述には該当する内容が見つかりませんでした"
        return _not_found(question, searched, shown, t0, note + "（別の年の記述を関連箇所に示します）")
    if kind is AnswerType.WHEN:
        chosen = [_with_year_context(c, cands) for c in chosen]
    return _build(question, searched, chosen, {"compose_ms": (time.perf_counter() - t0) * 1000})


def _ordinal_not_in_series(searched: str, cands: list[_Candidate]) -> str:
    """The ordinal asked (第10回) when the passages number other items of its series (第1回…第8回) and never it;
    "" otherwise."""
    asked = ordinals(searched)
    if not asked or not cands:
        return ""
    kinds = {kind for _, kind in asked}
    found = {o for c in cands for o in ordinals(_context(c)) if o[1] in kinds}
    if not found or asked & found:
        return ""
    n, kind = sorted(asked)[0]
    return f"第{n}{kind}"


def _only_in_another_year(
    question: str, searched: str, cands: list[_Candidate], scores: list[float], best: _Candidate
) -> list[_Candidate]:
    """Rows of a table by year that answer the question for other years only, best first; [] otherwise.

    Either the best unit is a row of another year and its table (printed once per year, or with a year
    column) has no row of the year asked near the question; or the rows that name every word of the question
    found in the tables (奥多摩町, 自治体委員会, 委員) are all of other years while the year asked has its table
    there. Sentences are left to the scores: this is about tables by year."""
    rows = [c for c in cands if c.record is not None]
    of_year = [c for c in rows if year_fit(searched, _context(c)) > 1]
    if best.record is not None and year_fit(searched, _context(best)) < 1:
        kind = _table_kind(best.record)
        if not any(_table_kind(c.record) == kind for c in of_year):
            return [best]
    texts = {id(c): _flat(_context(c)) for c in rows}
    found = [t for t in _whole_terms(question) if any(_matches_whole(t, text) for text in texts.values())]
    naming = [c for c in rows if found and all(_matches_whole(t, texts[id(c)]) for t in found)]
    if not naming or any(year_fit(searched, _context(c)) > 1 for c in naming):
        return []
    kinds = {_table_kind(c.record) for c in naming}
    if not any(_table_kind(c.record) in kinds for c in of_year):
        return []  # the table of the year asked is not among the passages: nothing to say of it
    score = {id(c): s for c, s in zip(cands, scores, strict=True)}
    return sorted(naming, key=lambda c: -score[id(c)])


# 「その次の会議」「前回の会合」: the next or previous meeting of a schedule (not 「前の委員長」, a predecessor)
_STEP = re.compile(r"(次|前|後)の(会議|会合|会|回|委員会)|(次|前)回|(next|previous) (meeting|session)", re.I)


def _meeting_step(question: str) -> int:
    """+1 for the next meeting, -1 for the previous one, 0 when the question asks neither."""
    m = _STEP.search(question)
    if not m:
        return 0
    return -1 if "前" in m.group() or m.group().lower().startswith("previous") else 1


def _rows(hits: list[Hit]) -> list[_Candidate]:
    """Every table row of the passages, as units in the passages' order (ranked by the passage they are in)."""
    out = []
    for rank, hit in enumerate(hits):
        text = hit.chunk.text
        for start, end in text_units(text):
            record = parse_record(text[start:end])
            if record is not None:
                unit = text[start:end]
                out.append(_Candidate(hit, rank, start, end, unit, frozenset(tokenize(unit)), record))
    return out


def _neighbour_row(c: _Candidate, step: int, hits: list[Hit]) -> _Candidate | None:
    """The row `step` places after (before) `c` in its table, read in document order across the passages
    found (a table's rows run on into the next chunk)."""
    rows: dict[str, _Candidate] = {}  # a row repeated by the chunks' overlap counts once
    for r in sorted(_rows(hits), key=lambda r: (r.hit.chunk.id, r.start)):
        if r.record.caption == c.record.caption:
            rows.setdefault(squash(r.text), r)
    order = list(rows)
    at = order.index(squash(c.text)) if squash(c.text) in rows else -1
    return rows[order[at + step]] if at >= 0 and 0 <= at + step < len(order) else None


_UNTIL = re.compile(r"まで$")
_SINCE = re.compile(r"(から|より)$")


def _successor_row(c: _Candidate, hits: list[Hit]) -> _Candidate | None:
    """The roster row of the member who followed c's: a row of a table like c's whose note says 「<c's name>委員の
    後任」, or a row of c's own table that starts (…から, …より) in the body c's row left (…まで): the cells the two
    share besides the name and the dates (世田谷区, 環境計画課長)."""
    mine = [squash(x) for x in c.record.cells]
    name = mine[0] if mine else ""
    left = any(_UNTIL.search(x) for x in mine)
    body = {x for x in mine[1:] if not _UNTIL.search(x)}
    for r in _rows(hits):
        cells = [squash(x) for x in r.record.cells]
        if r.record.columns != c.record.columns or cells == mine:
            continue
        if name and any(name in x and "後任" in x for x in cells[1:]):
            return r
        started = any(_SINCE.search(x) for x in cells)
        if left and started and r.record.caption == c.record.caption and body & set(cells[1:]):
            return r
    return None


def _joined_when_adjacent(chosen: list[_Candidate]) -> list[_Candidate]:
    """Two chosen sentences that follow each other in one paragraph are quoted as one line, in the order
    written, where the better of them stood: expository text names a thing in one sentence and says it in
    the next (「…降らない場合がある。このような梅雨のことを空梅雨という。」), and read apart the first says
    nothing."""
    out: list[_Candidate] = []
    for c in chosen:
        for i, o in enumerate(out):
            if o.hit is c.hit and o.record is None and c.record is None:
                first, second = (o, c) if o.start < c.start else (c, o)
                gap = o.hit.chunk.text[first.end : second.start]
                if first.end <= second.start and not gap.strip() and "\n" not in gap:
                    text = o.hit.chunk.text[first.start : second.end]
                    out[i] = _Candidate(o.hit, o.hit_rank, first.start, second.end, text, o.tokens | c.tokens)
                    break
        else:
            out.append(c)
    return out


def novelty(text: str, q_weights: dict[str, float]) -> float:
    """Share of a unit's content bigrams (not kana-only pieces) that the question does not already hold."""
    own = {t for t in tokenize(text) if not _KANA.match(t)} - _STOP
    return len(own - set(q_weights)) / len(own) if own else 0.0


def _with_next_sentence(c: _Candidate, q_weights: dict[str, float]) -> _Candidate:
    """A sentence that only restates the question (「…自然遺産が1件ある。」 for 「…自然遺産はどこ？」, 「梅雨の期間中
    ほとんど雨が降らない場合がある。」 for 「…場合をなんという？」) introduces what the next sentence says: expository
    text names a thing and gives its particulars in the sentence after. Such a sentence is quoted together
    with the next one of its passage, as one unit."""
    if c.record is not None or novelty(c.text, q_weights) >= RESTATES:
        return c
    text = c.hit.chunk.text
    following = [(s, e) for s, e in text_units(text) if s >= c.end]
    if not following:
        return c
    start, end = following[0]
    nxt = text[start:end]
    if "\n\n" in text[c.end : start] or parse_record(nxt) or heading_level(nxt) is not None or is_label(nxt):
        return c  # the paragraph ends there
    return _Candidate(c.hit, c.hit_rank, c.start, end, text[c.start : end], c.tokens | frozenset(tokenize(nxt)))


_NUMBERING = re.compile(r"[\d０-９]+|平成|令和|昭和|元")


def _table_kind(record: Record) -> str:
    """A table's caption without its numbers and years, and its columns: the same for a table printed once
    per year ((1)2009(平成21)年度 …, (2)2010(平成22)年度 …)."""
    return _NUMBERING.sub("", record.caption) + "[" + "/".join(record.columns) + "]"


def _with_other_years(chosen: list[_Candidate], hits: list[Hit], limit: int) -> list[_Candidate]:
    """A question that names no year, answered by a row of a table printed once per year (a meeting
    schedule, a roster): the row of the same name in another year's table answers it as well — 「第2回
    自治体委員会はいつ」 was held in each year of the study — so those rows are quoted after the best one."""
    best = chosen[0]
    if best.record is None or not _key_cell(best):
        return chosen
    key, kind = squash(_key_cell(best)), _table_kind(best.record)
    siblings, seen = [], {squash(c.text) for c in chosen}
    for row in _rows(hits):
        record = row.record
        if not record.cells or record.caption == best.record.caption:
            continue
        if squash(record.cells[0]) == key and _table_kind(record) == kind and squash(row.text) not in seen:
            seen.add(squash(row.text))
            siblings.append(row)
    return [best, *siblings, *chosen[1:]][:limit]


def _with_year_context(c: _Candidate, cands: list[_Candidate]) -> _Candidate:
    """For a "when" question, a table row without a year borrows the year from the row just before it."""
    if c.record is not None or _YEAR.search(c.text):
        return c
    before = [x for x in cands if x.hit is c.hit and x.end <= c.start]
    if not before or not _YEAR.search(before[-1].text):
        return c
    prev = before[-1]
    text = c.hit.chunk.text[prev.start : c.end]
    return _Candidate(c.hit, c.hit_rank, prev.start, c.end, text, prev.tokens | c.tokens)


def _shown(c: _Candidate) -> str:
    """A unit as the answer shows it: a sentence as written; a table record with each cell named by its column
    (「(1)2009(平成21)年度 自治体委員会委員 ｜ 氏名: 今福 芳明 ｜ 自治体名: 港区 ｜ …」), which the stored line
    (caption [columns] tab-separated cells) leaves to the reader to pair up. The citation keeps the exact text."""
    if c.record is None or not c.record.columns or len(c.record.cells) > len(c.record.columns):
        return c.text.strip()
    pairs = zip(c.record.columns, c.record.cells, strict=False)  # a row may leave its last cells out
    named = [f"{col}: {cell}" if col else cell for col, cell in pairs if cell]
    return " ｜ ".join([c.record.caption, *named] if c.record.caption else named)


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
        lines.append(f"{_shown(c)} [{n}]")
    citations = []
    for cid, n in numbers.items():
        hit, places = hit_of[cid], tuple(sorted(spans[cid]))
        quote = " … ".join(hit.chunk.text[s:e] for s, e in places)
        ch = hit.chunk
        citations.append(
            Citation(n, ch.doc_id, hit.title, ch.page, ch.page_label, ch.heading, quote, ch.id, places, ch.text, ch.ocr)
        )
    return Answer(question, searched, "\n".join(lines), tuple(citations), False, (), timings)
