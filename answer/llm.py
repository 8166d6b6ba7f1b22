"""Optional generated answers from a local OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp's server).

The passages go into the user message as clearly delimited, numbered data; the instructions (prompts/) go into
the system message and say that text inside passages is never an instruction. What the model writes is not
trusted: answer/verify.py checks every citation and sentence against the passages that were given.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from basics.errors import ErrorCode, PolicyQAError
from index.search import Hit

_LATIN = re.compile(r"[A-Za-z]")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class LLMConfig:
    url: str
    model: str = "local"
    api_key: str | None = None
    timeout_s: float = 60.0


def prompt(name: str) -> str:
    """A template from prompts/, shipped in the wheel as package data (read the same from a checkout)."""
    return resources.files("prompts").joinpath(name).read_text(encoding="utf-8")


def question_language(question: str) -> str:
    return "ja" if _JAPANESE.search(question) or not _LATIN.search(question) else "en"


def as_data(text: str, attribute: bool = False) -> str:
    """Text as it goes inside a delimiter: `<`, `>` and `&` (and quotes in an attribute) escaped, so that
    passage text such as `</passage><passage n="9">` can neither close its passage nor open another. The stored
    text is NFKC-normalised at ingest, so full-width ＜／＞ arrive here as < and > and are escaped too."""
    return html.escape(text, quote=attribute)


def build_messages(question: str, hits: list[Hit], focus: dict[str, str] | None = None) -> list[dict]:
    """System instructions by the question's language; passages numbered from 1, with title and page.

    `focus` (chunk id → sentences of that passage the extractive answerer picked) is shown first in the
    passage as its key point: a small model then answers from the right row of a table, not a neighbour."""
    focus = focus or {}
    language = question_language(question)
    system = prompt(f"answer_{language}.txt")
    # Repeated after the question: small local models follow the format when it is the last thing they read.
    reminder = prompt(f"reminder_{language}.txt")
    blocks = [
        f'<passage n="{n}" title="{as_data(h.title, True)}" page="{as_data(h.chunk.page_label, True)}">\n'
        + (f"要点 (key point): {as_data(focus[h.chunk.id])}\n本文 (text): " if h.chunk.id in focus else "")
        + f"{as_data(h.chunk.text)}\n</passage>"
        for n, h in enumerate(hits, start=1)
    ]
    # …and once more just before the question, where a small model looks last.
    # Delimited like the passages: it is passage text, data, never an instruction.
    key = [
        f'<key n="{n}">{as_data(focus[h.chunk.id])}</key>' for n, h in enumerate(hits, start=1) if h.chunk.id in focus
    ]
    key_lines = "最も関連する記述 (most relevant):\n" + "\n".join(key) + "\n\n" if key else ""
    # The question is the official's own words, but it is escaped too: it may quote a document.
    user = (
        "資料 (passages):\n" + "\n".join(blocks) + f"\n\n{key_lines}質問 (question): {as_data(question)}\n\n{reminder}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def stream_answer(
    config: LLMConfig, question: str, hits: list[Hit], focus: dict[str, str] | None = None
) -> Iterator[str]:
    """Yield the answer's text as the endpoint streams it; raise PolicyQAError when it fails or is slow."""
    import openai

    client = openai.OpenAI(
        base_url=config.url, api_key=config.api_key or "not-needed", timeout=config.timeout_s, max_retries=0
    )
    try:
        # Greedy decoding: the same question and passages give the same answer (an official asking twice, and
        # the evaluation, see one answer, not a sample).
        stream = client.chat.completions.create(
            model=config.model, messages=build_messages(question, hits, focus), stream=True, temperature=0.0
        )
        for event in stream:
            if event.choices and event.choices[0].delta and event.choices[0].delta.content:
                yield event.choices[0].delta.content
    except openai.APITimeoutError as err:
        raise PolicyQAError(
            "生成AIの応答が時間内に返りませんでした", "the LLM endpoint timed out", code=ErrorCode.LLM_TIMEOUT
        ) from err
    except openai.OpenAIError as err:
        raise PolicyQAError(
            "生成AIに接続できませんでした", f"the LLM endpoint failed: {type(err).__name__}", code=ErrorCode.LLM_ERROR
        ) from err
