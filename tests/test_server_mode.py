"""Shared server mode for real: a `chroma run` server on loopback, one ingest writer, two reader processes,
and a server restart after which everything is still found."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import POLICYQA

from policyqa.testing.pdfgen import long_pdf, sample_guideline

CHROMA = str(Path(sys.executable).with_name("chroma"))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(path, port):
    proc = subprocess.Popen(
        [CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("chroma server did not start")


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    state = {"proc": _start(tmp_path / "chroma", port), "port": port, "path": tmp_path / "chroma"}
    yield state
    state["proc"].terminate()
    state["proc"].wait(timeout=20)


def _cli(tmp_path, port, *args):
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(tmp_path / "local"),
        "POLICYQA_EMBED_MODEL": "policyqa-hash",
        "POLICYQA_CHROMA_URL": f"http://127.0.0.1:{port}",
    }
    return subprocess.Popen([POLICYQA, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run(tmp_path, port, *args):
    proc = _cli(tmp_path, port, *args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def test_ingest_and_answer_through_a_chroma_server_survive_a_restart(tmp_path, server):
    port = server["port"]
    (tmp_path / "g.pdf").write_bytes(sample_guideline())
    (tmp_path / "long.pdf").write_bytes(long_pdf(60, "規程"))
    _run(tmp_path, port, "ingest", str(tmp_path / "g.pdf"), str(tmp_path / "long.pdf"))
    assert not (tmp_path / "local" / "chroma").exists()  # nothing went to a local store

    readers = [_cli(tmp_path, port, "ask", "審査結果は何日以内に通知されますか？", "--json") for _ in range(2)]
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        answer = json.loads(out)
        assert not answer["abstained"] and any("60日以内" in c["quote"] for c in answer["citations"]), err

    server["proc"].terminate()
    server["proc"].wait(timeout=20)
    server["proc"] = _start(server["path"], port)
    listed = json.loads(_run(tmp_path, port, "sources", "--json"))
    assert {r["source"]: r["chunk_count"] for r in listed} == {"g.pdf": 5, "long.pdf": 60}
    for query, expected in (("審査結果の通知", "60日以内"), ("規程の第42条", "第42番目")):
        hits = json.loads(_run(tmp_path, port, "search", query, "--k", "3", "--json"))
        assert any(expected in h["text"] for h in hits), query
