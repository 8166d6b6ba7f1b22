"""Evaluation stores: the project's text corpora rendered to PDF and ingested through the service."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from policyqa.service import Service, Upload
from policyqa.settings import Settings
from policyqa.testing.pdfgen import render_text_document


def text_corpus_uploads(folder: Path) -> list[Upload]:
    """Each `*.txt` of the evaluation text format (see pdfgen.parse_text_document) as a generated PDF."""
    return [
        Upload(p.stem + ".pdf", data=render_text_document(p.read_text("utf-8"))) for p in sorted(folder.glob("*.txt"))
    ]


def ingest_all(service: Service, uploads: Iterable[Upload]) -> None:
    """Ingest and insist that every file was added (an evaluation store must be complete)."""
    for result in service.ingest(uploads):
        if result.status != "added":
            raise RuntimeError(f"evaluation corpus file not added: {result}")


def build_eval_store(data_dir: Path, embedder, corpus_dir: Path, sample_pdf: Path) -> Service:
    """A service on a new store in `data_dir`: every text of `corpus_dir` rendered to PDF, plus `sample_pdf`."""
    service = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(data_dir)}), embedder)
    ingest_all(service, [*text_corpus_uploads(corpus_dir), Upload(sample_pdf.name, path=sample_pdf)])
    return service
