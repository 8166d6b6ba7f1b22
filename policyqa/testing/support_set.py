"""The labelled set the generated-answer checker's thresholds are measured on (eval/verify_threshold.py).

Passages are the real chunks of the sample report and eval/corpus (ingested through the service with the hash
embedder: chunking does not depend on the model). Each item is a claim cited to one passage, labelled:
- supported: the passage's sentence with its leading clause dropped (a shorter claim the passage makes), and
  the hand-written paraphrases of eval/verify_labelled.jsonl, in Japanese and English;
- unsupported: a sentence of another chunk of the same document (near in topic, another claim), a sentence of
  another document, and the hand-written invented or opposite claims of eval/verify_labelled.jsonl.
For each item: the share of its content words in the passage's evidence, whether its numbers are there, and the
similarity to the closest evidence sentence under each embedder. Nothing here decides; it measures.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from answer import claims
from answer.verify import WORDS_ENOUGH, WORDS_FLOOR, Meaning, _numbers, check_sentences, evidence
from basics.jatext import nfkc
from index.search import Hit
from policyqa.testing.corpus import build_eval_store

MIN_CHARS = 15  # shorter "sentences" are headings, labels and table cells, not claims


@dataclass
class Item:
    sentence: str
    hit: Hit
    label: int  # 1 supported, 0 not
    kind: str

    @property
    def language(self) -> str:
        return "ja" if claims.is_japanese(self.sentence) else "en"


def passages(data_dir: Path, embedder, corpus_dir: Path, sample_pdf: Path) -> list[list[Hit]]:
    """Every document's chunks, in order, as hits."""
    service = build_eval_store(data_dir, embedder, corpus_dir, sample_pdf)
    docs = []
    for record in service.documents():
        chunks = sorted(service.store.document_chunks(record.doc_id), key=lambda c: (c.page, c.start))
        docs.append([Hit(c, record.title, 0.0) for c in chunks])
    return docs


def _claims_of(hit: Hit) -> list[str]:
    return [s for s in evidence(hit) if len(s) >= MIN_CHARS and claims.is_japanese(s) and "。" in s]


def automatic_items(docs: list[list[Hit]]) -> list[Item]:
    items = []
    for d, hits in enumerate(docs):
        for i, hit in enumerate(hits):
            own = _claims_of(hit)
            if not own:
                continue
            first = own[0]
            if "、" in first[:-3]:
                items.append(Item(first.split("、", 1)[1], hit, 1, "clause"))
            near = [s for j, h in enumerate(hits) if abs(j - i) >= 2 for s in _claims_of(h) if s not in hit.chunk.text]
            if near:
                items.append(Item(near[(i * 7) % len(near)], hit, 0, "same document"))
            other = docs[(d + 1 + i) % len(docs)]
            far = [s for h in other for s in _claims_of(h) if s not in hit.chunk.text]
            if far and other is not hits:
                items.append(Item(far[(i * 11) % len(far)], hit, 0, "other document"))
    return items


def written_items(docs: list[list[Hit]], path: Path) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        hit = next(h for hits in docs for h in hits if nfkc(row["anchor"]) in nfkc(h.chunk.text))
        items.append(Item(row["sentence"], hit, row["label"], row["kind"]))
    return items


def measure(items: list[Item], meanings: dict[str, Meaning]) -> list[dict]:
    """One row per item: its words share, numbers, and the similarity to its closest evidence sentence."""
    rows = []
    for item in items:
        said = " ".join(evidence(item.hit))
        words = claims.content_words(item.sentence)
        row = {
            "sentence": item.sentence,
            "label": item.label,
            "kind": item.kind,
            "language": item.language,
            "share": round(len(words & claims.content_words(said)) / len(words), 3) if words else 0.0,
            "numbers_ok": not (_numbers(item.sentence) - _numbers(said)),
        }
        for name, meaning in meanings.items():
            vecs = meaning.embed([item.sentence, *evidence(item.hit)])
            row[f"sim_{name}"] = round(float((vecs[1:] @ vecs[0]).max()), 4) if len(vecs) > 1 else 0.0
            cited = [item.hit]
            verdict = check_sentences(f"{item.sentence}[1]", cited, "", meaning)
            row[f"accepted_{name}"] = bool(verdict) and all(c.supported for c in verdict)
        rows.append(row)
    return rows


def summary(rows: list[dict], name: str, meaning: Meaning) -> list[str]:
    """Markdown lines: the similarity distribution per label where words alone do not decide, and the outcome."""
    gray = [r for r in rows if r["numbers_ok"] and r["share"] < WORDS_ENOUGH]
    lines = [
        f"**{name}**: similarity to the closest evidence sentence, items whose words do not decide "
        f"(numbers right, word share < {WORDS_ENOUGH}):",
        "",
        "| label | language | n | min | p10 | median | p90 | max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label in (1, 0):
        for language in ("ja", "en"):
            sims = sorted(r[f"sim_{name}"] for r in gray if r["label"] == label and r["language"] == language)
            if sims:
                q = statistics.quantiles(sims, n=10) if len(sims) > 1 else [sims[0]] * 9
                lines.append(
                    f"| {'supported' if label else 'unsupported'} | {language} | {len(sims)} | {sims[0]:.3f} | "
                    f"{q[0]:.3f} | {statistics.median(sims):.3f} | {q[8]:.3f} | {sims[-1]:.3f} |"
                )
    lines += ["", f"Thresholds: {meaning.threshold} within a language, {meaning.across} across languages."]
    for label in (1, 0):
        for language in ("ja", "en"):
            group = [r for r in rows if r["label"] == label and r["language"] == language]
            accepted = sum(r[f"accepted_{name}"] for r in group)
            kind = "supported" if label else "unsupported"
            lines.append(f"- {kind} {language} claims accepted by the whole checker: {accepted}/{len(group)}")
    return lines


def words_lines(rows: list[dict]) -> list[str]:
    top = [r for r in rows if r["label"] == 0 and r["numbers_ok"] and r["share"] >= WORDS_ENOUGH]
    same = [
        r for r in rows if r["label"] == 0 and r["numbers_ok"] and r["language"] == "ja" and r["share"] >= WORDS_FLOOR
    ]
    return [
        f"- unsupported items with their numbers right and a word share ≥ {WORDS_ENOUGH} (words alone would accept): "
        f"{len(top)}" + ("" if not top else " — " + "; ".join(r["sentence"][:60] for r in top)),
        f"- unsupported Japanese items with numbers right and share ≥ {WORDS_FLOOR} (left to the embedding): "
        f"{len(same)}",
    ]


def replay(service, question: str, text: str) -> list:
    """Check a recorded model reply against the passages `ask` gives the model for this question (no model
    called): the same search, extractive answer and passage choice as answer.pipeline.ask."""
    from answer.extractive import compose
    from answer.pipeline import passages_for_llm
    from answer.verify import tampered

    hits = service.search(question, k=10)
    trusted = [h for h in hits if not tampered(h)]
    extractive = compose(question, trusted, searched=question, min_similarity=service.min_similarity)
    return check_sentences(text, passages_for_llm(hits, extractive), question, service.meaning())
