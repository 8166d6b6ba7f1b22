"""Crashes and concurrency: SIGKILL during a long ingest, one writer at a time, readers that see new documents."""

import json
import os
import signal
import subprocess
import time

import pytest
from helpers import POLICYQA, assert_intact

from index.embedder import HashEmbedder
from policyqa.service import Service
from policyqa.settings import Settings
from policyqa.testing.pdfgen import long_pdf, sample_guideline


def _env(data):
    return {**os.environ, "POLICYQA_DATA_DIR": str(data), "POLICYQA_EMBED_MODEL": "policyqa-hash"}


def _cli(data, *args):
    return subprocess.run([POLICYQA, *args], env=_env(data), capture_output=True, text=True, timeout=300)


def _sources(data):
    return {r["source"]: r for r in json.loads(_cli(data, "sources", "--json").stdout)}


@pytest.mark.slow
def test_sigkill_at_several_stages_keeps_the_previous_version(tmp_path):
    data = tmp_path / "data"
    old, new = tmp_path / "old" / "guide.pdf", tmp_path / "new" / "guide.pdf"
    old.parent.mkdir(), new.parent.mkdir()
    old.write_bytes(long_pdf(20, "旧版"))
    new.write_bytes(long_pdf(1500, "新版"))
    assert _cli(data, "ingest", str(old)).returncode == 0
    old_id = _sources(data)["guide.pdf"]["doc_id"]

    t0 = time.monotonic()
    assert _cli(tmp_path / "scratch", "ingest", str(new)).returncode == 0
    full = time.monotonic() - t0
    for fraction in (0.15, 0.45, 0.7, 0.9):
        proc = subprocess.Popen(
            [POLICYQA, "ingest", str(new)], env=_env(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        time.sleep(full * fraction)
        if fraction == 0.7:  # a second writer meanwhile is refused with a clear message
            second = _cli(data, "ingest", "--wait", "0", str(old))
            if proc.poll() is None:
                assert second.returncode == 1 and "another ingest" in second.stderr
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        record = _sources(data)["guide.pdf"]
        if record["doc_id"] == old_id:  # killed before the switch-over: the old version answers
            hits = json.loads(_cli(data, "search", "旧版の規定その7", "--k", "3", "--json").stdout)
            assert hits and all(h["doc_id"] == old_id for h in hits)
            assert "旧版" in hits[0]["text"]
    assert _cli(data, "ingest", str(new)).returncode == 0  # re-running completes it
    rt = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(data)}), HashEmbedder())
    (record,) = rt.store.documents()
    assert record.chunk_count == 1500 and record.doc_id != old_id
    assert assert_intact(rt) == {record.doc_id: 1500}  # no orphan chunks left behind


def test_a_reader_process_sees_documents_ingested_by_another(tmp_path):
    data = tmp_path / "data"
    rt = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(data)}), HashEmbedder())
    (tmp_path / "g.pdf").write_bytes(sample_guideline())
    assert _cli(data, "ingest", str(tmp_path / "g.pdf")).returncode == 0
    assert "60日以内" in rt.searcher.search("審査結果は何日以内", k=1)[0].chunk.text
    (tmp_path / "m.txt").write_text("第1章 森林\n山里村の間伐面積は41ヘクタールでした。", encoding="utf-8")
    assert _cli(data, "ingest", str(tmp_path / "m.txt")).returncode == 0
    for mode in ("dense", "keyword", "hybrid"):
        hits = rt.searcher.search("山里村の間伐面積", k=3, mode=mode)
        assert hits and "41ヘクタール" in hits[0].chunk.text, mode
