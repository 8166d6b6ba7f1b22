"""OCR of scanned pages: character error rate, seconds per page and (with --recall) the dev questions' recall
when the sample report is ingested as a scan.

Usage: .venv/bin/python bench/ocr.py [--pages 1,5] [--dpi 200] [--recall]
The scan is the sample report rendered page by page to greyscale JPEG pages (no text layer), the known text
is the text PDF's own text layer (policyqa/testing/ocrbench.py). Writes bench/results/ocr.md and ocr.json.
Figures, not a test; run it with `nice` on a shared machine and say so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from policyqa.evaluate import evaluate, load_questions
from policyqa.service import Service, Upload, load_embedder
from policyqa.settings import Settings
from policyqa.testing.ocrbench import score_scan
from policyqa.testing.pdfgen import scan_copy

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
SAMPLE = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"


def recall(settings: Settings, data: bytes, name: str, embedder) -> dict:
    """Dev-set retrieval over a store holding only `data` (the sample, as text PDF or as scan)."""
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Settings.from_env({**os.environ, "POLICYQA_DATA_DIR": tmp}), embedder)
        result = next(service.ingest([Upload(name, data=data)]))
        assert result.status == "added", result
        report = evaluate(service, load_questions(settings.dev_qa_path), modes=("hybrid", "dense", "keyword"))
    return {mode: {"r1": m.recall[1], "r5": m.recall[5], "mrr": m.mrr10} for mode, m in report.modes.items()} | {
        "accuracy": report.answer_accuracy,
        "chunks": result.chunks,
        "skipped": [f"{s.number} ({s.reason})" for s in result.skipped],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", default="", help="Comma-separated page numbers (default: all).")
    ap.add_argument("--dpi", type=int, default=200, help="Resolution of the scan copy.")
    ap.add_argument("--recall", action="store_true", help="Also ingest text PDF and scan with the real model.")
    args = ap.parse_args()
    text_pdf = SAMPLE.read_bytes()
    scan = scan_copy(text_pdf, dpi=args.dpi)
    pages = [int(p) for p in args.pages.split(",") if p] or None
    scores = score_scan(text_pdf, scan, pages)
    chars, edits, unordered = (sum(getattr(s, f) for s in scores) for f in ("chars", "edits", "unordered_edits"))
    prose = [s for s in scores if not s.table]
    result = {
        "dpi": args.dpi,
        "cpus": os.cpu_count(),
        "pages": [s.__dict__ | {"cer": s.cer, "unordered_cer": s.unordered_cer} for s in scores],
        "cer": edits / chars,
        "unordered_cer": unordered / chars,
        "prose_cer": sum(s.edits for s in prose) / max(sum(s.chars for s in prose), 1),
        "seconds_per_page_median": statistics.median(s.seconds for s in scores),
        "seconds_per_page_max": max(s.seconds for s in scores),
        "cpu_seconds_per_page_median": statistics.median(s.cpu_seconds for s in scores),
        "load_average": os.getloadavg(),  # other work on the machine while this ran
    }
    if args.recall:
        settings = Settings.from_env()
        embedder = load_embedder(settings)
        result["recall"] = {
            "text": recall(settings, text_pdf, SAMPLE.name, embedder),
            "scan": recall(settings, scan, "scan-" + SAMPLE.name, embedder),
        }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ocr.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (OUT / "ocr.md").write_text(report(result), encoding="utf-8")
    print(report(result))


def report(r: dict) -> str:
    lines = [
        f"# OCR of the sample report as a scan ({r['dpi']} dpi greyscale JPEG pages, {r['cpus']} CPU cores)",
        "",
        f"Character error rate: **{r['cer']:.2%}** in reading order, **{r['unordered_cer']:.2%}** with the order "
        f"of lines taken out; pages without tables {r['prose_cer']:.2%}. Seconds per page: median "
        f"{r['seconds_per_page_median']:.1f}, max {r['seconds_per_page_max']:.1f} (wall clock, load average "
        f"{r['load_average'][0]:.1f} at the end); CPU seconds per page, median {r['cpu_seconds_per_page_median']:.1f}.",
        "",
        "| page | characters | CER | CER, line order out | table | seconds | CPU seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in r["pages"]:
        lines.append(
            f"| {p['page']} | {p['chars']} | {p['cer']:.2%} | {p['unordered_cer']:.2%} | "
            f"{'yes' if p['table'] else ''} | {p['seconds']:.1f} | {p['cpu_seconds']:.1f} |"
        )
    if "recall" in r:
        lines += ["", "| ingested as | mode | recall@1 | recall@5 | MRR@10 |", "|---|---|---|---|---|"]
        for kind, rec in r["recall"].items():
            for mode in ("hybrid", "dense", "keyword"):
                m = rec[mode]
                lines.append(f"| {kind} | {mode} | {m['r1']:.3f} | {m['r5']:.3f} | {m['mrr']:.3f} |")
        lines.append("")
        for kind, rec in r["recall"].items():
            lines.append(
                f"- {kind}: {rec['chunks']} chunks, answer accuracy {rec['accuracy']:.3f}, "
                f"skipped pages: {', '.join(rec['skipped']) or 'none'}"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
