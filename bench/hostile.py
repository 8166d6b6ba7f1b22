"""Hostile sizes: reading, cleaning and chunking text files of 1, 10 and 40 MB (one line without a break, and
short lines), and ingesting thousands of identical chunks. These were quadratic (issue 14: a 40 MB one-line
.txt did not finish in 300 s; 2,500 identical chunks read 195,936 stored rows); the figures show they grow
linearly now: seconds per MB stay flat as the size grows.

Usage: .venv/bin/python bench/hostile.py   → bench/results/hostile.md and hostile.json
Each size runs in a fresh process, so its peak memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from policyqa.testing.bench import repeated_ingest_seconds

OUT = Path(__file__).resolve().parent / "results"
SIZES_MB = (1, 10, 40)
CHUNKS = (1000, 4000)


def one_size(kind: str, megabytes: int) -> dict:
    code = f"import json, policyqa.testing.bench as b; print(json.dumps(b.parse_seconds({kind!r}, {megabytes})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    rows = [one_size(kind, mb) for kind in ("one_line", "short_lines") for mb in SIZES_MB]
    repeated_ingest_seconds(100, False)  # warm up: imports and the first Chroma client are not the case's cost
    repeated = [
        {"chunks": n, "identical_s": repeated_ingest_seconds(n, True), "distinct_s": repeated_ingest_seconds(n, False)}
        for n in CHUNKS
    ]
    OUT.mkdir(exist_ok=True)
    (OUT / "hostile.json").write_text(json.dumps({"parse": rows, "repeated": repeated}, indent=1) + "\n")
    lines = [
        "# Hostile sizes (bench/hostile.py)",
        "",
        "Read + clean + chunk of one .txt, no embedding; each size in a fresh process (peak memory is its own).",
        "",
        "| text | MB | seconds | s per MB | chunks | peak memory MB |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['kind'].replace('_', ' ')} | {r['mb']} | {r['seconds']:.1f} | {r['seconds'] / r['mb']:.2f} | "
        f"{r['chunks']:,} | {r['peak_mb']:.0f} |"
        for r in rows
    ]
    lines += [
        "",
        "Ingest through the service with the model-free embedder: the same paragraph repeated vs all different.",
        "",
        "| chunks | identical s | distinct s | identical ÷ distinct |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['chunks']:,} | {r['identical_s']:.1f} | {r['distinct_s']:.1f} | {ratio:.2f} |"
        for r in repeated
        if (ratio := r["identical_s"] / r["distinct_s"])
    ]
    (OUT / "hostile.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
