"""Median time from question to answer in the app (Streamlit AppTest, model and store already loaded).

Usage: POLICYQA_DATA_DIR=data .venv/bin/python bench/app_latency.py [QUESTIONS.jsonl]
(default: the shared dev set, Settings.dev_qa_path).
Each question is one full script run, as in the browser: the page re-renders the whole conversation.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from policyqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    qa = Path(sys.argv[1]) if len(sys.argv) > 1 else Settings.from_env().dev_qa_path
    questions = [json.loads(x)["question"] for x in qa.read_text(encoding="utf-8").splitlines() if x.strip()]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    t = time.perf_counter()
    at.run()
    print(f"first run (loads model and store): {time.perf_counter() - t:.1f} s")
    times = []
    for q in questions:
        t = time.perf_counter()
        at.chat_input[0].set_value(q).run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    print(f"question → answer, median of {len(times)}: {statistics.median(times):.2f} s (max {max(times):.2f} s)")


if __name__ == "__main__":
    main()
