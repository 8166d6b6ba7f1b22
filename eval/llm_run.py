"""Generated answers from a local model, measured on the shared dev set (issue: optional generated answers).

Usage: start the model (`make llm`), then
    .venv/bin/python eval/llm_run.py [--url http://127.0.0.1:8080/v1] [--questions QA.jsonl]
Ingests the bundled sample report into a temporary store, asks every question through the same pipeline as
the app (passages → model → citation check → extractive fallback), and writes eval/llm_results.md: per
question the outcome, whether the shown answer holds the answer keys, the citations the model emitted and
how many named a passage it was given, time to first token and total time. Figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from basics.jatext import squash
from policyqa.evaluate import load_questions
from policyqa.service import LLM_PASSAGES, NOT_FOUND, Service, Upload, load_embedder
from policyqa.settings import Settings
from policyqa.testing.corpus import ingest_all

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"
_MARK = re.compile(r"\[(\d+)\]")


def run_one(service: Service, q) -> dict:
    raw: list[str] = []
    first: list[float] = []
    t0 = time.perf_counter()

    def on_token(token: str) -> None:
        if not first:
            first.append(time.perf_counter() - t0)
        raw.append(token)

    answer = service.ask(q.question, list(q.history), on_token=on_token)
    total = time.perf_counter() - t0
    text = "".join(raw)
    given = min(LLM_PASSAGES, len(service.search(service.search_query(q.question, q.history), k=10)))
    marks = [int(n) for n in _MARK.findall(text)]
    if not text:
        why = answer.note or "no passage close enough"
        outcome = f"abstained before the model ({why})" if answer.abstained else "no model output"
    elif NOT_FOUND in text:
        outcome = "model declined; extractive sentences shown" if not answer.abstained else "model declined"
    elif "そのまま示します" in (answer.note or ""):
        outcome = "extractive fallback (" + answer.note.split("。")[0] + ")"
    else:
        outcome = "generated, verified" + (f" ({answer.note})" if answer.note else "")
    keys = bool(q.answer_keys) and all(squash(k) in squash(answer.text) for k in q.answer_keys)
    return {
        "id": q.id,
        "answerable": q.answerable,
        "outcome": outcome,
        "keys": keys,
        "raw_keys": bool(q.answer_keys) and all(squash(k) in squash(text) for k in q.answer_keys),
        "citations": len(marks),
        "valid_citations": sum(1 <= n <= given for n in marks),
        "ttft_s": first[0] if first else None,
        "total_s": total,
        "raw": text,
        "shown": answer.text,
    }


def forced_decline(service: Service, q) -> str:
    """What the model itself says to an unanswerable question when it is given the passages anyway."""
    return "".join(service.model_reply(q.question, k=LLM_PASSAGES))


def main() -> None:
    ap = argparse.ArgumentParser()
    settings = Settings.from_env()
    ap.add_argument("--url", default=settings.llm_url or "http://127.0.0.1:8080/v1")
    ap.add_argument("--questions", type=Path, default=settings.dev_qa_path)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "llm_results.md")
    args = ap.parse_args()
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        # the endpoint through the settings, as the app and the CLI take it (model name "local")
        env = {"POLICYQA_DATA_DIR": tmp, "POLICYQA_LLM_URL": args.url, "POLICYQA_LLM_TIMEOUT": str(args.timeout)}
        service = Service(Settings.from_env(env), load_embedder(settings))
        ingest_all(service, [Upload(SAMPLE.name, path=SAMPLE)])
        rows = []
        for q in questions:
            rows.append(run_one(service, q))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "shown"}, ensure_ascii=False), flush=True)
        declines = [(q.id, forced_decline(service, q)) for q in questions if not q.answerable]
    write(rows, declines, args.out)


def write(rows: list[dict], declines, out: Path) -> None:
    answerable = [r for r in rows if r["answerable"]]
    emitted = sum(r["citations"] for r in rows)
    valid = sum(r["valid_citations"] for r in rows)
    ttft = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
    total = [r["total_s"] for r in rows if r["ttft_s"] is not None]
    lines = [
        "# Generated answers with the local model (make llm)",
        "",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M, llama-cpp-python 0.3.36 server on 127.0.0.1, 2 CPU cores; the bundled",
        f"sample report; top {LLM_PASSAGES} passages given to the model. Written by `eval/llm_run.py`.",
        "",
        f"- Shown answer contains the answer keys: **{sum(r['keys'] for r in answerable)}/{len(answerable)}** "
        f"answerable questions (the model's own text: {sum(r['raw_keys'] for r in answerable)}/{len(answerable)}).",
        f"- Citations emitted by the model: {emitted}, naming a passage it was given: {valid} "
        f"(**{100 * valid / emitted if emitted else 100:.0f} %**).",
        "- Unanswerable: "
        + "; ".join(f"{r['id']} {r['outcome']}" for r in rows if not r["answerable"])
        + ". Given the passages anyway, the model replied: "
        + "; ".join(f"{i}: {t.strip()[:80]!r}" for i, t in declines),
        f"- Time to first token median {statistics.median(ttft):.1f} s (max {max(ttft):.1f}); total median "
        f"{statistics.median(total):.1f} s (max {max(total):.1f}), {len(ttft)} questions that reached the model."
        if ttft
        else "- No question reached the model.",
        "",
        "| id | outcome | keys in shown answer | citations valid/emitted | TTFT s | total s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ttft_s = f"{r['ttft_s']:.1f}" if r["ttft_s"] is not None else "–"
        keys = ("yes" if r["keys"] else "no") if r["answerable"] else "–"
        lines.append(
            f"| {r['id']} | {r['outcome']} | {keys} | {r['valid_citations']}/{r['citations']} | {ttft_s} | "
            f"{r['total_s']:.1f} |"
        )
    lines += ["", "## Answers as shown", ""]
    for r in rows:
        lines += [f"**{r['id']}** {r['shown'].strip()[:300]}".replace("\n", " "), ""]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:12]))


if __name__ == "__main__":
    main()
