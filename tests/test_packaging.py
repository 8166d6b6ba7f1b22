"""The wheel, installed into a fresh virtual environment, works away from the checkout.

The wheel is built offline from a copy of the sources (`pip wheel --no-deps --no-build-isolation`, setuptools
from the project's venv), installed with `--no-deps` into a new venv in tmp_path, and that venv sees the
project venv's site-packages only for third-party dependencies, through a `.pth` line: the `.pth` files there
(the editable install's finder among them) are not processed for a directory added that way, so every project
module comes from the wheel. Commands run with the working directory in tmp_path, not in the checkout.
A generated answer proves that prompts/ ships in the wheel (answer/llm.py reads it with importlib.resources).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import ROOT, FakeLLM, fake_llm_server

from policyqa.testing.pdfgen import sample_guideline

pytestmark = pytest.mark.slow

PROJECT_PACKAGES = ("policyqa", "basics", "ingest", "index", "answer", "prompts")
QUESTION = "審査結果は何日以内に通知されますか？"


def _copy_sources(dest: Path) -> Path:
    """What a build reads, copied (so the build writes nothing into the checkout): top-level tests, scripts,
    samples, virtual environments and build output are left behind."""
    top_skip = {"tests", "bench", "eval", "views", "samples", "data", "build", "dist"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n.startswith(".") or n == "__pycache__" or n.endswith(".egg-info")}
        return skip | (top_skip & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding the policyqa wheel, with the project's third-party dependencies visible."""
    tmp = tmp_path_factory.mktemp("packaging")
    src = _copy_sources(tmp / "src")
    pip = [sys.executable, "-m", "pip"]
    # --no-index: the build must not need the network (the backend is the venv's setuptools)
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp / "dist"), str(src)], tmp)
    (wheel,) = (tmp / "dist").glob("policyqa-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    python = venv / "bin" / "python"
    _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], tmp)
    new_site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).stdout.strip()
    )
    (new_site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    return {
        **env,
        "POLICYQA_DATA_DIR": str(tmp_path / "data"),
        "POLICYQA_CACHE_DIR": str(tmp_path / "cache"),
        "POLICYQA_EMBED_MODEL": "policyqa-hash",
        **extra,
    }


def test_project_modules_come_from_the_wheel(installed, tmp_path):
    code = (
        "import json, importlib, importlib.resources as r\n"
        f"mods = {{m: importlib.import_module(m).__file__ for m in {PROJECT_PACKAGES!r}}}\n"
        "mods['prompt'] = str(r.files('prompts').joinpath('answer_ja.txt'))\n"
        "import click, sys; mods['click'] = click.__file__\n"
        "mods['editable'] = sorted(m for m in sys.modules if m.startswith('__editable__'))\n"
        "print(json.dumps(mods))"
    )
    out = _run([str(installed / "bin" / "python"), "-c", code], tmp_path, _env(tmp_path))
    files = json.loads(out.stdout)
    venv = str(installed.resolve())
    for name in (*PROJECT_PACKAGES, "prompt"):
        assert files[name] and files[name].startswith(venv), (name, files[name])
        assert not files[name].startswith(str(ROOT) + os.sep), (name, files[name])
    assert files["click"].startswith(sysconfig.get_paths()["purelib"])  # third party: the project venv's
    assert files["editable"] == []  # the checkout's editable finder was never activated


def test_installed_command_ingests_and_answers_with_a_generated_answer(installed, tmp_path):
    policyqa = str(installed / "bin" / "policyqa")
    env = _env(tmp_path)

    help_text = _run([policyqa, "--help"], tmp_path, env).stdout
    assert "ingest" in help_text and "ask" in help_text and "sources" in help_text

    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(sample_guideline())
    ingested = _run([policyqa, "ingest", str(pdf)], tmp_path, env, timeout=120).stdout
    assert "✓ guide.pdf: added" in ingested

    with fake_llm_server("correct") as url:
        env_llm = {**env, "POLICYQA_LLM_URL": url, "POLICYQA_LLM_TIMEOUT": "30"}
        out = _run([policyqa, "ask", QUESTION, "--json"], tmp_path, env_llm, timeout=120)
        requests = list(FakeLLM.requests)
    answer = json.loads(out.stdout)
    assert requests, "the installed command never called the model"
    assert answer["note"] == "" and not answer["abstained"], answer  # the model's answer, not a fallback
    assert "申請書類の受付から60日以内に通知されます" in answer["answer"]
    assert answer["citations"] and "60日以内" in answer["citations"][0]["quote"]
    system = requests[-1]["messages"][0]["content"]
    assert system == (ROOT / "prompts" / "answer_ja.txt").read_text(encoding="utf-8")  # read from the wheel
