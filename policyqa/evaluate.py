"""The evaluation harness: retrieval and answer quality over the current store, per retrieval mode.

Input lines: {"id", "question", "evidence": [...], "answer_keys": [...], "answerable": true|false,
"history": [...] (optional earlier questions, for follow-ups)}. A retrieved passage is a hit when it
contains any evidence string after NFKC and whitespace removal. Modes: dense, keyword, hybrid, and a
"tutorial" baseline built on the fly from the same stored files and model: raw page text in fixed
1,000-character windows with 200 overlap, dense only, top-k by cosine.
"""

from __future__ import annotations

import json
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
        )
        for r in rows
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


def contains_evidence(text: str, evidence: list[str]) -> bool:
    body = squash(text)
    return any(squash(e) and squash(e) in body for e in evidence)


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
    for q in questions:
        answer = service.ask(q.question, q.history)
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


def format_report(report: Report) -> str:
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
