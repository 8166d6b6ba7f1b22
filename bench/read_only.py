"""What serving a store from a read-only mount costs: copy-on-open against opening a writable store in place.

Usage (root: it bind-mounts the store read-only): .venv/bin/python bench/read_only.py [--sizes 20000 100000]
For the sample report and synthetic stores of each size (768-dimension vectors, as EmbeddingGemma's; chunks mixed
from the sample's, as in bench/run.py), each in a fresh process: the time to list the documents (Chroma opened,
for a read-only mount after copying its Chroma folder to TMPDIR) and to the first search, in place and through
a read-only bind mount; the bytes copied. The writable store is opened once before it is measured: its first
open applies Chroma's log and writes the keyword segments, which a published store has done already.
Writes bench/results/read_only.md. Figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from policyqa.service import Service, Upload
from policyqa.settings import Settings
from policyqa.testing.store_bytes import WIDE_EMBEDDER, build_store, folder_bytes

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"
OUT = ROOT / "bench" / "results" / "read_only.md"


def service(data: Path, read_only: bool = False) -> Service:
    env = {"POLICYQA_DATA_DIR": str(data), **({"POLICYQA_READ_ONLY": "1"} if read_only else {})}
    return Service(Settings.from_env(env), WIDE_EMBEDDER)


def build(data: Path, size: int | None) -> None:
    rt = service(data)
    if size is None:
        list(rt.ingest([Upload(SAMPLE.name, SAMPLE.read_bytes())]))
        return
    build_store(data, size, SAMPLE)


def measure(data: Path) -> dict:
    """In this (fresh) process: seconds to list the documents, then to the first search's result."""
    t0 = time.perf_counter()
    rt = service(data, read_only=True)
    n = len(rt.documents())
    t1 = time.perf_counter()
    hits = rt.search("カーボン・オフセットの認証", k=5)
    t2 = time.perf_counter()
    return {"documents": n, "list_s": t1 - t0, "search_s": t2 - t1, "hits": len(hits)}


def in_fresh_process(data: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", str(data)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(label: str, size: int | None) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="policyqa-bench-ro-"))
    try:
        data, ro = tmp / "data", tmp / "ro"
        build(data, size)
        chroma_mb = folder_bytes(data / "chroma") / 1e6
        t0 = time.perf_counter()
        shutil.copytree(data / "chroma", tmp / "copy", copy_function=shutil.copyfile)  # what copy-on-open adds
        copy_s = time.perf_counter() - t0
        shutil.rmtree(tmp / "copy")
        in_fresh_process(data)  # the first open applies Chroma's log and writes the keyword segments: once per store
        writable = in_fresh_process(data)
        ro.mkdir()
        subprocess.run(["mount", "--bind", str(data), str(ro)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
            mounted = in_fresh_process(ro)
        finally:
            subprocess.run(["umount", "-l", str(ro)], check=True)
        assert mounted["hits"] == writable["hits"] and mounted["documents"] == writable["documents"]
        return (
            f"| {label} | {chroma_mb:,.1f} | {copy_s:.2f} | {writable['list_s']:.2f} | {mounted['list_s']:.2f} | "
            f"{writable['search_s']:.2f} | {mounted['search_s']:.2f} |"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[20_000, 100_000])
    ap.add_argument("--measure", type=Path)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    lines = [
        "# Serving a store from a read-only mount (copy-on-open)",
        "",
        "| store | Chroma folder MB (copied) | copy alone s | list documents s, in place | …, read-only mount | "
        "first search s, in place | …, read-only mount |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, size in [("sample report (42 chunks)", None)] + [(f"{s:,} chunks", s) for s in args.sizes]:
        lines.append(row(label, size))
        print(lines[-1], flush=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
