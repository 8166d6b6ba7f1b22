"""The real local answer model (`make llm`): three sample questions answered with verified citations.

Runs when `make llm` has provisioned this machine (.venv-llm and the GGUF in the cache); skipped otherwise,
because building llama-cpp-python takes about ten minutes and the model is 1.1 GB. The test starts the
OpenAI-compatible server itself on a free loopback port, exactly as `make llm` does.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request

import pytest
from helpers import ROOT

from answer.llm import LLMConfig
from answer.local_model import gguf_path
from answer.pipeline import LLM_PASSAGES, ask
from answer.types import NOT_FOUND
from policyqa.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.llm]
LLM_PYTHON = ROOT / ".venv-llm" / "bin" / "python"
QUESTIONS = [  # from the shared dev set: (question, answer key)
    ("2010年度の識者委員 more trees の事務局長は誰ですか？", "水谷"),
    ("東京都気候変動対策方針が策定されたのはいつですか？", "2007"),
    ("東京都の目標で家庭部門は何％削減する計画ですか？", "20%"),
]


@pytest.fixture(scope="module")
def llm_server():
    model = gguf_path(Settings.from_env().cache_dir)
    if not LLM_PYTHON.exists() or not model.exists():
        pytest.skip("the local answer model is not provisioned here (run `make llm` once)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [str(LLM_PYTHON), "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "local"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the llama-cpp-python server did not start")
                time.sleep(1)
        yield LLMConfig(url, "local", None, 600)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("question,key", QUESTIONS)
def test_real_model_answers_with_verified_citations(sample_runtime, llm_server, question, key):
    raw: list[str] = []
    answer = ask(
        sample_runtime.searcher,
        question,
        min_similarity=sample_runtime.min_similarity,
        llm=llm_server,
        on_token=raw.append,
    )
    text = "".join(raw)
    assert text and NOT_FOUND not in text, "the model answered"
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert marks and all(1 <= n <= LLM_PASSAGES for n in marks), text
    assert "そのまま示します" not in (answer.note or ""), f"fell back to the extractive answer: {text}"
    assert key in answer.text and answer.citations, answer
    for citation in answer.citations:  # built from stored metadata, quoting the passage exactly
        assert citation.quote.split(" … ")[0] in citation.passage
