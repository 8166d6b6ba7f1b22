"""Ask: question (plus earlier turns) → search → cited answer. No Streamlit, no file I/O.

Follow-up questions ("それはいつ始まりましたか？") carry few searchable words of their own; when a question
refers back or names no subject of its own (answer.conversation), the previous question's subject is
searched with it, and the answer records exactly what was searched so the UI can show it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from answer.conversation import search_text
from answer.extractive import compose
from answer.llm import LLMConfig
from answer.types import NOT_FOUND, Answer
from answer.verify import Meaning, removal_note, tampered, verified_answer
from basics.errors import ErrorCode, PolicyQAError
from basics.jatext import tokenize
from index.search import Hit


class DocumentSearch(Protocol):
    """What answering needs of search (index.search.Searcher is one)."""

    def search(self, query: str, k: int = 10, mode: str = "hybrid", doc_ids: list[str] | None = None) -> list[Hit]: ...

    def unknown_terms(self, question: str) -> list[str]: ...


TokenCallback = Callable[[str], None]


def ask(
    searcher: DocumentSearch,
    question: str,
    history: Sequence[str] = (),
    *,
    min_similarity: float,
    doc_ids: list[str] | None = None,
    k: int = 10,
    llm: LLMConfig | None = None,
    on_token: TokenCallback | None = None,
    meaning: Meaning | None = None,
    previous_answer: str = "",
) -> Answer:
    """Answer one question against the searcher's store; `history` holds the earlier questions, oldest first,
    and `previous_answer` the text answered to the last of them (it dates 「その翌年」).

    Abstains below `min_similarity` (the embedding model's own threshold, passed by the service).
    With `llm` the answer is generated from the top passages, streamed to
    `on_token`, and checked (`meaning`: the embedder's similarity, for claims words alone cannot settle); the
    extractive answer is the fallback whenever the endpoint or the checks fail."""
    if not question or not question.strip():
        raise PolicyQAError("質問を入力してください", "the question is empty", code=ErrorCode.EMPTY_QUESTION)
    searched = search_text(question, list(history), previous_answer=previous_answer)
    t0 = time.perf_counter()
    if not tokenize(searched):  # symbols only: nothing any passage could match
        return Answer(question, searched, NOT_FOUND, (), True, (), {"search_ms": 0.0})
    hits = searcher.search(searched, k=k, doc_ids=doc_ids)
    search_ms = (time.perf_counter() - t0) * 1000
    # A question naming something no document mentions (大阪府, 区長 …) cannot be answered from them, however
    # similar the nearest passage is. On the project's evaluation set this catches 6 of the 8 unanswerable
    # questions (the similarity threshold alone caught 5) and fires on none of the 56 answerable ones.
    unknown = searcher.unknown_terms(question)
    if unknown:
        note = "資料に「" + "」「".join(unknown) + "」という語は出てきません"
        return Answer(question, searched, NOT_FOUND, (), True, tuple(hits[:3]), {"search_ms": search_ms}, note)
    # A passage that speaks to the answerer (an injection) is never quoted; the model still sees it, so that
    # what stops an injection the patterns miss is the check of what the model wrote (answer/verify.py).
    answer = compose(question, [h for h in hits if not tampered(h)], searched=searched, min_similarity=min_similarity)
    if llm is not None and not answer.abstained:
        focus = {c.chunk_id: c.quote for c in answer.citations}
        given = passages_for_llm(hits, answer)
        generated, note = _generated(question, searched, given, focus, llm, on_token, meaning)
        answer = generated or replace(answer, note=note)  # the extractive answer is the fallback
    return replace(answer, timings={"search_ms": search_ms, **answer.timings})


# Three passages: on 2 CPU cores a local 1.5B model reads ≈70 prompt tokens/s, so five passages cost ≈30 s
# before the first word and three ≈20 s; with the extractive answer's passages first, three hold the answer.
LLM_PASSAGES = 3


def passages_for_llm(hits: list[Hit], extractive: Answer) -> list[Hit]:
    """The passages the extractive answer quotes first, then the next best: a small model leans on [1]."""
    cited = [c.chunk_id for c in extractive.citations]
    first = [h for cid in cited for h in hits if h.chunk.id == cid]
    rest = [h for h in hits if h.chunk.id not in cited]
    return (first + rest)[:LLM_PASSAGES]


def _generated(question, searched, hits, focus, llm, on_token, meaning) -> tuple[Answer | None, str]:
    """The LLM's answer, checked, or (None, why not) when the endpoint fails or nothing of it holds up."""
    from answer.llm import stream_answer

    parts: list[str] = []
    try:
        for token in stream_answer(llm, question, hits, focus):
            parts.append(token)
            if on_token:
                on_token(token)
    except PolicyQAError as err:
        return None, f"{err.ja}。資料の文をそのまま示します"
    checked, verdicts = verified_answer(question, searched, "".join(parts), hits, meaning)
    if checked is None:
        removed = removal_note(verdicts)
        return None, "生成AIの回答を資料で確認できなかったため、資料の文をそのまま示します" + (
            f"; {removed}" if removed else ""
        )
    if checked.abstained:
        # The model found no answer where the extractive answerer found a close passage (a 1.5B model did so
        # for a plainly answered date): show that passage's sentences, the answer the product gives without
        # a model, rather than lose them.
        return None, "生成AIは資料から回答を作れませんでした。関連する記述をそのまま示します"
    return checked, ""
