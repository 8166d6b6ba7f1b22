"""Quick latency figures for the issue notes: sample ingest, search and ask medians (model loaded).

Usage: .venv/bin/python bench/quick.py [QUESTIONS.jsonl]   (default: the shared dev set, Settings.dev_qa_path)
Not a timed test: prints medians from one run on this machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from policyqa.service import Service, Upload, load_embedder
from policyqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"


def main() -> None:
    qa = Path(sys.argv[1]) if len(sys.argv) > 1 else Settings.from_env().dev_qa_path
    questions = [json.loads(x)["question"] for x in qa.read_text(encoding="utf-8").splitlines() if x.strip()]
    t = time.perf_counter()
    embedder = load_embedder(Settings.from_env())
    print(f"model load: {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Settings.from_env({"POLICYQA_DATA_DIR": tmp}), embedder)
        t = time.perf_counter()
        (result,) = service.ingest([Upload(SAMPLE.name, path=SAMPLE)])
        print(f"ingest sample: {time.perf_counter() - t:.1f} s ({result.pages} pages, {result.chunks} chunks)")
        service.search("warm up", k=10)
        qs = (questions * 3)[:20]
        search, answer = [], []
        for q in qs:
            t = time.perf_counter()
            service.search(q, k=10)
            search.append((time.perf_counter() - t) * 1000)
        for q in qs:
            t = time.perf_counter()
            service.ask(q)
            answer.append((time.perf_counter() - t) * 1000)
        print(f"search median of {len(qs)}: {statistics.median(search):.0f} ms (max {max(search):.0f})")
        print(f"ask median of {len(qs)}: {statistics.median(answer):.0f} ms (max {max(answer):.0f})")


if __name__ == "__main__":
    main()
