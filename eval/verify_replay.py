"""Replay the local model's recorded answers (eval/llm_results.md) through the generated-answer checker.

The sample report is ingested with the default embedding model into a temporary store; each dev-set question's
recorded reply is checked against the passages `ask` gives the model. Prints one line per answer and a summary
(no model is called; minutes on 2 cores for the ingest).
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from policyqa.service import Service, Upload, load_embedder
from policyqa.settings import Settings
from policyqa.testing.support_set import replay

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"


def main() -> None:
    settings = Settings.from_env()
    recorded = dict(re.findall(r"^\*\*(d\d+)\*\* (.+)$", (HERE / "llm_results.md").read_text("utf-8"), flags=re.M))
    questions = {}
    for line in settings.dev_qa_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        questions[row["id"]] = row["question"]
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Settings.from_env({"POLICYQA_DATA_DIR": tmp}), load_embedder(settings))
        list(service.ingest([Upload(SAMPLE.name, path=SAMPLE)]))
        accepted, times = 0, []
        for qid, text in recorded.items():
            if "[" not in text:
                continue
            t0 = time.perf_counter()
            verdicts = replay(service, questions[qid], text)
            times.append(time.perf_counter() - t0)
            ok = bool(verdicts) and all(v.supported for v in verdicts)
            accepted += ok
            problems = "; ".join(p for v in verdicts for p in v.problems)
            print(f"{qid} {'accepted' if ok else 'REJECTED'} {text[:60]} {problems}")
        n = sum("[" in t for t in recorded.values())
        print(
            f"accepted {accepted}/{n} recorded answers; search, passages and check: median "
            f"{statistics.median(times):.2f} s"
        )


if __name__ == "__main__":
    main()
