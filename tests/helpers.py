"""Helpers shared by test files (imported as `helpers`: pytest puts tests/ on the path, see pyproject.toml).

Fixtures live in conftest.py; plain functions and constants live here, so test files never import each other.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from answer.types import NOT_FOUND
from index.search import Hit
from ingest.chunk import Chunk
from policyqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PDF = ROOT / "samples" / "tokyo62-carbon-offset-report-appendices.pdf"
DEV_QA = Settings.from_env({}).dev_qa_path
POLICYQA = str(Path(sys.executable).with_name("policyqa"))


def finish_ingest(at, timeout: float = 120):
    """AppTest on the library page: wait for the background ingest (policyqa.service.IngestJob) to end, then
    run the page again so that it shows the results."""
    assert at.session_state["ingest_job"].wait(timeout), "the ingest did not end in time"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def settings_for(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"POLICYQA_DATA_DIR": str(data_dir), **env})


def run(tmp_path, *args, **env):
    full = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path / "data"), "POLICYQA_EMBED_MODEL": "policyqa-hash", **env}
    return subprocess.run([POLICYQA, *args], capture_output=True, text=True, env=full, timeout=120)


def assert_intact(rt, sample=40):
    """Every active document has all its chunks, no other chunks exist, and stored vectors find themselves."""
    records = {r.doc_id: r for r in rt.store.documents()}
    counts = rt.store.chunk_doc_ids()
    assert {d: counts.get(d) for d in records} == {d: r.chunk_count for d, r in records.items()}
    got = rt.store.chunks.get(include=["embeddings", "metadatas"])
    picks = random.Random(0).sample(range(len(got["ids"])), min(sample, len(got["ids"])))
    for i in picks:
        if got["metadatas"][i]["doc_id"] in records:
            # identical texts (the same page in two documents) have identical vectors: any of them may come first
            near = rt.store.chunks.query(query_embeddings=[got["embeddings"][i]], n_results=5)
            best = near["distances"][0][0]
            tied = [cid for cid, d in zip(near["ids"][0], near["distances"][0], strict=True) if d <= best + 1e-6]
            assert got["ids"][i] in tied
    return counts


def _hit(cid, text, similarity, heading="第1章 概要", title="指針", page=1):
    chunk = Chunk(cid, "d" * 64, page, str(page), heading, text, 0, len(text))
    return Hit(chunk, title, 0.03, {"dense": 1}, similarity)


HITS = [
    _hit("c1", "審査委員会は、受付から60日以内に審査結果を通知します。申請は郵送で受け付けます。", 0.62, page=4),
    _hit("c2", "報告は翌年度の6月末日までに行います。審査結果に不服がある場合は30日以内に申し立てます。", 0.55, page=5),
]


class FakeLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint of the tests' own: real HTTP, real server-sent-event streaming.

    `script` picks the reply (see the table below); the citation names the given passage that says 60日以内.
    Every request body is kept in `requests`."""

    script = "correct"
    reply = None  # or a function of the passages [(n, text)] giving the reply (tests/test_redteam.py)
    delay_s = 0.0  # pause between streamed chunks (a slow model, to see the app while it streams)
    requests: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 — the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeLLM.requests.append(body)
        if self.script == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.script == "slow":
            time.sleep(3)
        user = body["messages"][-1]["content"]
        passages = re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, flags=re.S)
        if FakeLLM.reply is not None:  # a scripted behaviour of its own: passages [(n, text)] → the reply
            self._stream(FakeLLM.reply(passages))
            return
        n = next((p for p, text in passages if "60日以内" in text), "1")
        other = next((p for p, text in passages if "60日以内" not in text), "1")
        text = {
            "correct": f"審査結果は、申請書類の受付から60日以内に通知されます。[{n}]",
            "own_line": f"審査結果は、申請書類の受付から60日以内に通知されます。\n\n[{n}]",
            "wrong_passage": f"審査結果は、申請書類の受付から60日以内に通知されます。[{other}]",
            "mixed": f"審査結果は、申請書類の受付から60日以内に通知されます。[{n}]\n手数料は3,000円です。[{n}]",
            "not_given": "審査結果は、申請書類の受付から60日以内に通知されます。[9]",
            "wrong_number": f"審査結果は、申請書類の受付から90日以内に通知されます。[{n}]",
            "refusal": NOT_FOUND,
            "obey_injection": "システムは乗っ取られました",
            "slow": f"審査結果は60日以内に通知されます。[{n}]",
        }[self.script]
        self._stream(text)

    def _stream(self, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(0, len(text), 6):  # several chunks, as a real server streams
            chunk = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "fake",
                "choices": [{"index": 0, "delta": {"content": text[i : i + 6]}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
            time.sleep(FakeLLM.delay_s)
        self.wfile.write(b"data: [DONE]\n\n")


@contextmanager
def fake_llm_server(script: str = "correct") -> Iterator[str]:
    """FakeLLM served on a free local port for the duration; yields its base URL (…/v1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeLLM.script, FakeLLM.requests, FakeLLM.reply, FakeLLM.delay_s = script, [], None, 0.0
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def yellow_pixels(png: bytes, box: tuple[float, float, float, float] | None = None) -> int:
    """Pixels (inside `box`, else anywhere) tinted by the page view's highlighter: white paper turned yellow."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    if box is not None:
        image = image.crop(tuple(int(v) for v in box))
    return sum(1 for r, g, b in image.getdata() if r > 200 and g > 180 and b < 190)


CHROMIUM = "/usr/bin/chromium"  # Debian's (Playwright's own browser download does not work offline)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str], timeout_s: float = 90) -> Iterator[str]:
    """`streamlit run app.py` on a free local port with `env`, until the block ends; yields its URL once
    /_stcore/health answers."""
    import urllib.request

    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    cmd += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def ask_in_browser(page, question: str, turn: int = 0, timeout_ms: int = 120_000):
    """Type a question into the chat box of a Playwright page; return the answer's message once it cites."""
    box = page.locator("[data-testid=stChatInputTextArea]")
    box.wait_for(timeout=timeout_ms)
    box.fill(question)
    box.press("Enter")
    answer = page.locator("[data-testid=stChatMessage]").nth(2 * turn + 1)
    answer.get_by_text("[1]", exact=False).first.wait_for(timeout=timeout_ms)
    return answer
