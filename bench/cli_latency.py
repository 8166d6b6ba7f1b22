"""How long the light CLI commands take on a 100-document store: they must not load the embedding model.

Usage: .venv/bin/python bench/cli_latency.py   → bench/results/cli.md (medians of 5 runs of each command)
The store is filled with the model-free embedder (listing does not look at vectors); the commands then run
with the default settings, as an official would run them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICYQA = str(Path(sys.executable).with_name("policyqa"))
DOCUMENTS = 100


def timed(args: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run([POLICYQA, *args], env=env, capture_output=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for n in range(DOCUMENTS):
            (folder / f"doc{n:03d}.txt").write_text(f"第{n}章 規程\n第{n}条の本文です。" * 20, encoding="utf-8")
        env = {**os.environ, "POLICYQA_DATA_DIR": str(Path(tmp) / "data")}
        subprocess.run(
            [POLICYQA, "ingest", str(folder)], env={**env, "POLICYQA_EMBED_MODEL": "policyqa-hash"}, check=True
        )
        rows = []
        for args in (["--help"], ["sources"], ["sources", "--json"]):
            times = [timed(args, env) for _ in range(5)]
            rows.append(f"| `policyqa {' '.join(args)}` | {statistics.median(times):.2f} s | {max(times):.2f} s |")
    lines = [
        f"# Light CLI commands on a {DOCUMENTS}-document store (no model loaded)",
        "",
        "| command | median of 5 | max |",
        "|---|---|---|",
        *rows,
    ]
    out = ROOT / "bench" / "results" / "cli.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
