"""The evaluation harness: retrieval and answer quality over the current store, per retrieval mode.

Input lines: {"id", "question", "evidence": [...], "answer_keys": [...], "answerable": true|false,
"history": [...] (optional earlier questions, for follow-ups)}. A retrieved passage is a hit when it
contains any evidence string after NFKC and whitespace removal. Modes: dense, keyword, hybrid, and a
"tutorial" baseline built on the fly from the same stored files and model: raw page text in fixed
1,000-character windows with 200 overlap, dense only, top-k by cosine.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from basics.jatext import squash

KS = (1, 3, 5, 10)
MODES = ("dense", "keyword", "hybrid", "baseline")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    evidence: tuple[str, ...] = ()
    answer_keys: tuple[str, ...] = ()
    answerable: bool = True
    history: tuple[str, ...] = ()
    follow_up: bool | None = None  # conversation turns: does it refer back to an earlier turn?


def load_questions(path: Path) -> list[Question]:
    rows = [json.loads(x) for x in Path(path).read_text(encoding="utf-8-sig").splitlines() if x.strip()]
    return [
        Question(
            id=str(r["id"]),
            question=r["question"],
            evidence=tuple(r.get("evidence") or ()),
            answer_keys=tuple(r.get("answer_keys") or ()),
            answerable=r.get("answerable", True) is not False,
            history=tuple(r.get("history") or ()),
            follow_up=r.get("follow_up"),
        )
        for r in rows
    ]


def questions_from_feedback(entries) -> list[Question]:
    """Evaluation questions from feedback an admin has marked (policyqa.conversations.Conversations.mark): the
    question as it was asked (with its conversation's earlier questions), the passage that answers it and the
    words its answer must hold, or an unanswerable question when the documents do not answer it. Unmarked
    entries are left out: a 👎 alone does not say what the right answer is."""
    return [
        Question(
            id=f"feedback-{f.id}",
            question=f.question,
            evidence=tuple(f.evidence),
            answer_keys=tuple(f.answer_keys),
            answerable=bool(f.answerable),
            history=tuple(f.history),
        )
        for f in entries
        if f.marked
    ]


@dataclass
class ModeResult:
    mode: str
    recall: dict[int, float]
    mrr10: float
    misses: list[dict] = field(default_factory=list)


@dataclass
class Report:
    questions: int
    answerable: int
    modes: dict[str, ModeResult]
    answer_accuracy: float | None = None
    abstention: dict[str, float] = field(default_factory=dict)
    answer_misses: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


# Evidence for a table row is copied from the page as printed, across its cells ("第３回 自治体委員会 ７月 14 日");
# the library stores the row as a record, cells joined with its caption and the year a date cell carries
# ("第3回 自治体委員会\t2010 (平成22)年7月14日"). Such evidence is found when its pieces occur in order on
# one line of the passage, each within this many characters of the one before.
PIECE_GAP = 40
_CELL_BREAK = re.compile(r"[\s|｜]+")  # cells printed apart, or with the bars of a text table


def _pieces_on_a_line(text: str, pieces: list[str]) -> bool:
    for line in text.splitlines():
        body, at = squash(line), 0
        for n, piece in enumerate(pieces):
            found = body.find(piece, at)
            if found < 0 or (n and found - at > PIECE_GAP):
                break
            at = found + len(piece)
        else:
            return True
    return False


def contains_evidence(text: str, evidence: list[str]) -> bool:
    body = squash(text)
    for e in evidence:
        if squash(e) and squash(e) in body:
            return True
        pieces = [squash(p) for p in _CELL_BREAK.split(e) if squash(p)]
        if len(pieces) > 1 and _pieces_on_a_line(text, pieces):
            return True
    return False


def first_hit_rank(texts: list[str], evidence: list[str]) -> int | None:
    """1-based rank of the first passage containing any evidence string, or None."""
    for rank, text in enumerate(texts, start=1):
        if contains_evidence(text, evidence):
            return rank
    return None


def retrieval_scores(ranks: list[int | None]) -> tuple[dict[int, float], float]:
    n = len(ranks) or 1
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    return recall, mrr


def evaluate(service, questions: list[Question], modes=MODES) -> Report:
    """Retrieval per mode and answers, through the service exactly as the CLI and the app use it."""
    answerable = [q for q in questions if q.answerable]
    results: dict[str, ModeResult] = {}
    baseline = service.tutorial_baseline() if "baseline" in modes else None
    for mode in modes:
        ranks, misses = [], []
        for q in answerable:
            query = service.search_query(q.question, q.history)
            if mode == "baseline":
                texts = baseline.texts(query, 10)
            else:
                texts = [h.chunk.text for h in service.search(query, k=10, mode=mode)]
            rank = first_hit_rank(texts, list(q.evidence))
            ranks.append(rank)
            if rank is None or rank > 5:
                misses.append(
                    {"id": q.id, "question": q.question, "rank": rank, "top": squash(texts[0])[:60] if texts else ""}
                )
        recall, mrr = retrieval_scores(ranks)
        results[mode] = ModeResult(mode, recall, mrr, misses)
    report = Report(len(questions), len(answerable), results)
    _answers(service, questions, report)
    return report


def _answers(service, questions: list[Question], report: Report) -> None:
    correct, abstained_right, abstained_wrong, unanswerable = 0, 0, 0, 0
    answered: dict[str, str] = {}  # question → the text answered to it, passed on as the app does
    for q in questions:
        previous = answered.get(q.history[-1], "") if q.history else ""
        answer = service.ask(q.question, q.history, previous_answer=previous)
        answered[q.question] = "" if answer.abstained else answer.text
        if not q.answerable:
            unanswerable += 1
            abstained_right += answer.abstained
            if not answer.abstained:
                report.answer_misses.append(
                    {
                        "id": q.id,
                        "question": q.question,
                        "answer": answer.text[:120],
                        "why": "answered an unanswerable question",
                    }
                )
            continue
        abstained_wrong += answer.abstained
        keys = all(squash(k) in squash(answer.text) for k in q.answer_keys)
        cited = any(contains_evidence(c.passage, list(q.evidence)) for c in answer.citations)
        correct += keys and cited and not answer.abstained
        if not (keys and cited) or answer.abstained:
            why = "abstained" if answer.abstained else ("answer keys missing" if not keys else "evidence not cited")
            report.answer_misses.append({"id": q.id, "question": q.question, "answer": answer.text[:120], "why": why})
    report.answer_accuracy = correct / max(1, report.answerable)
    total_abstained = abstained_right + abstained_wrong
    report.abstention = {
        "precision": abstained_right / total_abstained if total_abstained else 1.0,
        "recall": abstained_right / unanswerable if unanswerable else 1.0,
        "unanswerable_abstained": abstained_right,
        "unanswerable": unanswerable,
        "answerable_abstained": abstained_wrong,
    }


def format_report(report: Report, misses: bool = True) -> str:
    """The figures, then (with `misses`) every retrieval and answer miss: a held-out set's report leaves them
    out unless asked, so that running it does not show what its questions are."""
    lines = [
        f"{report.questions} questions ({report.answerable} answerable)",
        "",
        "| mode | R@1 | R@3 | R@5 | R@10 | MRR@10 |",
        "|---|---|---|---|---|---|",
    ]
    for m in report.modes.values():
        r = m.recall
        lines.append(f"| {m.mode} | {r[1]:.3f} | {r[3]:.3f} | {r[5]:.3f} | {r[10]:.3f} | {m.mrr10:.3f} |")
    if report.answer_accuracy is not None:
        a = report.abstention
        lines += [
            "",
            f"answer accuracy: {report.answer_accuracy:.3f}",
            f"abstention: precision {a['precision']:.3f}, recall {a['recall']:.3f} "
            f"({a['unanswerable_abstained']}/{a['unanswerable']} unanswerable abstained, "
            f"{a['answerable_abstained']} answerable abstained)",
        ]
    if not misses:
        return "\n".join(lines)
    for m in report.modes.values():
        for miss in m.misses:
            lines.append(f"miss [{m.mode}] {miss['id']} rank={miss['rank']}: {miss['question']}")
    for miss in report.answer_misses:
        lines.append(f"answer miss {miss['id']} ({miss['why']}): {miss['question']} → {miss['answer']}")
    return "\n".join(lines)


def plot(report: Report, path: Path) -> None:
    """Recall@k per mode as a PNG (needs matplotlib, installed with the dev tools)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for m in report.modes.values():
        ax.plot(KS, [m.recall[k] for k in KS], marker="o", label=f"{m.mode} (MRR@10 {m.mrr10:.2f})")
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_xticks(KS)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(f"Retrieval recall@k ({report.answerable} answerable questions)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --- JSQuAD: an external benchmark written by people outside the project -----------------------------
JSQUAD_SEP = " [SEP] "


@dataclass(frozen=True)
class JsquadQuestion:
    id: str
    question: str
    evidence: str  # the paragraph text around the gold answer, as the library stores text
    answers: tuple[str, ...]  # any of them inside the answer counts


_SENTENCE_END = re.compile(r"[。！？!?\n]")


def jsquad_corpus(path: Path) -> tuple[list[tuple[str, str]], list[JsquadQuestion]]:
    """Each article as one Markdown document (title heading, paragraphs in order), and every question.

    The evidence of a question is the gold answer with 12 characters either side, clipped to its sentence
    and normalised as ingest normalises text, so "is it in the hit?" reads the same text the store holds.
    Chunks are cut at sentence ends (ingest.chunk), so a window reaching into the sentence before or after
    measured where a chunk happened to end, not whether search found the passage: on the JSQuAD tuning sample
    it counted 7 of 500 top-ranked chunks that hold the answer in its sentence as misses (R@1 0.906 clipped to
    the paragraph, 0.920 to the sentence)."""
    from basics.jatext import normalize

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    documents, questions = [], []
    for n, article in enumerate(data["data"], start=1):
        paragraphs = []
        for para in article["paragraphs"]:
            context = para["context"]
            prefix = context.index(JSQUAD_SEP) + len(JSQUAD_SEP) if JSQUAD_SEP in context else 0
            body = context[prefix:]
            paragraphs.append(body)
            for qa in para["qas"]:
                gold = qa["answers"][0]
                start = gold["answer_start"] - prefix
                if start < 0 or body[start : start + len(gold["text"])] != gold["text"]:
                    continue  # an offset into the title: no paragraph text to find
                end = start + len(gold["text"])
                first = max((m.end() for m in _SENTENCE_END.finditer(body, 0, start)), default=0)
                last = _SENTENCE_END.search(body, max(start, end - 1))
                window = body[max(first, start - 12) : min(last.end() if last else len(body), end + 12)]
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(JsquadQuestion(qa["id"], qa["question"], normalize(window), answers))
        text = f"# {article['title']}\n\n" + "\n\n".join(paragraphs) + "\n"
        documents.append((f"jsquad-{n:02d}.md", text))
    return documents, questions


def jsquad_split(questions: list[JsquadQuestion], n: int, part: str = "report", seed: int = 13):
    """A fixed random sample: "report" (the figures published) or "tuning" (the next n, for looking at
    failures while developing). The two never share a question."""
    import random

    shuffled = sorted(questions, key=lambda q: q.id)
    random.Random(seed).shuffle(shuffled)
    return shuffled[:n] if part == "report" else shuffled[n : 2 * n]


@dataclass
class JsquadReport:
    questions: int
    retrieval: dict[str, dict[str, float]]  # mode → recall@1, recall@5, MRR@10
    containment: float  # a gold answer inside the answer text
    first_line: float  # … inside its first line
    median_chars: float  # answer length without citation markers
    abstained: float
    misses: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def _answer_body(text: str) -> str:
    import re

    return re.sub(r"\s*\[\d+\]", "", text)


def evaluate_jsquad(service, questions: list[JsquadQuestion], modes=("hybrid", "keyword", "baseline")) -> JsquadReport:
    """Retrieval per mode (is the paragraph text around the gold answer in the hit?) and answers end to end."""
    import statistics

    baseline = service.tutorial_baseline() if "baseline" in modes else None
    retrieval = {}
    for mode in modes:
        ranks = []
        for q in questions:
            texts = (
                baseline.texts(q.question, 10)
                if mode == "baseline"
                else [h.chunk.text for h in service.search(q.question, k=10, mode=mode)]
            )
            ranks.append(first_hit_rank(texts, [q.evidence]))
        recall, mrr = retrieval_scores(ranks)
        retrieval[mode] = {"recall@1": recall[1], "recall@5": recall[5], "mrr@10": mrr}
    contained = first = abstained = 0
    lengths, misses = [], []
    for q in questions:
        answer = service.ask(q.question)
        body = _answer_body(answer.text)
        lines = body.splitlines() or [""]
        hit = not answer.abstained and any(squash(a) in squash(body) for a in q.answers)
        contained += hit
        first += not answer.abstained and any(squash(a) in squash(lines[0]) for a in q.answers)
        abstained += answer.abstained
        if not answer.abstained:
            lengths.append(len(body))
        if not hit:
            misses.append({"id": q.id, "question": q.question, "gold": q.answers[0], "answer": body[:120]})
    n = max(1, len(questions))
    return JsquadReport(
        len(questions),
        retrieval,
        contained / n,
        first / n,
        statistics.median(lengths) if lengths else 0.0,
        abstained / n,
        misses,
    )


def format_jsquad(report: JsquadReport, misses: bool = False) -> str:
    lines = [f"JSQuAD: {report.questions} questions", "", "| mode | R@1 | R@5 | MRR@10 |", "|---|---|---|---|"]
    for mode, r in report.retrieval.items():
        lines.append(f"| {mode} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | {r['mrr@10']:.3f} |")
    lines += [
        "",
        f"answer containment {report.containment:.3f}, first line {report.first_line:.3f}, "
        f"median answer {report.median_chars:.0f} characters, abstained {report.abstained:.3f}",
    ]
    if misses:
        lines += [f"miss {m['id']}: {m['question']} [{m['gold']}] → {m['answer']}" for m in report.misses]
    return "\n".join(lines)


def jsquad_service(settings, store_dir: Path, embedder=None, say=print):
    """A service on its own store holding the JSQuAD articles (ingested once: a store that already holds
    them is reused, so repeated evaluations do not embed the articles again)."""
    from dataclasses import replace

    from policyqa.service import Service, Upload

    service = Service(replace(settings, data_dir=Path(store_dir), read_only=False), embedder)
    documents, _ = jsquad_corpus(settings.jsquad_path)
    if len(service.documents()) < len(documents):
        say(f"ingesting {len(documents)} JSQuAD articles into {store_dir} (once)…")
        uploads = [Upload(name, data=text.encode("utf-8")) for name, text in documents]
        failed = [r for r in service.ingest(uploads) if r.status == "failed"]
        if failed:
            raise RuntimeError(f"JSQuAD articles not ingested: {failed}")
    return service
